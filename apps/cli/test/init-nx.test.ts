/**
 * `init` in an integrated nx workspace, with the real nx: projects of `project.json` (one target
 * inferred by a local nx plugin), dependencies nx infers from imports, no package-manager
 * workspace. init writes gates of `packages:` over nx's project graph whose dependencies follow
 * each project's targets' `dependsOn` as nx merges them (nx.json's `targetDefaults`, a project's
 * own): nx's own task graph, where nx has a dependsOn. A build nx writes at the workspace root
 * (`{workspaceRoot}/dist/{projectRoot}`) is the gate's output (`//dist/libs/ui`), so a cache hit
 * restores it for the gate that reads it. They pass on the untouched workspace and fail for
 * exactly the project whose target fails.
 */
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig, withNeeds, type RunReport, type UserConfig } from '@gatehouse-ci/core';
import { readProjectWorkspace } from '../src/workspace.js';
import { runCli } from './helpers.js';

const require = createRequire(import.meta.url);
// nx is this package's devDependency; the workspace links it (pnpm's `link:`), offline.
const NX_DIR = realpathSync(dirname(require.resolve('nx/package.json')));
const NX = join(NX_DIR, 'bin/nx.js');
const ENV = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };

/** A project.json whose targets run a small node command each. */
const project = (
  name: string,
  root: string,
  targets: Record<string, string>,
  extra: Record<string, unknown> = {},
) =>
  JSON.stringify({
    name,
    root,
    targets: Object.fromEntries(
      Object.entries(targets).map(([t, code]) => [
        t,
        {
          executor: 'nx:run-commands',
          options: { command: `node -e ${JSON.stringify(code)}` },
          ...((extra[t] as object | undefined) ?? {}),
        },
      ]),
    ),
  });
const OK = 'process.exit(0)';
// ui's build writes where nx's own executors do by default, outside the project directory;
// web's build reads it there.
const UI_BUILD =
  "require('fs').mkdirSync('dist/libs/ui',{recursive:true});require('fs').writeFileSync('dist/libs/ui/ui.js','1')";
const WEB_BUILD = "process.exit(require('fs').existsSync('dist/libs/ui/ui.js') ? 0 : 4)";
const UI = (test: string) =>
  project(
    'ui',
    'libs/ui',
    { build: UI_BUILD, lint: OK, test },
    // Its tests need nothing first, whatever targetDefaults says.
    { build: { outputs: ['{workspaceRoot}/dist/{projectRoot}'] }, test: { dependsOn: [] } },
  );

const FILES: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'acme',
    private: true,
    devDependencies: { nx: `link:${NX_DIR}` },
  }),
  'nx.json': JSON.stringify({
    plugins: ['./tools/typecheck.js'],
    pluginsConfig: { '@nx/js': { analyzeSourceFiles: true, analyzeLockfile: false } },
    targetDefaults: {
      build: { dependsOn: ['^build'], outputs: ['{projectRoot}/dist'] },
      // Tests read the dependencies' builds, not their own; lint needs nothing; typecheck has
      // no default, so init's own (^build) applies.
      test: { dependsOn: ['^build'] },
      lint: { dependsOn: [], cache: true },
    },
  }),
  // A local nx plugin: a `typecheck` target for each project with a tsconfig.json.
  'tools/typecheck.js': `const { dirname } = require('node:path');
exports.createNodesV2 = [
  '**/tsconfig.json',
  async (files) =>
    files.map((f) => [f, { projects: { [dirname(f)]: { targets: { typecheck: { command: 'node -e 0' } } } } }]),
];
`,
  'tsconfig.base.json': JSON.stringify({
    compilerOptions: {
      baseUrl: '.',
      paths: { '@acme/util': ['libs/util/src/index.ts'], '@acme/ui': ['libs/ui/src/index.ts'] },
    },
  }),
  '.gitignore': 'node_modules/\n.gatehouse/\n.nx/\ndist/\nout/\n',
  // Its build needs a target init writes no gate for.
  'libs/util/project.json': project(
    'util',
    'libs/util',
    { codegen: OK, build: OK, lint: OK, test: OK },
    { build: { dependsOn: ['^build', 'codegen'] } },
  ),
  'libs/util/tsconfig.json': '{}',
  'libs/util/src/index.ts': 'export const util = 1;\n',
  'libs/ui/project.json': UI(OK),
  'libs/ui/src/index.ts': "import { util } from '@acme/util';\nexport const ui = util;\n",
  // Its build needs its own typecheck (only its own: nx's `typecheck`, not `^typecheck`).
  'apps/web/project.json': project(
    'web',
    'apps/web',
    { build: WEB_BUILD, test: OK },
    { build: { dependsOn: ['^build', 'typecheck'] } },
  ),
  'apps/web/tsconfig.json': '{}',
  'apps/web/src/main.ts': "import { ui } from '@acme/ui';\nconsole.log(ui);\n",
};

const TASKS = ['build', 'lint', 'typecheck', 'test'];
let root = '';
const dirs: string[] = [];
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gh-init-nx-'));
  dirs.push(root);
  write(root, FILES);
  execFileSync('pnpm', ['install', '--offline', '--silent'], { cwd: root, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 'T');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
}, 120_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** nx's own task graph of the four tasks: for each task id (`web:test`), every task before it. */
function nxClosure(): Map<string, string[]> {
  const file = join(root, '.nx', 'task-graph.json');
  execFileSync(process.execPath, [NX, 'run-many', '-t', TASKS.join(','), `--graph=${file}`], {
    cwd: root,
    env: ENV,
    stdio: 'pipe',
  });
  const deps = (
    JSON.parse(readFileSync(file, 'utf8')) as { tasks: { dependencies: Record<string, string[]> } }
  ).tasks.dependencies;
  const nodes = Object.entries(deps).map(([id, needs]) => ({ id, needs }));
  return new Map(
    nodes.map((n) => [n.id, [...withNeeds(nodes, [n.id])].filter((x) => x !== n.id).sort()]),
  );
}

/** `web:test` as a gate id. */
const gateId = (task: string) => task.replace(':', '-');

const endsOf = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; id?: string; result?: { status: string } })
    .filter((e) => e.type === 'gate-end')
    .map((e) => ({ id: e.id!, status: e.result?.status }));

describe('init in an integrated nx workspace', () => {
  it("writes gates of packages over nx's projects, with each project's dependsOn and nx's outputs", async () => {
    const dry = await runCli(['init', '--dry-run'], root, ENV);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.err).toContain(
      "workspace: 3 nx projects from nx's project graph; dependencies: the targets' dependsOn in nx's graph for build, lint, test",
    );
    // A dependsOn init cannot follow is said, in the output and the gate's comment.
    const notFollowed =
      'build: not followed: util → codegen in dependsOn: init writes no gate for these, so nx would run them before `build` and the gates do not.';
    expect(dry.err).toContain(notFollowed);
    expect(dry.out).toContain(notFollowed.slice('build: '.length));
    const wrote = await runCli(['init'], root, ENV);
    expect(wrote.code, wrote.err).toBe(0);
    expect(wrote.out).toContain('pnpm add --save-dev gatehouse-ci @gatehouse-ci/nx');
    const text = readFileSync(join(root, 'gatehouse.yml'), 'utf8');
    expect(text).toBe(dry.out);

    const config = parseYaml(text) as UserConfig;
    expect(config.gates).toEqual({
      build: {
        kind: 'build',
        packages: {
          script: 'build',
          overrides: {
            ui: { outputs: ['//dist/libs/ui'] },
            web: { needs: ['^build', 'web-typecheck'] },
          },
        },
        needs: ['^build'],
        outputs: ['dist'],
      },
      lint: { kind: 'lint', packages: { script: 'lint' } },
      typecheck: { kind: 'custom', packages: { script: 'typecheck' }, needs: ['^build'] },
      test: {
        kind: 'unit-test',
        packages: { script: 'test', overrides: { ui: { needs: [] } } },
        needs: ['^build'],
      },
    });

    // The config validates over nx's graph, as every command reads it.
    const v = await validateConfig(join(root, 'gatehouse.yml'), {
      workspace: (await readProjectWorkspace(root))!,
    });
    expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const gates = v.pipeline!.gates;
    const byId = new Map(gates.map((g) => [g.id, g]));
    expect(byId.get('web-build')!.run).toBe(
      'npx --no-install nx run web:build --excludeTaskDependencies --skip-nx-cache',
    );
    expect(byId.get('web-build')!.outputs).toEqual(['apps/web/dist']);
    expect(byId.get('ui-build')!.outputs).toEqual(['dist/libs/ui']);

    // The same tasks as nx's task graph but util's codegen (not followed, said above); where nx
    // has a dependsOn (targetDefaults', a project's own), the same dependencies; for typecheck
    // (none in nx's graph) init's default, ^build, on top of nx's none.
    const mapped = (task: string) => TASKS.includes(task.slice(task.indexOf(':') + 1));
    const theirs = nxClosure();
    expect(theirs.get('util:build')).toEqual(['util:codegen']);
    expect(theirs.get('ui:test')).toEqual([]);
    expect(theirs.get('web:build')).toEqual([
      'ui:build',
      'util:build',
      'util:codegen',
      'web:typecheck',
    ]);
    const tasks = [...theirs.keys()].filter(mapped);
    expect(gates.map((g) => g.id).sort()).toEqual(tasks.map(gateId).sort());
    for (const task of tasks) {
      const id = gateId(task);
      const before = theirs.get(task)!.filter(mapped);
      const ours = [...withNeeds(gates, [id])].filter((x) => x !== id).sort();
      if (id.endsWith('-typecheck')) {
        expect(before, id).toEqual([]);
        expect(ours, id).toEqual(id === 'web-typecheck' ? ['ui-build', 'util-build'] : []);
      } else expect(ours, id).toEqual(before.map(gateId));
    }
    expect(byId.get('web-lint')).toBeUndefined();
    expect([...byId.keys()].filter((id) => id.endsWith('-typecheck')).sort()).toEqual([
      'util-typecheck',
      'web-typecheck',
    ]);
  }, 180_000);

  it('passes on the untouched workspace and fails for exactly the project whose target fails', async () => {
    const ok = await runCli(['run', '--json'], root, ENV);
    expect(ok.code, ok.out + ok.err).toBe(0);
    const passed = endsOf(ok.out);
    expect(passed).toHaveLength(10);
    expect(passed.every((e) => e.status === 'passed')).toBe(true);

    writeFileSync(join(root, 'libs/ui/project.json'), UI('process.exit(3)'));
    try {
      const bad = await runCli(['run', '--json'], root, ENV);
      expect(bad.code).toBe(1);
      const ends = endsOf(bad.out);
      expect(ends.filter((e) => e.status === 'failed').map((e) => e.id)).toEqual(['ui-test']);
      expect(ends.every((e) => e.status !== 'skipped')).toBe(true);
      const report = JSON.parse(
        readFileSync(join(root, '.gatehouse', 'report', 'report.json'), 'utf8'),
      ) as RunReport;
      const failed = report.gates.find((g) => g.status === 'failed')!;
      expect(failed.id).toBe('ui-test');
      expect(failed.command!.text).toContain('nx run ui:test');
    } finally {
      git('checkout', '-q', '--', 'libs/ui/project.json');
    }
  }, 300_000);

  it("gives a dependant's gate the build nx writes at the workspace root, from the cache", async () => {
    // ui's build is unchanged, web's sources are not: ui-build comes from the cache, which
    // restores what it wrote at the root (dist/libs/ui), and web's build reads it there.
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    const main = join(root, 'apps/web/src/main.ts');
    const before = readFileSync(main, 'utf8');
    writeFileSync(main, `${before}// edited\n`);
    try {
      const r = await runCli(['run', '--json'], root, ENV);
      expect(r.code, r.out + r.err).toBe(0);
      const status = new Map(endsOf(r.out).map((e) => [e.id, e.status]));
      expect(status.get('ui-build')).toBe('cached');
      expect(status.get('web-build')).toBe('passed');
      expect(readFileSync(join(root, 'dist/libs/ui/ui.js'), 'utf8')).toBe('1');
    } finally {
      writeFileSync(main, before);
    }
  }, 300_000);

  it('keeps whole-repository gates, and says why, when nx cannot compute its graph', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-init-nx-broken-'));
    dirs.push(dir);
    write(dir, {
      'package.json': JSON.stringify({ name: 'broken', private: true }),
      'nx.json': JSON.stringify({
        plugins: ['./no-such-plugin.js'],
        targetDefaults: { build: { dependsOn: ['^build'] } },
      }),
      'libs/a/project.json': project('a', 'libs/a', { build: OK }),
    });
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(NX_DIR, join(dir, 'node_modules/nx'));
    const r = await runCli(['init', '--dry-run'], dir, ENV);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(
      /nx projects: not read, nx cannot compute the project graph of .*; whole-repository gates instead/,
    );
    const config = parseYaml(r.out) as UserConfig;
    expect(Object.keys(config.gates)).toEqual(['build']);
    expect(config.gates.build!.run).toBe('npx nx run-many -t build');
  }, 120_000);
});
