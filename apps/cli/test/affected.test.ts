/**
 * `gatehouse affected` / `run --affected` against the real turbo and nx: on the same generated
 * pnpm workspace and the same change, the set of affected packages must be theirs.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, type WorkspacePackageSpec } from '@gatehouse-ci/test-utils';
import { runCli } from './helpers.js';

const here = dirname(new URL(import.meta.url).pathname);
const require = createRequire(import.meta.url);
// turbo is the repository's own (root devDependency); nx is this package's devDependency.
const TURBO = join(here, '../../../node_modules/.bin/turbo');
const NX = join(dirname(require.resolve('nx/package.json')), 'bin/nx.js');
const ENV = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
};

// A realistic graph: two leaves, shared libraries, apps, and a devDependency edge.
const PACKAGES: WorkspacePackageSpec[] = [
  { dir: 'packages/tsconfig', name: '@acme/tsconfig', scripts: { build: 'node -e 0' } },
  { dir: 'packages/utils', name: '@acme/utils', devDeps: ['@acme/tsconfig'] },
  { dir: 'packages/logger', name: '@acme/logger' },
  { dir: 'packages/core', name: '@acme/core', deps: ['@acme/utils', '@acme/logger'] },
  { dir: 'packages/ui', name: '@acme/ui', deps: ['@acme/utils'] },
  { dir: 'packages/nested/icons', name: '@acme/icons' },
  { dir: 'apps/web', name: 'web', deps: ['@acme/core', '@acme/ui', '@acme/icons'] },
  { dir: 'apps/admin', name: 'admin', deps: ['@acme/ui'] },
  { dir: 'apps/cli', name: 'acme-cli', deps: ['@acme/core'] },
];

let root = '';
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gh-affected-'));
  makeWorkspace(root, PACKAGES, {
    globs: ['packages/**', 'apps/*'],
    files: {
      'turbo.json': JSON.stringify({
        tasks: { build: { dependsOn: ['^build'], outputs: ['dist/**'] }, lint: {}, test: {} },
      }),
      'nx.json': JSON.stringify({
        defaultBase: 'main',
        targetDefaults: { build: { dependsOn: ['^build'] } },
        // nx 21 cannot read a lockfile without external packages; the graph is the same.
        pluginsConfig: { '@nx/js': { analyzeLockfile: false } },
      }),
      'gatehouse.yml': [
        'version: 1',
        'name: acme',
        'gates:',
        '  build: { kind: build, packages: { script: build }, needs: [^build], outputs: [dist/**] }',
        '  lint: { kind: lint, packages: { script: lint } }',
        '',
      ].join('\n'),
    },
  });
  // turbo reads the workspace through the lockfile; no package comes from a registry.
  execFileSync('pnpm', ['install', '--offline', '--silent'], {
    cwd: root,
    env: ENV,
    stdio: 'pipe',
  });
  writeFileSync(join(root, '.gitignore'), 'node_modules/\n.gatehouse/\n.turbo/\n.nx/\ndist/\n');
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 'T');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
}, 120_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function turboAffected(): string[] {
  const out = execFileSync(TURBO, ['ls', '--affected', '--output=json'], {
    cwd: root,
    env: { ...ENV, TURBO_SCM_BASE: 'main' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const json = JSON.parse(out.slice(out.indexOf('{'))) as {
    packages: { items: Array<{ name: string }> };
  };
  return json.packages.items.map((p) => p.name).sort();
}

function turboDryRunPackages(): string[] {
  const out = execFileSync(TURBO, ['run', 'build', '--affected', '--dry=json'], {
    cwd: root,
    env: { ...ENV, TURBO_SCM_BASE: 'main' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const json = JSON.parse(out.slice(out.indexOf('{'))) as { packages: string[] };
  return json.packages.filter((p) => p !== '//').sort();
}

function nxAffected(): string[] {
  const out = execFileSync(
    process.execPath,
    [NX, 'show', 'projects', '--affected', '--base=main'],
    {
      cwd: root,
      env: ENV,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

async function gatehouseAffected(): Promise<{ packages: string[]; gates: string[] }> {
  const r = await runCli(['affected', '--json'], root, { ...ENV });
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as { packages: string[]; gates: string[] };
}

// Each change is made on a branch from main, compared, then dropped.
const CHANGES: Array<[string, () => void, boolean]> = [
  [
    'a leaf library',
    () => appendFileSync(join(root, 'packages/logger/src/index.js'), '//\n'),
    true,
  ],
  [
    'a shared library',
    () => appendFileSync(join(root, 'packages/utils/src/index.js'), '//\n'),
    true,
  ],
  [
    'a devDependency',
    () => appendFileSync(join(root, 'packages/tsconfig/src/index.js'), '//\n'),
    true,
  ],
  [
    'a package under `**`',
    () => appendFileSync(join(root, 'packages/nested/icons/src/index.js'), '//\n'),
    true,
  ],
  ['an app', () => appendFileSync(join(root, 'apps/admin/src/index.js'), '//\n'), true],
  [
    'two packages',
    () => {
      appendFileSync(join(root, 'packages/ui/src/index.js'), '//\n');
      appendFileSync(join(root, 'apps/cli/src/index.js'), '//\n');
    },
    true,
  ],
  ['a new file', () => writeFileSync(join(root, 'packages/core/src/new.js'), 'x\n'), true],
  ['a deleted file', () => unlinkSync(join(root, 'packages/ui/src/index.js')), true],
  ['a root README', () => appendFileSync(join(root, 'README.md'), 'x\n'), true],
  [
    'an uncommitted edit',
    () => appendFileSync(join(root, 'packages/ui/src/index.js'), '//\n'),
    false,
  ],
];

describe("the affected set equals turbo's and nx's", () => {
  it.each(CHANGES)(
    'after a change in %s',
    async (_, change, commit) => {
      git('checkout', '-q', '-B', 'feature', 'main');
      try {
        change();
        if (commit) {
          git('add', '-A');
          git('commit', '-q', '-m', 'change');
        }
        const ours = await gatehouseAffected();
        const turbo = turboAffected();
        expect(ours.packages).toEqual(turbo);
        expect(turboDryRunPackages()).toEqual(turbo);
        expect(ours.packages).toEqual(nxAffected());
        // the gates are those of exactly these packages
        const slugs = ours.packages.map((p) => p.replace(/^@acme\//, ''));
        for (const g of ours.gates)
          expect(
            slugs.some((s) => g.startsWith(`${s}-`)),
            g,
          ).toBe(true);
      } finally {
        git('reset', '-q', '--hard');
        git('clean', '-qfd', '-e', 'node_modules');
        git('checkout', '-q', 'main');
      }
    },
    60_000,
  );

  it('run --affected runs the affected gates and the builds they need', async () => {
    git('checkout', '-q', '-B', 'feature', 'main');
    try {
      appendFileSync(join(root, 'apps/admin/src/index.js'), '//\n');
      const r = await runCli(['run', '--affected', '--json'], root, { ...ENV });
      expect(r.code, r.err).toBe(0);
      const ran = new Set(
        r.out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { type: string; id?: string })
          .filter((e) => e.type === 'gate-end')
          .map((e) => e.id),
      );
      // admin's own gates, and the build of its workspace dependencies (not their lint)
      expect([...ran].sort()).toEqual([
        'admin-build',
        'admin-lint',
        'tsconfig-build',
        'ui-build',
        'utils-build',
      ]);
    } finally {
      git('reset', '-q', '--hard');
      git('checkout', '-q', 'main');
    }
  }, 120_000);

  it('graph and explain --affected show the same selection as run --affected', async () => {
    git('checkout', '-q', '-B', 'feature', 'main');
    try {
      appendFileSync(join(root, 'apps/admin/src/index.js'), '//\n');
      const expected = ['admin-build', 'admin-lint', 'tsconfig-build', 'ui-build', 'utils-build'];
      const g = await runCli(['graph', '--affected', '--format', 'dot'], root, { ...ENV });
      expect(g.code, g.err).toBe(0);
      const nodes = [...g.out.matchAll(/^\s+"([a-z0-9-]+)" \[/gm)].map((m) => m[1]).sort();
      expect(nodes).toEqual(expected);
      expect(g.err).toMatch(
        /^affected since main: 1 package \(admin\), 2 gates and what they need$/m,
      );
      const e = await runCli(['explain', '--affected', '--json'], root, { ...ENV });
      expect(e.code, e.err).toBe(0);
      const ids = (JSON.parse(e.out) as Array<{ id: string }>).map((x) => x.id).sort();
      expect(ids).toEqual(expected);
      // Nothing changed: nothing selected.
      git('checkout', '-q', '--', '.');
      const none = await runCli(['graph', '--affected'], root, { ...ENV });
      expect(none.code, none.err).toBe(0);
      expect(none.out).toMatch(/: 0 gates in 0 layers/);
      const usage = await runCli(['graph', '--base', 'main'], root, { ...ENV });
      expect(usage.code).toBe(1);
      expect(usage.err).toContain('--base goes with --affected');
    } finally {
      git('reset', '-q', '--hard');
      git('checkout', '-q', 'main');
    }
  }, 120_000);

  it('refuses a base with no merge-base', async () => {
    const r = await runCli(['affected', '--base', 'no-such-ref'], root, { ...ENV });
    expect(r.code).toBe(1);
    expect(r.err).toContain('GH_AFFECTED_BASE');
  });
});
