/**
 * What Gatehouse writes in the repository is no change for `--affected`, in a git repository
 * whose `.gitignore` lists none of it: the state of a run at the root and of a package's own
 * config (`packages/a/.gatehouse/`), and what CI jobs write between gates.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace } from '@gatehouse-ci/test-utils';
import { runCli } from './helpers.js';

const ENV = { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' };

let root = '';
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gh-affected-own-'));
  makeWorkspace(
    root,
    [
      { dir: 'packages/a', name: 'a' },
      { dir: 'packages/b', name: 'b', deps: ['a'] },
      { dir: 'packages/c', name: 'c' },
    ],
    {
      manager: 'npm',
      files: {
        'package-lock.json': '{"lockfileVersion":3,"packages":{}}\n',
        '.gitignore': 'node_modules/\n',
        'gatehouse.yml': [
          'version: 1',
          'name: ws',
          'gates:',
          '  check: { kind: lint, packages: {}, run: node -e 0 }',
          '',
        ].join('\n'),
        // a package's own config keeps its state in the package directory
        'packages/a/gatehouse.yml': [
          'version: 1',
          'name: a',
          'gates:',
          '  own: { kind: lint, run: node -e 0 }',
          '',
        ].join('\n'),
      },
    },
  );
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 'T');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
}, 60_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

async function affected(): Promise<{ files: string[]; packages: string[]; jobs: unknown[] }> {
  const r = await runCli(['affected', '--json'], root, ENV);
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as { files: string[]; packages: string[]; jobs: unknown[] };
}

describe("Gatehouse's own files, not ignored by git", () => {
  it('are no change for affected, graph, explain and the CI plan; a real change still is', async () => {
    const atRoot = await runCli(['run'], root, ENV);
    expect(atRoot.code, atRoot.err).toBe(0);
    const inPackage = await runCli(['run'], join(root, 'packages/a'), ENV);
    expect(inPackage.code, inPackage.err).toBe(0);
    // what the CI jobs of a native-mode plan write between gates, and the merged report
    mkdirSync(join(root, 'gatehouse-results/a'), { recursive: true });
    writeFileSync(join(root, 'gatehouse-results/a-check.json'), '{}\n');
    writeFileSync(join(root, 'gatehouse-results/a/report.json'), '{}\n');
    mkdirSync(join(root, 'gatehouse-report'), { recursive: true });
    writeFileSync(join(root, 'gatehouse-report/report.json'), '{}\n');
    // git sees them all as untracked
    const untracked = git('ls-files', '--others', '--exclude-standard');
    for (const dir of ['.gatehouse/', 'packages/a/.gatehouse/', 'gatehouse-results/'])
      expect(untracked).toContain(dir);

    expect(await affected()).toMatchObject({ files: [], packages: [], jobs: [] });
    const jobs = await runCli(['affected', '--jobs'], root, ENV);
    expect(jobs.code, jobs.err).toBe(0);
    expect(jobs.out).toBe('');
    const g = await runCli(['graph', '--affected'], root, ENV);
    expect(g.code, g.err).toBe(0);
    expect(g.out).toMatch(/: 0 gates in 0 layers/);
    const e = await runCli(['explain', '--affected', '--json'], root, ENV);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out)).toEqual([]);
    const run = await runCli(['run', '--affected', '--json'], root, ENV);
    expect(run.code, run.err).toBe(0);
    expect(run.out).not.toContain('"gate-end"');

    appendFileSync(join(root, 'packages/a/src/index.js'), '//\n');
    const changed = await affected();
    expect(changed.files).toEqual(['packages/a/src/index.js']);
    expect(changed.packages).toEqual(['a', 'b']);
  }, 60_000);
});
