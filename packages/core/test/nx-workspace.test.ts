/**
 * Gates of `packages:` over a workspace handed to validation (nx's project graph, read by the
 * CLI through `@gatehouse-ci/nx`): selection by nx target, the `nx run` default, dependencies
 * from the graph, `usesNxProjects`, and `loadProject` with `readWorkspace`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  GatehouseError,
  loadProject,
  usesNxProjects,
  validateConfig,
  type Workspace,
} from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'gh-nxws-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** An integrated nx workspace as `readNxWorkspace` returns it: no package.json per project. */
function nxWorkspace(root: string): Workspace {
  return {
    root,
    source: 'nx',
    patterns: [],
    packageManager: 'npm',
    packages: [
      { name: 'ui', dir: 'libs/ui', scripts: {}, deps: ['util'], targets: ['build', 'lint'] },
      { name: 'util', dir: 'libs/util', scripts: {}, deps: [], targets: ['build', 'lint', 'test'] },
      { name: 'web', dir: 'apps/web', scripts: {}, deps: ['ui'], targets: ['build', 'test'] },
    ],
  };
}

const CONFIG = `version: 1
name: acme
gates:
  build: { kind: build, packages: { script: build }, needs: [^build], outputs: [dist/**] }
  lint: { kind: lint, packages: { script: lint } }
  test: { kind: unit-test, packages: { script: test }, needs: [build] }
  e2e: { packages: { match: [web] }, run: node e2e.js }
`;

async function load(root: string, yaml: string, workspace?: Workspace) {
  writeFileSync(join(root, 'gatehouse.yml'), yaml);
  return validateConfig(join(root, 'gatehouse.yml'), {
    displayPath: 'gatehouse.yml',
    ...(workspace ? { workspace } : {}),
  });
}

describe('gates of packages over a workspace read from nx', () => {
  it('selects projects by nx target and runs the target with nx run from the root', async () => {
    const root = tempDir();
    const v = await load(root, CONFIG, nxWorkspace(root));
    expect(v.diagnostics).toEqual([]);
    const gates = new Map(v.pipeline!.gates.map((g) => [g.id, g]));
    expect([...gates.keys()].sort()).toEqual([
      'ui-build',
      'ui-lint',
      'util-build',
      'util-lint',
      'util-test',
      'web-build',
      'web-e2e',
      'web-test',
    ]);
    expect(gates.get('util-lint')!.run).toBe(
      'npx --no-install nx run util:lint --excludeTaskDependencies --skip-nx-cache',
    );
    // a `run` of the config still runs in the project directory
    expect(gates.get('web-e2e')!.run).toBe('cd apps/web && node e2e.js');
    expect(gates.get('web-test')!.package).toEqual({ name: 'web', dir: 'apps/web', gate: 'test' });
  });

  it('warns that `packages.direct` has no effect on nx projects, at the key', async () => {
    const root = tempDir();
    const v = await load(
      root,
      `version: 1\nname: acme\ngates:\n  lint:\n    packages:\n      script: lint\n      direct: true\n`,
      nxWorkspace(root),
    );
    expect(
      v.diagnostics.map((d) => `${d.code} ${d.severity} ${d.path} ${d.loc?.line}:${d.loc?.column}`),
    ).toEqual(['GH_DIRECT_NO_EFFECT warning gates.lint.packages.direct 7:7']);
    expect(v.diagnostics[0]!.message).toContain('nx run <project>:lint');
    const lint = v.pipeline!.gates.find((g) => g.id === 'util-lint')!;
    expect(lint.run).toContain('nx run util:lint');
    expect(lint.package?.direct).toBeUndefined();
  });

  it("takes `^build` and the default inputs from the graph's dependencies", async () => {
    const root = tempDir();
    const v = await load(root, CONFIG, nxWorkspace(root));
    const gates = new Map(v.pipeline!.gates.map((g) => [g.id, g]));
    expect(gates.get('web-build')!.needs).toEqual(['ui-build', 'util-build']);
    expect(gates.get('web-test')!.needs).toEqual(['ui-build', 'util-build', 'web-build']);
    expect(gates.get('util-build')!.needs).toEqual([]);
    // Everything outside the other projects, the project's own and its dependencies' files.
    expect(gates.get('ui-lint')!.inputs).toEqual([
      '**',
      '!apps/web/**',
      'libs/ui/**',
      'libs/util/**',
      '!**/node_modules/**',
      '!**/.turbo/**',
      '!.nx/**',
      '!gatehouse-results/**',
      '!gatehouse-report/**',
      '!libs/ui/dist/**',
      '!libs/util/dist/**',
    ]);
    expect(gates.get('ui-build')!.outputs).toEqual(['libs/ui/dist/**']);
  });

  it('quotes a project name that is not one shell word', async () => {
    const root = tempDir();
    const ws = nxWorkspace(root);
    ws.packages[1] = { ...ws.packages[1]!, name: "it's" };
    ws.packages[0] = { ...ws.packages[0]!, deps: ["it's"] };
    const v = await load(root, CONFIG, ws);
    expect(v.pipeline!.gates.find((g) => g.id === 'it-s-lint')!.run).toBe(
      `npx --no-install nx run 'it'\\''s':lint --excludeTaskDependencies --skip-nx-cache`,
    );
  });

  it('says when nx has no project outside the root', async () => {
    const root = tempDir();
    const v = await load(root, CONFIG, { ...nxWorkspace(root), packages: [] });
    const d = v.diagnostics.find((x) => x.code === 'GH_NO_WORKSPACE')!;
    expect(d.message).toContain("nx's project graph");
    expect(d.hint).toContain('project.json');
  });

  it('without a workspace handed over, reads the package-manager workspace (none here)', async () => {
    const root = tempDir();
    const v = await load(root, CONFIG);
    expect(v.diagnostics.map((d) => d.code)).toContain('GH_NO_WORKSPACE');
  });
});

describe('usesNxProjects', () => {
  const pkg = (name: string) => JSON.stringify({ name, scripts: { lint: 'x' } });
  it.each([
    ['no nx.json', { 'libs/a/project.json': '{}' }, false],
    [
      'nx.json and project.json projects only',
      { 'nx.json': '{}', 'libs/a/project.json': '{}' },
      true,
    ],
    [
      'nx.json and a project.json outside the package-manager workspace',
      {
        'nx.json': '{}',
        'package.json': JSON.stringify({ workspaces: ['packages/*'] }),
        'packages/a/package.json': pkg('a'),
        'tools/b/project.json': '{}',
      },
      true,
    ],
    [
      'a package-based nx workspace (project.json next to package.json)',
      {
        'nx.json': '{}',
        'package.json': JSON.stringify({ workspaces: ['packages/*'] }),
        'packages/a/package.json': pkg('a'),
        'packages/a/project.json': '{}',
      },
      false,
    ],
  ])('%s: %s', (_, files, want) => {
    expect(usesNxProjects(tempDir(files))).toBe(want);
  });
});

describe('loadProject with readWorkspace', () => {
  const files = { 'nx.json': '{}', 'libs/util/project.json': '{}' };

  it('expands over the workspace read, and keys the config cache on it', async () => {
    const root = tempDir({ ...files, 'gatehouse.yml': CONFIG });
    const keyDir = tempDir();
    const cache = { dir: join(root, '.gatehouse', 'cache', 'config'), version: '1.0.0', keyDir };
    let ws = nxWorkspace(root);
    const open = () =>
      loadProject(join(root, 'gatehouse.yml'), [], { cache, readWorkspace: async () => ws });
    const first = await open();
    expect(first.workspace).toBe(ws);
    expect(first.pipeline!.gates.find((g) => g.id === 'web-build')!.needs).toEqual([
      'ui-build',
      'util-build',
    ]);
    const second = await open();
    expect(second.fromCache).toBe(true);
    expect(second.workspace).toBe(ws);
    // nx sees a new import: web now depends on util directly, and ui on nothing
    ws = nxWorkspace(root);
    ws.packages[0] = { ...ws.packages[0]!, deps: [] };
    ws.packages[2] = { ...ws.packages[2]!, deps: ['util'] };
    const third = await open();
    expect(third.fromCache).toBeUndefined();
    expect(third.pipeline!.gates.find((g) => g.id === 'web-build')!.needs).toEqual(['util-build']);
  });

  it('reports a workspace that cannot be read at the first gate of packages, without the noise', async () => {
    const root = tempDir({ ...files, 'gatehouse.yml': CONFIG });
    const p = await loadProject(join(root, 'gatehouse.yml'), [], {
      displayPath: 'gatehouse.yml',
      readWorkspace: () =>
        Promise.reject(
          new GatehouseError('GH_PLUGIN_NOT_FOUND', 'not installed', { hint: 'install it' }),
        ),
    });
    expect(p.pipeline).toBeNull();
    expect(
      p.diagnostics.map((d) => `${d.code} ${d.path} ${d.loc?.file}:${d.loc?.line} ${d.hint}`),
    ).toEqual(['GH_PLUGIN_NOT_FOUND gates.build.packages gatehouse.yml:4 install it']);
  });

  it('is not asked, or not heard, for a config without gates of packages', async () => {
    const plain = 'version: 1\nname: acme\ngates:\n  lint: { run: node -e 0 }\n';
    const mentions = `${plain}  # packages are not used here\n`;
    const root = tempDir(files);
    let asked = 0;
    const fail = () => {
      asked++;
      return Promise.reject(new GatehouseError('GH_NX_GRAPH', 'nx failed'));
    };
    for (const [text, calls] of [
      [plain, 0],
      [mentions, 1],
    ] as const) {
      writeFileSync(join(root, 'gatehouse.yml'), text);
      const p = await loadProject(join(root, 'gatehouse.yml'), [], { readWorkspace: fail });
      expect(p.diagnostics).toEqual([]);
      expect(p.pipeline).not.toBeNull();
      expect(asked).toBe(calls);
    }
  });
});
