import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  affectedPackages,
  discoverWorkspace,
  validateConfig,
  withDependents,
} from '../src/index.js';

// @gatehouse-ci/test-utils depends on core (its makeWorkspace is the full version of this).
function makeWorkspace(
  root: string,
  pkgs: Array<{
    dir: string;
    name: string;
    deps?: string[];
    devDeps?: string[];
    scripts?: Record<string, string>;
  }>,
  opts: { globs?: string[]; manager?: 'pnpm' | 'npm' | 'yarn' | 'bun' } = {},
): void {
  const globs = opts.globs ?? ['packages/*'];
  const rootPkg: Record<string, unknown> = { name: 'root', private: true };
  if (opts.manager === 'npm' || opts.manager === 'yarn' || opts.manager === 'bun') {
    rootPkg.workspaces = globs;
    if (opts.manager === 'yarn') rootPkg.packageManager = 'yarn@1.22.22';
    if (opts.manager === 'bun') rootPkg.packageManager = 'bun@1.2.0';
  } else {
    rootPkg.packageManager = 'pnpm@10.34.8';
    writeFileSync(
      join(root, 'pnpm-workspace.yaml'),
      `packages:\n${globs.map((g) => `  - '${g}'\n`).join('')}`,
    );
  }
  writeFileSync(join(root, 'package.json'), JSON.stringify(rootPkg));
  const v = (d?: string[]) => Object.fromEntries((d ?? []).map((n) => [n, 'workspace:*']));
  for (const p of pkgs) {
    mkdirSync(join(root, p.dir), { recursive: true });
    const scripts = p.scripts ?? { lint: 'x', test: 'x', build: 'x' };
    writeFileSync(
      join(root, p.dir, 'package.json'),
      JSON.stringify({
        name: p.name,
        scripts,
        dependencies: v(p.deps),
        devDependencies: v(p.devDeps),
      }),
    );
  }
}

/** Sets `packageManager` in the root package.json of a workspace of {@link workspace}. */
function setPackageManager(root: string, packageManager: string): void {
  const file = join(root, 'package.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...json, packageManager }));
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workspace(
  globs = ['packages/*', 'apps/**'],
  manager: 'pnpm' | 'npm' | 'yarn' | 'bun' = 'pnpm',
): string {
  const root = mkdtempSync(join(tmpdir(), 'gh-ws-'));
  dirs.push(root);
  makeWorkspace(
    root,
    [
      { dir: 'packages/utils', name: '@acme/utils' },
      { dir: 'packages/core', name: '@acme/core', deps: ['@acme/utils'] },
      {
        dir: 'packages/docs',
        name: '@acme/docs',
        scripts: { build: 'node -e 0' },
      },
      { dir: 'apps/web/site', name: 'web', deps: ['@acme/core'], devDeps: ['@acme/docs'] },
    ],
    { globs, manager },
  );
  return root;
}

async function load(root: string, yaml: string) {
  writeFileSync(join(root, 'gatehouse.yml'), yaml);
  return validateConfig(join(root, 'gatehouse.yml'), { displayPath: 'gatehouse.yml' });
}

const BASE = `version: 1
name: mono
gates:
  lint:
    kind: lint
    packages: { script: lint }
  build:
    kind: build
    packages: { script: build }
    needs: [^build]
    outputs: [dist/**]
  test:
    kind: unit-test
    packages: { script: test, overrides: { web: { timeout: 7m } } }
    needs: [build]
`;

describe('workspace discovery', () => {
  it.each([['pnpm' as const], ['npm' as const]])(
    'reads the %s workspace globs, `**` included',
    (m) => {
      const ws = discoverWorkspace(workspace(['packages/*', 'apps/**'], m));
      expect(ws.packages.map((p) => [p.name, p.dir, p.deps])).toEqual([
        ['@acme/core', 'packages/core', ['@acme/utils']],
        ['@acme/docs', 'packages/docs', []],
        ['@acme/utils', 'packages/utils', []],
        ['web', 'apps/web/site', ['@acme/core', '@acme/docs']],
      ]);
      expect(ws.packageManager).toBe(m);
      expect(withDependents(ws, ['@acme/utils'])).toEqual(['@acme/core', '@acme/utils', 'web']);
    },
  );

  it('maps changed files to the packages they can affect', () => {
    const ws = discoverWorkspace(workspace());
    expect(affectedPackages(ws, ['packages/utils/src/a.ts'])).toEqual({
      changed: ['@acme/utils'],
      affected: ['@acme/core', '@acme/utils', 'web'],
      global: [],
    });
    // a devDependency counts; documentation at the root affects nothing
    expect(affectedPackages(ws, ['packages/docs/README.md', 'README.md']).affected).toEqual([
      '@acme/docs',
      'web',
    ]);
    expect(affectedPackages(ws, ['apps/web/site/x.js']).affected).toEqual(['web']);
    // a tool's own state, when the repository does not ignore it, affects nothing
    expect(affectedPackages(ws, ['.nx/workspace-data/a.db', '.turbo/cache/x']).affected).toEqual(
      [],
    );
    // what Gatehouse writes: its state, a package's own config's state beside it, and what CI
    // jobs write between gates, affects nothing
    expect(
      affectedPackages(ws, [
        '.gatehouse/runs/01J/report.json',
        'packages/utils/.gatehouse/ledger.jsonl',
        'gatehouse-results/core-lint.json',
        'gatehouse-report/report.md',
      ]),
    ).toEqual({ changed: [], affected: [], global: [] });
    // …but a file of the package named like them does
    expect(affectedPackages(ws, ['packages/utils/.gatehouse.yml']).affected).toHaveLength(3);
    expect(affectedPackages(ws, ['gatehouse-results.json']).affected).toHaveLength(4);
    // a root config or the lockfile: every package
    expect(affectedPackages(ws, ['pnpm-lock.yaml']).affected).toHaveLength(4);
    expect(affectedPackages(ws, []).affected).toEqual([]);
  });

  it('honours `!` exclusions', () => {
    const ws = discoverWorkspace(workspace(['packages/*', 'apps/**', '!packages/docs']));
    expect(ws.packages.map((p) => p.name)).toEqual(['@acme/core', '@acme/utils', 'web']);
  });
});

describe('gates of packages', () => {
  it('expands one gate per package, with ids, dirs, transitive ^build and overrides', async () => {
    const v = await load(workspace(), BASE);
    expect(v.diagnostics).toEqual([]);
    const gates = new Map(v.pipeline!.gates.map((g) => [g.id, g]));
    expect([...gates.keys()].sort()).toEqual([
      'core-build',
      'core-lint',
      'core-test',
      'docs-build',
      'utils-build',
      'utils-lint',
      'utils-test',
      'web-build',
      'web-lint',
      'web-test',
    ]);
    const webTest = gates.get('web-test')!;
    expect(webTest.run).toBe('cd apps/web/site && pnpm run test');
    expect(webTest.package).toEqual({ name: 'web', dir: 'apps/web/site', gate: 'test' });
    expect(webTest.description).toBe('web: test');
    // build of itself and of every workspace dependency, transitively
    expect(webTest.needs).toEqual(['core-build', 'docs-build', 'utils-build', 'web-build']);
    expect(webTest.timeoutMs).toBe(7 * 60_000);
    expect(gates.get('core-test')!.timeoutMs).not.toBe(7 * 60_000);
    expect(gates.get('web-build')!.needs).toEqual(['core-build', 'docs-build', 'utils-build']);
    expect(gates.get('utils-build')!.needs).toEqual([]);
    expect(gates.get('core-build')!.outputs).toEqual(['packages/core/dist/**']);
    // Everything outside the other packages, the package's own and its dependencies' files.
    expect(gates.get('core-lint')!.inputs).toEqual([
      '**',
      '!packages/docs/**',
      '!apps/web/site/**',
      'packages/core/**',
      'packages/utils/**',
      '!**/node_modules/**',
      '!**/.turbo/**',
      '!.nx/**',
      '!gatehouse-results/**',
      '!gatehouse-report/**',
      '!packages/core/dist/**',
      '!packages/utils/dist/**',
    ]);
    // the build gates come before what needs them
    const order = v.pipeline!.gates.map((g) => g.id);
    expect(order.indexOf('utils-build')).toBeLessThan(order.indexOf('core-build'));
    expect(order.indexOf('core-build')).toBeLessThan(order.indexOf('web-build'));
  });

  it('filters by pattern and lets a plain gate need every package gate', async () => {
    const v = await load(
      workspace(),
      `version: 1
name: mono
gates:
  lint:
    packages: { match: ['@acme/*', '!@acme/docs'] }
    run: npx eslint .
    inputs: [src/**]
  all:
    run: echo done
    needs: [lint]
`,
    );
    expect(v.diagnostics).toEqual([]);
    const gates = new Map(v.pipeline!.gates.map((g) => [g.id, g]));
    expect(gates.get('core-lint')!.run).toBe('cd packages/core && npx eslint .');
    expect(gates.get('core-lint')!.inputs).toEqual(['packages/core/src/**']);
    expect(gates.get('all')!.needs).toEqual(['core-lint', 'utils-lint']);
  });

  it.each([
    [
      'an override of an unknown package',
      `  lint: { packages: { overrides: { '@acme/cor': { timeout: 1m } } }, run: x }\n`,
      'GH_UNKNOWN_PACKAGE gates.lint.packages.overrides["@acme/cor"] 5:',
    ],
    [
      'a filter that selects nothing',
      `  lint: { packages: { script: nope }, run: x }\n  other: { run: y }\n`,
      'GH_NO_PACKAGES gates.lint.packages 5:',
    ],
    [
      'a ^need in a plain gate',
      `  build: { packages: {}, run: x }\n  other: { run: y, needs: [^build] }\n`,
      'GH_PACKAGE_NEED gates.other.needs[0] 6:',
    ],
    [
      'a ^need of a plain gate',
      `  build: { run: x }\n  other: { packages: {}, run: y, needs: [^build] }\n`,
      'GH_PACKAGE_NEED gates.other.needs[0] 6:',
    ],
    [
      'an expanded id that clashes',
      `  lint: { packages: {}, run: x }\n  core-lint: { run: y }\n`,
      'GH_PACKAGE_GATE_CLASH gates.lint 5:',
    ],
    ['no run and no script', `  lint: { packages: {} }\n`, 'GH_MISSING_FIELD gates.lint.run 5:'],
  ])('reports %s, located', async (_, gates, want) => {
    const v = await load(workspace(), `version: 1\nname: mono\n\ngates:\n${gates}`);
    const got = v.diagnostics.map((d) => `${d.code} ${d.path} ${d.loc?.line}:${d.loc?.column}`);
    expect(
      got.some((g) => g.startsWith(want)),
      got.join('\n'),
    ).toBe(true);
  });

  it('reports packages outside a workspace', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-nows-'));
    dirs.push(root);
    const v = await load(root, `version: 1\nname: x\ngates:\n  lint: { packages: {}, run: x }\n`);
    expect(
      v.diagnostics.map((d) => `${d.code} ${d.loc?.file}:${d.loc?.line}:${d.loc?.column}`),
    ).toEqual(['GH_NO_WORKSPACE gatehouse.yml:4:11']);
  });

  it("keeps a package nested in another's directory out of the outer package's default inputs, and the outer one out of the nested one's", async () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-nest-'));
    dirs.push(root);
    makeWorkspace(
      root,
      [
        { dir: 'packages/app', name: 'app' },
        { dir: 'packages/app/plugin', name: 'plugin' },
      ],
      { globs: ['packages/**'] },
    );
    const v = await load(
      root,
      `version: 1\nname: x\ngates:\n  lint: { packages: { script: lint } }\n`,
    );
    const inputs = new Map(v.pipeline!.gates.map((g) => [g.id, g.inputs]));
    expect(inputs.get('app-lint')!.slice(0, 4)).toEqual([
      '**',
      '!packages/app/plugin/**',
      'packages/app/**',
      '!packages/app/plugin/**',
    ]);
    expect(inputs.get('plugin-lint')!.slice(0, 3)).toEqual([
      '**',
      '!packages/app/**',
      'packages/app/plugin/**',
    ]);
  });

  it('reports a cycle through the workspace graph', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gh-cyc-'));
    dirs.push(root);
    makeWorkspace(root, [
      { dir: 'packages/a', name: 'a', deps: ['b'] },
      { dir: 'packages/b', name: 'b', deps: ['a'] },
    ]);
    const v = await load(
      root,
      `version: 1\nname: x\ngates:\n  build: { packages: {}, run: x, needs: [^build] }\n`,
    );
    expect(v.diagnostics.map((d) => d.code)).toEqual(['GH_CYCLE']);
    expect(v.diagnostics[0]!.message).toMatch(
      /a-build -> b-build -> a-build|b-build -> a-build -> b-build/,
    );
  });
});

describe('`packages.direct` where it cannot apply', () => {
  const located = (v: Awaited<ReturnType<typeof load>>) =>
    v.diagnostics.map(
      (d) => `${d.code} ${d.severity} ${d.path} ${d.loc?.file}:${d.loc?.line}:${d.loc?.column}`,
    );

  it('applies with `script` and the default `run`, without a word', async () => {
    const v = await load(
      workspace(),
      `version: 1\nname: mono\ngates:\n  lint:\n    packages:\n      script: lint\n      direct: true\n`,
    );
    expect(v.diagnostics).toEqual([]);
    const lint = v.pipeline!.gates.find((g) => g.id === 'core-lint')!;
    expect(lint.package?.direct).toEqual({ script: 'lint', manager: 'pnpm' });
  });

  it.each([
    [
      'without `packages.script`',
      `  lint:\n    run: npx eslint .\n    packages:\n      match: ['@acme/*']\n      direct: true\n`,
      'the gate has no `packages.script`',
      'set `packages.script`',
    ],
    [
      'on a gate with its own `run`',
      `  lint:\n    run: npx eslint .\n    packages:\n      script: lint\n      direct: true\n`,
      'the gate has its own `run`',
      'remove `run`',
    ],
  ])(
    'is a warning at the `direct` key %s, and the gate runs its `run`',
    async (_, gate, why, hint) => {
      const v = await load(workspace(), `version: 1\nname: mono\ngates:\n${gate}`);
      expect(located(v)).toEqual([
        'GH_DIRECT_NO_EFFECT warning gates.lint.packages.direct gatehouse.yml:8:7',
      ]);
      expect(v.diagnostics[0]!.message).toContain(why);
      expect(v.diagnostics[0]!.hint).toContain(hint);
      // a warning: the pipeline is there, started through its `run` as before
      const lint = v.pipeline!.gates.find((g) => g.id === 'core-lint')!;
      expect(lint.run).toBe('cd packages/core && npx eslint .');
      expect(lint.package?.direct).toBeUndefined();
    },
  );

  it('is a warning for each package whose override has its own `run`, naming it', async () => {
    const v = await load(
      workspace(),
      `version: 1
name: mono
gates:
  lint:
    packages:
      script: lint
      direct: true
      overrides:
        web: { run: npx eslint src }
        '@acme/core': { timeout: 1m }
`,
    );
    expect(located(v)).toEqual([
      'GH_DIRECT_NO_EFFECT warning gates.lint.packages.direct gatehouse.yml:7:7',
    ]);
    expect(v.diagnostics[0]!.message).toContain('for package `web`');
    expect(v.diagnostics[0]!.hint).toContain('overrides["web"]');
    const gates = new Map(v.pipeline!.gates.map((g) => [g.id, g]));
    expect(gates.get('web-lint')!.package?.direct).toBeUndefined();
    expect(gates.get('core-lint')!.package?.direct).toEqual({ script: 'lint', manager: 'pnpm' });
  });

  it('says nothing of `direct: false`', async () => {
    const v = await load(
      workspace(),
      `version: 1\nname: mono\ngates:\n  lint: { run: x, packages: { direct: false } }\n`,
    );
    expect(v.diagnostics).toEqual([]);
  });
});

describe('the release of a package gate', () => {
  const RELEASE = `release:
  from: web-build
  copy: [dist/, public/*.html]
  cmd: [node, dist/index.js]
`;
  const codes = (v: Awaited<ReturnType<typeof load>>) =>
    v.diagnostics.map((d) => [d.code, d.severity, d.path]);

  it('is made of the package in a pnpm workspace: `copy` under its directory', async () => {
    const v = await load(workspace(), BASE + RELEASE);
    expect(v.diagnostics).toEqual([]);
    expect(v.pipeline!.release).toMatchObject({
      from: 'web-build',
      copy: ['apps/web/site/dist/', 'apps/web/site/public/*.html'],
      package: { name: 'web', dir: 'apps/web/site', manager: 'pnpm' },
    });
  });

  it('`deploy: false` copies `copy` as written', async () => {
    const v = await load(workspace(), `${BASE + RELEASE}  deploy: false\n`);
    expect(v.diagnostics).toEqual([]);
    expect(v.pipeline!.release!.copy).toEqual(['dist/', 'public/*.html']);
    expect(v.pipeline!.release!.package).toBeUndefined();
  });

  it('is made of the package in an npm workspace too', async () => {
    const v = await load(workspace(['packages/*', 'apps/**'], 'npm'), BASE + RELEASE);
    expect(v.diagnostics).toEqual([]);
    expect(v.pipeline!.release).toMatchObject({
      copy: ['apps/web/site/dist/', 'apps/web/site/public/*.html'],
      package: { name: 'web', dir: 'apps/web/site', manager: 'npm' },
    });
  });

  it('is made of the package in a yarn workspace installed into node_modules', async () => {
    const classic = workspace(['packages/*', 'apps/**'], 'yarn');
    const berry = workspace(['packages/*', 'apps/**'], 'yarn');
    setPackageManager(berry, 'yarn@4.5.0');
    writeFileSync(join(berry, '.yarnrc.yml'), 'nodeLinker: node-modules\n');
    // yarn classic does not read .yarnrc.yml: `packageManager` says which yarn it is.
    const classicRc = workspace(['packages/*', 'apps/**'], 'yarn');
    writeFileSync(join(classicRc, '.yarnrc.yml'), 'enableTelemetry: false\n');
    for (const root of [classic, berry, classicRc]) {
      const v = await load(root, BASE + RELEASE);
      expect(v.diagnostics).toEqual([]);
      expect(v.pipeline!.release).toMatchObject({
        copy: ['apps/web/site/dist/', 'apps/web/site/public/*.html'],
        package: { name: 'web', dir: 'apps/web/site', manager: 'yarn' },
      });
    }
  });

  it("with yarn's Plug'n'Play, or in a bun workspace: a warning by default, an error when asked for", async () => {
    const pnpDefault = workspace(['packages/*', 'apps/**'], 'yarn');
    setPackageManager(pnpDefault, 'yarn@4.5.0');
    const pnpSaid = workspace(['packages/*', 'apps/**'], 'yarn');
    rmSync(join(pnpSaid, 'package.json'));
    writeFileSync(
      join(pnpSaid, 'package.json'),
      JSON.stringify({ workspaces: ['packages/*', 'apps/**'] }),
    );
    writeFileSync(join(pnpSaid, 'yarn.lock'), '');
    writeFileSync(join(pnpSaid, '.yarnrc.yml'), 'nodeLinker: pnp\n');
    const bun = workspace(['packages/*', 'apps/**'], 'bun');
    for (const [root, says] of [
      [pnpDefault, "installed with Plug'n'Play"],
      [pnpSaid, "installed with Plug'n'Play"],
      [bun, 'this is a bun workspace'],
    ] as const) {
      const quiet = await load(root, BASE + RELEASE);
      expect(codes(quiet)).toEqual([['GH_RELEASE_NOT_DEPLOYED', 'warning', 'release.from']]);
      expect(quiet.diagnostics[0]!.message).toContain(says);
      expect(quiet.diagnostics[0]!.hint?.includes('nodeLinker: node-modules')).toBe(root !== bun);
      expect(quiet.pipeline!.release!.copy).toEqual(['dist/', 'public/*.html']);
      expect(quiet.pipeline!.release!.package).toBeUndefined();
      const asked = await load(root, `${BASE + RELEASE}  deploy: true\n`);
      expect(codes(asked)).toEqual([['GH_RELEASE_DEPLOY', 'error', 'release.deploy']]);
      expect((await load(root, `${BASE + RELEASE}  deploy: false\n`)).diagnostics).toEqual([]);
    }
  });

  it('`deploy: true` needs `from` to be a gate of packages', async () => {
    const plain = `${BASE}  bundle: { run: echo, needs: [build] }\n${RELEASE.replace('web-build', 'bundle')}  deploy: true\n`;
    expect(codes(await load(workspace(), plain))).toEqual([
      ['GH_RELEASE_DEPLOY', 'error', 'release.deploy'],
    ]);
    const root = mkdtempSync(join(tmpdir(), 'gh-plain-'));
    dirs.push(root);
    const single = `version: 1\nname: app\ngates:\n  build: { run: echo }\n${RELEASE.replace('web-build', 'build')}  deploy: true\n`;
    const v = await load(root, single);
    expect(codes(v)).toEqual([['GH_RELEASE_DEPLOY', 'error', 'release.deploy']]);
    expect(v.diagnostics[0]!.loc?.line).toBe(9);
  });
});
