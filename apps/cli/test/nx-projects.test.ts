/**
 * Gates of `packages:` in an integrated nx workspace, with the real nx: projects that exist
 * only as `project.json` files, one root package.json, and dependencies that nx infers from
 * imports through a TypeScript path alias. The packages, their dependencies and their targets
 * come from nx's project graph; `affected` must equal `nx show projects --affected`.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionalPackage } from '../src/plugins.js';
import { runCli } from './helpers.js';

const require = createRequire(import.meta.url);
// nx is this package's devDependency; the workspace links it as an install would.
const NX_DIR = dirname(require.resolve('nx/package.json'));
const NX = join(NX_DIR, 'bin/nx.js');
const ENV = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };

/** A target of `nx:run-commands` running a small node command. */
const target = (code: string) => ({
  executor: 'nx:run-commands',
  options: { command: `node -e ${JSON.stringify(code)}` },
});
const project = (name: string, root: string, test = 'process.exit(0)') =>
  JSON.stringify({
    name,
    root,
    sourceRoot: `${root}/src`,
    targets: {
      lint: target('process.exit(0)'),
      test: target(test),
      build: target('process.exit(0)'),
    },
  });

const FILES: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'acme',
    private: true,
    devDependencies: { nx: '21.6.4' },
  }),
  // @nx/js would turn on the analysis of imports; the fixture does not install it.
  'nx.json': JSON.stringify({
    defaultBase: 'main',
    pluginsConfig: { '@nx/js': { analyzeSourceFiles: true, analyzeLockfile: false } },
    targetDefaults: { build: { dependsOn: ['^build'] } },
  }),
  'tsconfig.base.json': JSON.stringify({
    compilerOptions: {
      baseUrl: '.',
      paths: { '@acme/util': ['libs/util/src/index.ts'], '@acme/ui': ['libs/ui/src/index.ts'] },
    },
  }),
  '.gitignore': 'node_modules/\n.gatehouse/\n.nx/\n',
  'libs/util/project.json': project('util', 'libs/util'),
  'libs/util/src/index.ts': 'export const util = 1;\n',
  'libs/ui/project.json': project('ui', 'libs/ui'),
  'libs/ui/src/index.ts': "import { util } from '@acme/util';\nexport const ui = util;\n",
  'apps/web/project.json': project('web', 'apps/web'),
  'apps/web/src/main.ts': "import { ui } from '@acme/ui';\nconsole.log(ui);\n",
  'gatehouse.yml': `version: 1
name: acme
gates:
  build: { kind: build, packages: { script: build }, needs: [^build] }
  lint: { kind: lint, packages: { script: lint } }
  test: { kind: unit-test, packages: { script: test }, needs: [build] }
`,
};

let root = '';
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'gh-nx-projects-'));
  for (const [path, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  mkdirSync(join(root, 'node_modules/.bin'), { recursive: true });
  symlinkSync(NX_DIR, join(root, 'node_modules/nx'));
  symlinkSync('../nx/bin/nx.js', join(root, 'node_modules/.bin/nx'));
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 't@example.com');
  git('config', 'user.name', 'T');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function nxAffected(): string[] {
  const out = execFileSync(
    process.execPath,
    [NX, 'show', 'projects', '--affected', '--base=main'],
    { cwd: root, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .sort();
}

const endsOf = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map(
      (l) =>
        JSON.parse(l) as {
          type: string;
          id?: string;
          result?: { status: string; logTail: string };
        },
    )
    .filter((e) => e.type === 'gate-end')
    .map((e) => ({ id: e.id, status: e.result?.status, log: e.result?.logTail ?? '' }));

describe('gates of packages over nx projects (project.json only)', () => {
  it('expands one gate per nx project, with the dependencies nx infers from imports', async () => {
    const v = await runCli(['validate'], root, ENV);
    expect(v.err, v.out).toBe('');
    expect(v.code).toBe(0);
    expect(v.out).toContain('9 gates');
    const g = await runCli(['graph'], root, ENV);
    expect(g.code, g.err).toBe(0);
    expect(g.out).toContain('ui-build (build) <- needs util-build');
    expect(g.out).toContain('web-build (build) <- needs ui-build, util-build');
    expect(g.out).toContain('web-test (unit-test) <- needs ui-build, util-build, web-build');
    expect(g.out).toMatch(/^ {2}util-build \(build\)$/m);
  }, 120_000);

  it('runs each gate as its nx target: passes, then fails when one project fails its test', async () => {
    const pass = await runCli(['run', '--json'], root, ENV);
    expect(pass.code, pass.err).toBe(0);
    const passed = endsOf(pass.out);
    expect(passed.map((e) => e.id).sort()).toEqual([
      'ui-build',
      'ui-lint',
      'ui-test',
      'util-build',
      'util-lint',
      'util-test',
      'web-build',
      'web-lint',
      'web-test',
    ]);
    expect(passed.every((e) => e.status === 'passed')).toBe(true);
    // nx runs the one target: the builds web needs are gates of their own (nx.json says ^build)
    const webBuild = passed.find((e) => e.id === 'web-build')!.log;
    expect(webBuild).toContain('nx run web:build');
    expect(webBuild).not.toMatch(/ui:build|util:build|tasks? it depends on/);
    // nx rewrote .nx/ while the gates ran: not an input, so nothing runs again
    const again = await runCli(['run', '--json'], root, ENV);
    expect(again.code, again.err).toBe(0);
    expect(endsOf(again.out).map((e) => e.status)).toEqual(Array(9).fill('cached'));

    writeFileSync(join(root, 'libs/ui/project.json'), project('ui', 'libs/ui', 'process.exit(3)'));
    try {
      const fail = await runCli(['run', '--json', '--gate', 'ui-test'], root, ENV);
      expect(fail.code).toBe(1);
      const ends = new Map(endsOf(fail.out).map((e) => [e.id, e.status]));
      expect(ends.get('ui-test')).toBe('failed');
      expect(ends.get('ui-build')).toBe('passed');
    } finally {
      git('checkout', '-q', '--', 'libs/ui/project.json');
    }
  }, 300_000);

  it.each([
    ['a library every project depends on', 'libs/util/src/index.ts'],
    ['a library the app imports', 'libs/ui/src/index.ts'],
    ['the app', 'apps/web/src/main.ts'],
  ])(
    "affected after a change in %s equals nx's",
    async (_, file) => {
      git('checkout', '-q', '-B', 'feature', 'main');
      try {
        appendFileSync(join(root, file), '//\n');
        git('commit', '-q', '-am', 'change');
        const r = await runCli(['affected', '--json'], root, ENV);
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        const ours = JSON.parse(r.out) as { packages: string[]; gates: string[] };
        expect(ours.packages.length).toBeGreaterThan(0);
        expect(ours.packages).toEqual(nxAffected());
        for (const gate of ours.gates)
          expect(
            ours.packages.some((p) => gate.startsWith(`${p}-`)),
            gate,
          ).toBe(true);
      } finally {
        git('reset', '-q', '--hard');
        git('checkout', '-q', 'main');
      }
    },
    120_000,
  );
});

describe('reading the nx project graph', () => {
  it("reports nx's failure at the first gate of packages", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-nx-broken-'));
    try {
      writeFileSync(join(dir, 'nx.json'), '{ "plugins": ["./no-such-plugin.js"] }');
      writeFileSync(join(dir, 'package.json'), '{ "name": "x" }');
      mkdirSync(join(dir, 'libs/a'), { recursive: true });
      writeFileSync(join(dir, 'libs/a/project.json'), project('a', 'libs/a'));
      writeFileSync(join(dir, 'gatehouse.yml'), FILES['gatehouse.yml']!);
      const r = await runCli(['validate'], dir, ENV);
      expect(r.code).toBe(1);
      expect(r.out + r.err).toMatch(
        /gatehouse\.yml:4:\d+ error GH_NX_GRAPH gates\.build\.packages: nx cannot compute the project graph/,
      );
      expect(r.out + r.err).not.toContain('GH_NO_WORKSPACE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('names the package to install when an optional package is missing', async () => {
    const missing = '@gatehouse-ci/no-such-package';
    const err = await optionalPackage(missing, 'reading it', import(missing)).catch((e) => e);
    expect(err).toMatchObject({ code: 'GH_PLUGIN_NOT_FOUND' });
    expect((err as Error).message).toBe(
      `reading it is in the optional package \`${missing}\`, which is not installed`,
    );
    expect((err as { hint: string }).hint).toContain(`npm install --save-dev ${missing}`);
  });
});
