import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectGitInfo, parseStatusV2 } from '../src/build.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function repo(): string {
  const d = mkdtempSync(join(tmpdir(), 'gh-gitinfo-'));
  dirs.push(d);
  git(d, 'init', '-q', '-b', 'trunk');
  return d;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.email=a@example.com', '-c', 'user.name=A', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

const noCi = { PATH: process.env.PATH };

describe('collectGitInfo', () => {
  it('is all null outside a repository and before the first commit', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'gh-gitinfo-'));
    dirs.push(outside);
    // A directory under /tmp may still be inside a work tree on some machines: only assert
    // when git agrees it is not.
    let inside = true;
    try {
      git(outside, 'rev-parse', '--show-toplevel');
    } catch {
      inside = false;
    }
    if (!inside)
      expect(await collectGitInfo(outside, noCi)).toEqual({
        commit: null,
        branch: null,
        dirty: null,
      });
    const unborn = repo();
    expect(await collectGitInfo(unborn, noCi)).toEqual({ commit: null, branch: null, dirty: null });
  });

  it('gives the commit, the branch and whether tracked files changed, as git does', async () => {
    const d = repo();
    writeFileSync(join(d, 'a.txt'), 'one\n');
    git(d, 'add', 'a.txt');
    git(d, 'commit', '-qm', 'one');
    const head = git(d, 'rev-parse', 'HEAD');
    expect(await collectGitInfo(d, noCi)).toEqual({ commit: head, branch: 'trunk', dirty: false });
    writeFileSync(join(d, 'untracked.txt'), 'new\n');
    expect((await collectGitInfo(d, noCi)).dirty).toBe(false);
    writeFileSync(join(d, 'a.txt'), 'two\n');
    expect((await collectGitInfo(d, noCi)).dirty).toBe(true);
    git(d, 'checkout', '-q', '--', 'a.txt');
    git(d, 'checkout', '-q', '--detach');
    expect(await collectGitInfo(d, noCi)).toEqual({ commit: head, branch: null, dirty: false });
    expect((await collectGitInfo(d, { ...noCi, GITHUB_HEAD_REF: 'feature/x' })).branch).toBe(
      'feature/x',
    );
  });

  it('names the forge from the origin remote', async () => {
    const d = repo();
    writeFileSync(join(d, 'a.txt'), 'one\n');
    git(d, 'add', 'a.txt');
    git(d, 'commit', '-qm', 'one');
    git(d, 'remote', 'add', 'origin', 'git@github.com:acme/shop.git');
    const info = await collectGitInfo(d, noCi);
    expect(info.source).toBeDefined();
    expect(JSON.stringify(info.source)).toContain('acme/shop');
  });
});

describe('parseStatusV2', () => {
  it('reads the headers and counts any entry line as a change', () => {
    const oid = 'a'.repeat(40);
    expect(parseStatusV2(`# branch.oid ${oid}\n# branch.head main\n`)).toEqual({
      commit: oid,
      head: 'main',
      dirty: false,
    });
    expect(
      parseStatusV2(
        `# branch.oid ${oid}\n# branch.head (detached)\n1 .M N... 100644 100644 100644 x y a.txt`,
      ),
    ).toEqual({ commit: oid, head: null, dirty: true });
    expect(parseStatusV2('# branch.oid (initial)\n# branch.head main')).toEqual({
      commit: null,
      head: 'main',
      dirty: false,
    });
    expect(parseStatusV2(null)).toEqual({ commit: null, head: null, dirty: null });
  });
});
