import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GitInfo } from '@gatehouse-ci/core';
import { hostileString } from '@gatehouse-ci/test-utils';
import { collectGitInfo } from './build.js';
import { renderHtml } from './render/html.js';
import { validateReportSchema } from './schema.js';
import { sourceHostOfCi, sourceHostOfRemote, sourceLink } from './source-links.js';
import { sampleReport } from '../test/sample.js';

const COMMIT = 'a'.repeat(40);

describe('source links', () => {
  it('reads the forge from the remote URLs git accepts, and drops credentials', () => {
    expect(sourceHostOfRemote('git@github.com:acme/shop.git')).toEqual({
      kind: 'github',
      url: 'https://github.com/acme/shop',
    });
    expect(
      sourceHostOfRemote('https://x-access-token:ghp_SECRET@github.com/acme/shop.git'),
    ).toEqual({ kind: 'github', url: 'https://github.com/acme/shop' });
    expect(sourceHostOfRemote('ssh://git@gitlab.com/group/sub/shop.git')).toEqual({
      kind: 'gitlab',
      url: 'https://gitlab.com/group/sub/shop',
    });
    expect(sourceHostOfRemote('https://bitbucket.org/team/shop')).toEqual({
      kind: 'bitbucket',
      url: 'https://bitbucket.org/team/shop',
    });
    // Unknown hosts, local paths and odd paths give no link.
    for (const remote of [
      'https://git.example.com/acme/shop.git',
      '/srv/git/shop.git',
      'file:///srv/git/shop.git',
      'https://github.com/acme',
      'https://github.com/acme/../../evil',
      'https://github.com/acme/shop"><script>',
    ])
      expect(sourceHostOfRemote(remote), remote).toBeNull();
  });

  it("takes a self-hosted forge from the CI's variables, never with credentials or ports", () => {
    expect(
      sourceHostOfCi({ GITHUB_SERVER_URL: 'https://ghe.corp.test', GITHUB_REPOSITORY: 'a/b' }),
    ).toEqual({ kind: 'github', url: 'https://ghe.corp.test/a/b' });
    expect(
      sourceHostOfCi({ GITLAB_CI: 'true', CI_PROJECT_URL: 'https://gitlab.corp.test/g/s/p' }),
    ).toEqual({ kind: 'gitlab', url: 'https://gitlab.corp.test/g/s/p' });
    expect(
      sourceHostOfCi({ GITLAB_CI: 'true', CI_PROJECT_URL: 'https://u:p@gitlab.corp.test/g/p' }),
    ).toBeNull();
    expect(
      sourceHostOfCi({ GITHUB_SERVER_URL: 'http://ghe.corp.test', GITHUB_REPOSITORY: 'a/b' }),
    ).toBeNull();
    expect(sourceHostOfCi({})).toBeNull();
  });

  it('links a file and line at the commit, in each forge’s form', () => {
    const git = (kind: 'github' | 'gitlab' | 'bitbucket', url: string): GitInfo => ({
      commit: COMMIT,
      branch: 'main',
      dirty: false,
      source: { kind, url },
    });
    expect(sourceLink(git('github', 'https://github.com/a/b'), 'src/a b.js', 7)).toBe(
      `https://github.com/a/b/blob/${COMMIT}/src/a%20b.js#L7`,
    );
    expect(sourceLink(git('gitlab', 'https://gitlab.com/g/p'), 'src/x.js', 3)).toBe(
      `https://gitlab.com/g/p/-/blob/${COMMIT}/src/x.js#L3`,
    );
    expect(sourceLink(git('bitbucket', 'https://bitbucket.org/t/r'), 'src/x.js')).toBe(
      `https://bitbucket.org/t/r/src/${COMMIT}/src/x.js`,
    );
    const gh = git('github', 'https://github.com/a/b');
    for (const file of ['/abs/x.js', '../up.js', 'a/../b.js', 'C:/x.js', 'a\\b.js'])
      expect(sourceLink(gh, file, 1), file).toBeNull();
    expect(sourceLink({ ...gh, commit: null }, 'x.js', 1)).toBeNull();
    expect(sourceLink({ ...gh, source: null }, 'x.js', 1)).toBeNull();
  });

  it('a hostile file name stays inside the link and the HTML: no new attribute or element', () => {
    fc.assert(
      fc.property(hostileString(), (name) => {
        const link = sourceLink(
          {
            commit: COMMIT,
            branch: null,
            dirty: null,
            source: { kind: 'github', url: 'https://github.com/a/b' },
          },
          `src/${name}`,
          1,
        );
        if (link === null) return;
        expect(link.startsWith(`https://github.com/a/b/blob/${COMMIT}/src/`)).toBe(true);
        expect(link).not.toMatch(/["<>\s]/);
      }),
      { numRuns: 300 },
    );
  });

  it('the HTML report links findings when the remote is a known forge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-source-links-'));
    try {
      const git = (...args: string[]) => execFileSync('git', args, { cwd: dir });
      git('init', '-q');
      git('remote', 'add', 'origin', 'https://token:SECRET@github.com/acme/shop.git');
      git('-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '--allow-empty', '-m', 'x');
      const info = await collectGitInfo(dir, {});
      expect(info.source).toEqual({ kind: 'github', url: 'https://github.com/acme/shop' });
      expect(JSON.stringify(info)).not.toContain('SECRET');
      const report = { ...sampleReport(), git: info };
      expect(validateReportSchema(report)).toEqual([]);
      expect(
        validateReportSchema({
          ...report,
          git: { ...info, source: { kind: 'github', url: 'javascript:x' } },
        }),
      ).not.toEqual([]);
      const html = renderHtml(report);
      expect(html).toContain(
        `<a href="https://github.com/acme/shop/blob/${info.commit}/src/a.js#L1"><code>src/a.js:1:7</code></a>`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
