import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '@gatehouse-ci/core';
import { makeWorkspace } from '@gatehouse-ci/test-utils';
import { globToRegExp, hashFile, matchFiles, workTreeTop } from '../src/glob.js';
import { cleanup, project } from './helpers.js';

describe('globToRegExp', () => {
  it.each([
    ['src/**', 'src/a.js', true],
    ['src/**', 'src/deep/er/a.js', true],
    ['src/**', 'srcx/a.js', false],
    ['src/*.js', 'src/a.js', true],
    ['src/*.js', 'src/d/a.js', false],
    ['**/*.test.ts', 'a.test.ts', true],
    ['**/*.test.ts', 'x/y/a.test.ts', true],
    ['src/**/*.ts', 'src/a.ts', true],
    ['src/**/*.ts', 'src/x/a.ts', true],
    ['*.{js,ts}', 'a.ts', true],
    ['*.{js,ts}', 'a.md', false],
    ['file?.txt', 'file1.txt', true],
    ['[ab].txt', 'b.txt', true],
    ['[!ab].txt', 'b.txt', false],
    ['a.b', 'axb', false],
  ])('%s vs %s → %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });
});

describe('matchFiles', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await project({
      'package.json': '{}',
      'src/a.js': 'a',
      'src/lib/b.js': 'b',
      'src/lib/b.test.js': 't',
      'dist/out.js': 'o',
      'node_modules/x/index.js': 'x',
      '.git/HEAD': 'h',
      '.gatehouse/cache/x': 'c',
    });
  });
  afterAll(() => cleanup(dir));

  it('matches globs, directories and exclusions, sorted', async () => {
    expect(await matchFiles(dir, ['src/**', 'package.json'])).toEqual([
      'package.json',
      'src/a.js',
      'src/lib/b.js',
      'src/lib/b.test.js',
    ]);
    expect(await matchFiles(dir, ['src/**', '!**/*.test.js'])).toEqual([
      'src/a.js',
      'src/lib/b.js',
    ]);
    expect(await matchFiles(dir, ['dist/'])).toEqual(['dist/out.js']);
    expect(await matchFiles(dir, ['dist'])).toEqual(['dist/out.js']);
  });

  it('skips .git, .gatehouse and node_modules unless named', async () => {
    expect(await matchFiles(dir, ['**'])).toEqual([
      'dist/out.js',
      'package.json',
      'src/a.js',
      'src/lib/b.js',
      'src/lib/b.test.js',
    ]);
    expect(await matchFiles(dir, ['node_modules/x/**'])).toEqual(['node_modules/x/index.js']);
  });

  it('returns nothing for missing paths', async () => {
    expect(await matchFiles(dir, ['nope/**', 'missing.txt'])).toEqual([]);
  });
});

describe('matchFiles skips only directories nothing below can match', () => {
  let dir = '';
  beforeAll(async () => {
    const paths = [
      'package.json',
      'README.md',
      'packages/a/package.json',
      'packages/a/src/a.js',
      'packages/a/src/deep/x.ts',
      'packages/a/dist/a.js',
      'packages/b/src/b.js',
      'packages/b/dist/b.js',
      'apps/web/src/w.js',
      'apps/web/src/lib/l.js',
      'tools/t.mjs',
    ];
    dir = await project(Object.fromEntries(paths.map((p) => [p, p])));
  });
  afterAll(() => cleanup(dir));

  // The rule itself, on every file: the last pattern that matches a path (or a directory
  // above it) decides.
  const reference = (all: string[], patterns: string[]) =>
    all.filter((path) => {
      let hit = false;
      for (const raw of patterns) {
        const negate = raw.startsWith('!');
        const p = (negate ? raw.slice(1) : raw).replace(/\/+$/, '');
        const re = globToRegExp(p);
        const under = new RegExp(`${re.source.slice(0, -1)}/.*$`);
        if (re.test(path) || under.test(path)) hit = !negate;
      }
      return hit;
    });

  it.each([
    [['*', '!*/**', 'packages/a/**', '!packages/a/dist/**']],
    [
      [
        '*',
        '!*/**',
        'packages/a/**',
        '!packages/a/dist/**',
        'packages/b/**',
        '!packages/b/dist/**',
      ],
    ],
    [['*']],
    [['**/*.js', '!packages/**', 'packages/b/src/b.js']],
    [['apps', '!apps/web/src/**', 'apps/web/src/lib/l.js']],
    [['*/*/src/**', '!*/**/deep/**']],
    [['packages/*/src', '!packages/a/**', '**/x.ts']],
    [['!**', 'tools/t.mjs']],
    [['packages/{a,b}/dist/**', '!*/*/dist']],
    [['**', '!packages/a/**', '!packages/b/**', 'packages/a/src/**', '!packages/a/src/deep']],
    [['packages/a', 'packages/b/src/b.js', '!packages/a/dist/**', 'packages/a/dist/a.js']],
  ])('%j', async (patterns) => {
    const all = await matchFiles(dir, ['**']);
    expect(await matchFiles(dir, patterns)).toEqual(reference(all, patterns));
  });

  // Patterns without wildcards next to each other are matched as one set lookup: any mix of
  // literal and wildcard patterns, either sign, gives what the rule gives.
  it('agrees with the rule for any list of literal and wildcard patterns', async () => {
    const all = await matchFiles(dir, ['**']);
    const segment = fc.constantFrom(
      'packages',
      'a',
      'b',
      'src',
      'dist',
      'deep',
      'apps',
      'web',
      'lib',
      'tools',
      'x.ts',
      'a.js',
      'l.js',
      'package.json',
      'README.md',
      't.mjs',
      '*',
      '**',
      '?',
      '{a,b}',
      '[ab]',
      '*.js',
    );
    const pattern = fc
      .tuple(
        fc.boolean(),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('', '/**', '/'),
      )
      .map(([neg, segs, tail]) => `${neg ? '!' : ''}${segs.join('/')}${tail}`);
    await fc.assert(
      fc.asyncProperty(fc.array(pattern, { minLength: 1, maxLength: 8 }), async (patterns) => {
        expect(await matchFiles(dir, patterns)).toEqual(reference(all, patterns));
      }),
      { numRuns: 400 },
    );
  });
});

describe('the default inputs of a package gate', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await project({});
    makeWorkspace(
      dir,
      [
        { dir: 'packages/a', name: 'a' },
        { dir: 'packages/b', name: 'b', deps: ['a'] },
        { dir: 'packages/c', name: 'c' },
      ],
      {
        files: {
          'gatehouse.yml':
            'version: 1\nname: ws\ngates:\n  build: { packages: { script: build }, needs: [^build], outputs: [dist/**] }\n',
          'packages/a/dist/index.js': 'built',
          'packages/c/dist/index.js': 'built',
          'tools/build.mjs': 'tool',
        },
      },
    );
  });
  afterAll(() => cleanup(dir));

  it("are the files outside every package and the package's and its dependencies' own, not another package's", async () => {
    const pipeline = await loadPipeline(join(dir, 'gatehouse.yml'));
    const inputs = pipeline.gates.find((g) => g.id === 'b-build')!.inputs;
    expect(await matchFiles(dir, inputs)).toEqual([
      'gatehouse.yml',
      'package.json',
      'packages/a/package.json',
      'packages/a/src/index.js',
      'packages/b/package.json',
      'packages/b/src/index.js',
      'pnpm-workspace.yaml',
      // A shared directory outside the packages, which a package's script may run: an edit
      // there must rerun the gate, never replay it.
      'tools/build.mjs',
    ]);
  });
});

describe('matchFiles in one process', () => {
  let dir = '';
  afterAll(() => cleanup(dir));

  // Listings are reused while a directory's stat is unchanged and older than the racy window
  // (ctime cannot be set back: the tree is left to settle): entries added, removed, renamed or
  // replaced since must still be seen.
  it('sees what changed in a directory it listed before', async () => {
    dir = await project({
      'add/a.js': 'a',
      'remove/a.js': 'a',
      'remove/b.js': 'b',
      'rename/deep/a.js': 'a',
      'replace/a.js': 'a',
    });
    await new Promise((r) => setTimeout(r, 2_300));
    expect(await matchFiles(dir, ['**/*.js'])).toEqual([
      'add/a.js',
      'remove/a.js',
      'remove/b.js',
      'rename/deep/a.js',
      'replace/a.js',
    ]);

    writeFileSync(join(dir, 'add', 'b.js'), 'b');
    rmSync(join(dir, 'remove', 'a.js'));
    renameSync(join(dir, 'rename', 'deep'), join(dir, 'rename', 'moved'));
    rmSync(join(dir, 'replace', 'a.js'));
    mkdirSync(join(dir, 'replace', 'a.js'));
    writeFileSync(join(dir, 'replace', 'a.js', 'x.js'), 'x');
    expect(await matchFiles(dir, ['**/*.js'])).toEqual([
      'add/a.js',
      'add/b.js',
      'remove/b.js',
      'rename/moved/a.js',
      'replace/a.js/x.js',
    ]);
  });
});

describe('hashFile', () => {
  let dir = '';
  const big = 'x'.repeat(1024 * 1024 + 7);
  beforeAll(async () => {
    dir = await project({ 'small.txt': 'hello\n', 'empty.txt': '', 'big.txt': big });
  });
  afterAll(() => cleanup(dir));

  it('gives the same sha256 read at once (size known) and streamed', async () => {
    for (const [name, text] of [
      ['small.txt', 'hello\n'],
      ['empty.txt', ''],
      ['big.txt', big],
    ] as const) {
      const expected = createHash('sha256').update(text).digest('hex');
      const p = join(dir, name);
      expect(await hashFile(p)).toBe(expected);
      expect(await hashFile(p, statSync(p).size)).toBe(expected);
    }
  });

  it('rejects for a missing file either way', async () => {
    await expect(hashFile(join(dir, 'nope'))).rejects.toThrow(/ENOENT/);
    await expect(hashFile(join(dir, 'nope'), 3)).rejects.toThrow(/ENOENT/);
  });
});

describe('workTreeTop', () => {
  it('is the nearest directory with a .git entry, as git answers, and null outside one', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'gh-top-')));
    try {
      const repo = join(base, 'repo');
      mkdirSync(join(repo, 'packages', 'app'), { recursive: true });
      execFileSync('git', ['init', '-q', repo]);
      const gitTop = (cwd: string) =>
        execFileSync('git', ['rev-parse', '--show-toplevel'], {
          cwd,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim();
      expect(await workTreeTop(join(repo, 'packages', 'app'))).toBe(
        gitTop(join(repo, 'packages', 'app')),
      );
      // A linked work tree or submodule has a `.git` file.
      const linked = join(repo, 'packages', 'linked');
      mkdirSync(linked);
      writeFileSync(join(linked, '.git'), 'gitdir: /nowhere\n');
      expect(await workTreeTop(linked)).toBe(linked);
      const outside = join(base, 'plain');
      mkdirSync(outside);
      let gitSays: string | null = null;
      try {
        gitSays = gitTop(outside);
      } catch {
        gitSays = null;
      }
      expect(await workTreeTop(outside)).toBe(gitSays);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
