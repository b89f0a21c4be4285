import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig, type UserConfig } from '@gatehouse-ci/core';
import { hostileString } from '@gatehouse-ci/test-utils';
import { main, type Io } from '../src/index.js';
import {
  choosePackageManager,
  initProject,
  nodeMajorFromRange,
  onPath,
  parseJsonc,
  planInit,
  renderInit,
  SCHEMA_COMMENT,
  yamlFlow,
  yamlScalar,
} from '../src/init/index.js';
import type { ProjectFacts } from '../src/init/index.js';
import { outputsUnder, proposeWorkspaceGates, type WorkspaceFacts } from '../src/init/monorepo.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A project in a fresh temp dir: file path → content (objects are written as JSON; `null` makes a directory). */
async function project(
  files: Record<string, string | object | null>,
  name = 'proj',
): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gatehouse-init-'));
  dirs.push(root);
  const dir = join(root, name);
  await mkdir(dir);
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    if (content === null) {
      await mkdir(p, { recursive: true });
      continue;
    }
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

function io(cwd: string): Io & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c) => (o += String(c)));
  stderr.on('data', (c) => (e += String(c)));
  return { stdout, stderr, cwd, env: {}, out: () => o, err: () => e };
}

/** Runs `gatehouse init` in `dir`, then checks the file parses to the plan and validates with zero diagnostics. */
async function initAndValidate(
  dir: string,
): Promise<{ text: string; config: UserConfig; stdout: string }> {
  const s = io(dir);
  const code = await main(['init'], s);
  expect(s.err()).toBe('');
  expect(code).toBe(0);
  const text = await readFile(join(dir, 'gatehouse.yml'), 'utf8');
  expect(text.split('\n')[0]).toBe(SCHEMA_COMMENT);
  const { plan } = await initProject(dir);
  const config = parseYaml(text) as UserConfig;
  // Parses back to exactly the intended model, key order included.
  expect(config).toStrictEqual(plan.config);
  expect(JSON.stringify(config)).toBe(JSON.stringify(plan.config));
  const { diagnostics, pipeline } = await validateConfig(join(dir, 'gatehouse.yml'));
  expect(diagnostics.map((d) => `${d.severity} ${d.code} ${d.path}: ${d.message}`)).toEqual([]);
  expect(pipeline).not.toBeNull();
  // Every gate carries an explanation comment right above it.
  for (const id of Object.keys(config.gates))
    expect(text).toMatch(new RegExp(`\\n  # ${id} — .*\\n(  # .*\\n)*  ${id}:\\n`));
  return { text, config, stdout: s.out() };
}

describe('gatehouse init on fixture projects', () => {
  it('eslint + vitest + build + sonar + pa11y (npm, GitHub)', async () => {
    const dir = await project({
      'package.json': {
        name: 'storefront',
        engines: { node: '>=22.11' },
        scripts: {
          build: 'vite build',
          start: 'node server.js',
          test: 'vitest run',
          lint: 'eslint .',
        },
        devDependencies: {
          eslint: '^9.0.0',
          vitest: '^3.2.0',
          '@vitest/coverage-v8': '^3.2.0',
          'pa11y-ci': '^3.1.0',
        },
      },
      'package-lock.json': '{}',
      'eslint.config.js': 'export default [];\n',
      'vitest.config.ts': 'export default {};\n',
      '.pa11yci': '{"urls":["http://localhost:8080/"]}',
      'sonar-project.properties': 'sonar.projectKey=storefront\n',
      '.github/workflows': null,
      'src/index.js': 'export {};\n',
      'test/index.test.js': 'export {};\n',
      'tsconfig.json': '{}',
      'tsconfig.build.json': '{}',
      'public/index.html': '<!doctype html>\n',
      'dist/index.js': '// built\n',
    });
    const { config, stdout } = await initAndValidate(dir);
    expect(Object.keys(config.gates)).toEqual(['lint', 'unit', 'build', 'a11y', 'sonar']);
    expect(config.image).toBe('node:22-bookworm-slim');
    expect(config.setup).toEqual({ run: 'npm ci', inputs: ['package.json', 'package-lock.json'] });
    // The project's own scripts run, with evidence flags passed through them.
    expect(config.gates.lint).toEqual({
      kind: 'lint',
      run: 'npm run lint -- -f json -o "$GATEHOUSE_OUT/eslint.json"',
      evidence: [{ format: 'eslint', path: 'eslint.json' }],
      policy: { max_errors: 0 },
    });
    // No gate narrows its inputs: each is keyed on every file git knows.
    for (const g of Object.values(config.gates)) expect(g.inputs).toBeUndefined();
    expect(config.gates.unit!.evidence).toEqual([
      { format: 'junit', path: 'junit.xml' },
      { format: 'istanbul', path: 'coverage/coverage-summary.json' },
    ]);
    expect(config.gates.unit!.run).toBe(
      'npm run test -- --reporter=default --reporter=junit --outputFile.junit="$GATEHOUSE_OUT/junit.xml" --coverage.enabled --coverage.reportOnFailure --coverage.reporter=json-summary --coverage.reportsDirectory="$GATEHOUSE_OUT/coverage"',
    );
    expect(config.gates.build).toEqual({
      kind: 'build',
      run: 'npm run build',
      outputs: ['dist/**'],
    });
    expect(config.gates.a11y!.needs).toEqual(['build']);
    expect(config.gates.sonar).toEqual({
      kind: 'sonarqube',
      run: 'npx @sonar/scan',
      secrets: ['SONAR_TOKEN'],
      mode: 'advisory',
    });
    expect(config.release).toEqual({
      from: 'build',
      copy: ['dist/', 'package.json', 'server.js'],
      cmd: ['node', 'server.js'],
    });
    expect(config.targets).toEqual({ dockerfile: {}, github: {} });
    expect(stdout).toContain(
      'lint: the lint script, ESLint (eslint.config.js), JSON findings added through it',
    );
    expect(stdout).toContain(
      'cache: gates declare no inputs, so each is keyed on every file git knows in the project',
    );
    expect(stdout).toContain('image: node:22-bookworm-slim (Node 22 from engines.node ">=22.11")');
    expect(stdout).toMatch(/Wrote gatehouse\.yml \(5 gates: lint, unit, build, a11y, sonar\)/);
  });

  it('jest only, yarn berry, Jenkins: exit code evidence without jest-junit', async () => {
    const dir = await project({
      'package.json': {
        name: 'api',
        scripts: { test: 'jest' },
        devDependencies: { jest: '^29.7.0' },
      },
      'yarn.lock': '',
      '.yarnrc.yml': 'nodeLinker: node-modules\n',
      Jenkinsfile: 'pipeline {}\n',
      'jest.config.js': 'module.exports = {};\n',
      'babel.config.cjs': 'module.exports = {};\n',
      'lib/a.js': '',
      '__tests__/a.test.js': '',
    });
    const { config } = await initAndValidate(dir);
    expect(Object.keys(config.gates)).toEqual(['unit']);
    expect(config.gates.unit).toEqual({
      kind: 'unit-test',
      run: 'yarn run test --ci',
      evidence: [{ format: 'exitcode' }],
    });
    expect(config.setup!.run).toBe('yarn install --immutable');
    expect(config.targets).toEqual({ dockerfile: {}, jenkins: {} });
    expect(config.release).toBeUndefined();
  });

  it('jest with jest-junit writes JUnit evidence; yarn classic; Buildkite', async () => {
    const dir = await project({
      'package.json': {
        name: 'api',
        jest: { testEnvironment: 'node' },
        devDependencies: { jest: '^29', 'jest-junit': '^16' },
      },
      'yarn.lock': '',
      '.buildkite': null,
    });
    const { config } = await initAndValidate(dir);
    expect(config.gates.unit!.run).toBe(
      'JEST_JUNIT_OUTPUT_DIR="$GATEHOUSE_OUT" JEST_JUNIT_OUTPUT_NAME=junit.xml yarn jest --ci --reporters=default --reporters=jest-junit',
    );
    expect(config.gates.unit!.evidence).toEqual([{ format: 'junit', path: 'junit.xml' }]);
    expect(config.setup!.run).toBe('yarn install --frozen-lockfile');
    expect(config.targets).toEqual({ dockerfile: {}, buildkite: {} });
  });

  it('a .gitlab-ci.yml offers the gitlab target', async () => {
    const dir = await project({
      'package.json': { name: 'api', scripts: { test: 'node --test' } },
      'package-lock.json': '{}',
      '.gitlab-ci.yml': 'test:\n  script: [npm test]\n',
    });
    const { config } = await initAndValidate(dir);
    expect(config.targets).toEqual({ dockerfile: {}, gitlab: {} });
  });

  it('pa11y-ci without a build: a11y gate with no needs', async () => {
    const dir = await project({
      'package.json': { name: 'site', devDependencies: { 'pa11y-ci': '^3' } },
      '.pa11yci.json': '{"urls":["file:///srv/index.html"]}',
    });
    const { config } = await initAndValidate(dir);
    expect(config.gates).toEqual({
      a11y: {
        kind: 'a11y-test',
        run: 'npx pa11y-ci --json > "$GATEHOUSE_OUT/pa11y.json"',
        evidence: [{ format: 'pa11y', path: 'pa11y.json' }],
        policy: { max_violations: 0 },
      },
    });
    expect(config.setup!.run).toBe('npm install');
  });

  it('a single-page app with a preview script: the a11y gate serves the build and waits for it', async () => {
    const spa = (urls: string[]) =>
      project({
        'package.json': {
          name: 'spa',
          scripts: { build: 'vite build', preview: 'vite preview --port 4173 --strictPort' },
          devDependencies: { vite: '^5', 'pa11y-ci': '^4' },
        },
        'package-lock.json': '{}',
        '.pa11yci.json': JSON.stringify({ urls }),
      });
    const { config } = await initAndValidate(
      await spa(['http://localhost:4173/', { url: 'http://localhost:4173/?filter=done' }] as never),
    );
    expect(config.gates.a11y).toEqual({
      kind: 'a11y-test',
      needs: ['build'],
      run:
        'npm run preview > "$GATEHOUSE_OUT/preview.log" 2>&1 & ' +
        `node -e "const u=process.argv[1],t=Date.now()+60000;(function p(){fetch(u).then(()=>{},()=>Date.now()<t?setTimeout(p,250):process.exit(1))})()" 'http://localhost:4173/' && ` +
        'npx pa11y-ci --json > "$GATEHOUSE_OUT/pa11y.json"',
      evidence: [{ format: 'pa11y', path: 'pa11y.json' }],
      policy: { max_violations: 0 },
    });
    // URLs on two origins, or not on this machine: init cannot know what serves them.
    for (const urls of [
      ['http://localhost:4173/', 'http://localhost:3000/'],
      ['https://example.com/'],
    ]) {
      const { config: other } = await initAndValidate(await spa(urls));
      expect(other.gates.a11y!.run).toBe('npx pa11y-ci --json > "$GATEHOUSE_OUT/pa11y.json"');
    }
  });

  it('@axe-core/cli with a react-scripts build checks the built page', async () => {
    const dir = await project({
      'package.json': {
        name: 'cra',
        scripts: { build: 'react-scripts build', start: 'serve -s build' },
        dependencies: { 'react-scripts': '5.0.1' },
        devDependencies: { '@axe-core/cli': '^4' },
      },
      'package-lock.json': '{}',
    });
    const { config } = await initAndValidate(dir);
    expect(config.gates.build!.outputs).toEqual(['build/**']);
    expect(config.gates.a11y).toMatchObject({
      needs: ['build'],
      evidence: [{ format: 'axe', path: 'axe.json' }],
    });
    expect(config.gates.a11y!.run).toBe(
      'npx axe "file://$PWD/build/index.html" --dir "$GATEHOUSE_OUT" --save axe.json',
    );
    // `serve -s build` is not `node <file>`.
    expect(config.release!.cmd).toEqual(['npm', 'start']);
  });

  it('pnpm workspace: frozen lockfile, workspace manifests as setup inputs, pnpm exec', async () => {
    const dir = await project({
      'package.json': {
        name: 'mono',
        private: true,
        scripts: { build: 'tsc -b', lint: 'eslint .' },
        devDependencies: { eslint: '^9' },
      },
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      'pnpm-workspace.yaml': "packages:\n  - 'packages/*'\n  - '!packages/legacy'\n",
      'tsconfig.json': '{ // comment\n "compilerOptions": { "outDir": "./lib/", }, }\n',
      'src/a.ts': '',
      'lib/a.js': '',
      'packages/ui/src/b.ts': '',
      'packages/ui/test/b.test.ts': '',
      'packages/api/lib/c.js': '',
    });
    const { config } = await initAndValidate(dir);
    expect(config.setup).toEqual({
      run: 'pnpm install --frozen-lockfile',
      inputs: ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'packages/*/package.json'],
    });
    expect(config.gates.lint!.run).toBe('pnpm run lint -f json -o "$GATEHOUSE_OUT/eslint.json"');
    expect(config.gates.build).toEqual({
      kind: 'build',
      run: 'pnpm run build',
      outputs: ['lib/**'],
    });
    expect(config.gates.lint!.inputs).toBeUndefined();
  });

  it('turbo monorepo: gates call turbo tasks, outputs per workspace package, no release', async () => {
    const dir = await project({
      'package.json': {
        name: 'turbo-mono',
        private: true,
        workspaces: ['apps/*', 'packages/*'],
        scripts: {
          build: 'turbo run build',
          lint: 'turbo run lint',
          test: 'turbo run test',
          start: 'node apps/web/server.js',
        },
        devDependencies: { turbo: '^2.5.0', eslint: '^9' },
      },
      'package-lock.json': '{}',
      'turbo.json': {
        tasks: {
          build: { outputs: ['dist/**', '.next/**', '!.next/cache/**'] },
          lint: {},
          'web#test': {},
        },
      },
      'apps/web/app/page.tsx': '',
      'apps/web/public/logo.svg': '',
      'apps/web/.next/out.js': '',
      'packages/ui/src/button.tsx': '',
      'packages/ui/dist/button.js': '',
    });
    const { config, text } = await initAndValidate(dir);
    expect(config.gates.lint).toEqual({
      kind: 'lint',
      run: 'npx turbo run lint',
      evidence: [{ format: 'exitcode' }],
    });
    expect(config.gates.unit).toEqual({
      kind: 'unit-test',
      run: 'npx turbo run test',
      evidence: [{ format: 'exitcode' }],
    });
    expect(config.gates.build).toEqual({
      kind: 'build',
      run: 'npx turbo run build',
      outputs: ['apps/*/dist/**', 'apps/*/.next/**', 'packages/*/dist/**', 'packages/*/.next/**'],
    });
    expect(config.setup!.inputs).toEqual([
      'package.json',
      'package-lock.json',
      'apps/*/package.json',
      'packages/*/package.json',
    ]);
    expect(config.release).toBeUndefined();
    expect(text).toContain('through Turborepo (found turbo.json)');
  });

  it('setup sees what changes an install: hooks, patches, install-script configs', async () => {
    const dir = await project({
      'package.json': { name: 'p', devDependencies: { puppeteer: '^24' } },
      'pnpm-lock.yaml': '',
      '.pnpmfile.cjs': 'module.exports = {};',
      'patches/left-pad@1.3.0.patch': '',
      '.puppeteerrc.cjs': 'module.exports = { skipDownload: true };',
    });
    const { config } = await initAndValidate(dir);
    expect(config.setup!.inputs).toEqual([
      'package.json',
      'pnpm-lock.yaml',
      '.pnpmfile.cjs',
      'patches/**',
      '.puppeteerrc.cjs',
    ]);
  });

  it('nx monorepo: tasks from targetDefaults and inferring plugins', async () => {
    const dir = await project({
      'package.json': { name: 'nx-mono', private: true, devDependencies: { nx: '^21' } },
      'package-lock.json': '{}',
      'nx.json': {
        targetDefaults: { build: { cache: true } },
        plugins: [{ plugin: '@nx/eslint/plugin', options: {} }, '@nx/jest/plugin'],
      },
    });
    const { config, text, stdout } = await initAndValidate(dir);
    expect(config.gates.lint!.run).toBe('npx nx run-many -t lint');
    expect(config.gates.unit!.run).toBe('npx nx run-many -t test');
    expect(config.gates.build!.run).toBe('npx nx run-many -t build');
    expect(text).toContain('through Nx (found nx.json)');
    // Its projects would be nx's, but nx is not installed to say which.
    expect(stdout).toContain(
      'nx projects: not read, nx is not installed (node_modules/nx); whole-repository gates instead',
    );
  });

  it("package-based nx: gates of the workspace packages follow nx.json's targetDefaults dependsOn", async () => {
    const pkg = (name: string, deps: Record<string, string> = {}) => ({
      name,
      scripts: { build: 'node -e 0', lint: 'node -e 0', test: 'node -e 0', typecheck: 'node -e 0' },
      dependencies: deps,
    });
    const dir = await project({
      'package.json': { name: 'nx-ws', private: true, workspaces: ['packages/*'] },
      'package-lock.json': '{}',
      'nx.json': {
        targetDefaults: {
          build: { dependsOn: ['^build'] },
          lint: { dependsOn: [] },
          test: {
            dependsOn: [
              { target: 'build', projects: 'dependencies' },
              { target: 'lint' },
              { target: 'build', projects: ['other'] },
              'other:build',
            ],
          },
          // An executor's defaults are not one task's.
          'nx:run-commands': { dependsOn: ['build'] },
        },
      },
      'packages/a/package.json': pkg('a'),
      'packages/b/package.json': pkg('b', { a: '*' }),
    });
    const { config, text, stdout } = await initAndValidate(dir);
    expect(config.gates.build!.needs).toEqual(['^build']);
    expect(config.gates.lint!.needs).toBeUndefined();
    expect(config.gates.test!.needs).toEqual(['^build', 'lint']);
    // typecheck has no targetDefaults: init's own default.
    expect(config.gates.typecheck!.needs).toEqual(['^build']);
    expect(text).toContain("needs ^build, lint: from nx.json's targetDefaults");
    expect(text).toContain("needs nothing: nx.json's targetDefaults gives `lint` no dependsOn");
    expect(stdout).toContain(
      "workspace: 2 packages; dependencies: nx.json's targetDefaults for build, lint, test",
    );
    expect(stdout).not.toContain('nx projects: not read');
  });

  it('empty package.json: a failing todo gate, name from the directory', async () => {
    const dir = await project({ 'package.json': '{}' }, 'bare-app');
    const { config, stdout } = await initAndValidate(dir);
    expect(config.name).toBe('bare-app');
    expect(Object.keys(config.gates)).toEqual(['todo']);
    expect(config.gates.todo!.kind).toBe('custom');
    const r = spawnSync('/bin/sh', ['-c', config.gates.todo!.run!], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no checks configured yet');
    expect(config.targets).toEqual({ dockerfile: {}, github: {} });
    expect(stdout).toContain('no CI config found; github by default');
  });

  it('no package.json: a clear error and nothing written', async () => {
    const dir = await project({ 'README.md': '# hi\n' });
    const s = io(dir);
    expect(await main(['init'], s)).toBe(1);
    expect(s.err()).toContain('error GH_INIT_NO_PACKAGE_JSON: no package.json in');
    expect(s.err()).toContain('hint: run it in the root of your project');
    expect(existsSync(join(dir, 'gatehouse.yml'))).toBe(false);
  });

  it('a package.json that is not JSON: a clear error', async () => {
    const dir = await project({ 'package.json': '{ "name": ' });
    const s = io(dir);
    expect(await main(['init'], s)).toBe(1);
    expect(s.err()).toMatch(/error GH_INIT_BAD_PACKAGE_JSON: .*package\.json is not valid JSON/);
  });
});

describe('the starter config is cached by gatehouse run', () => {
  it('a second run replays every gate from the cache; editing a source runs it again', async () => {
    const lock = {
      name: 'cache-me',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name: 'cache-me', version: '1.0.0' } },
    };
    const dir = await project({
      'package.json': {
        name: 'cache-me',
        version: '1.0.0',
        scripts: { lint: 'node scripts/lint.js', build: 'node scripts/build.js' },
      },
      'package-lock.json': lock,
      'src/add.js': 'exports.add = (a, b) => a + b;\n',
      'scripts/lint.js':
        "if (/debugger/.test(require('node:fs').readFileSync('src/add.js', 'utf8'))) process.exit(1);\n",
      'scripts/build.js':
        "require('node:fs').mkdirSync('dist', { recursive: true });\nrequire('node:fs').copyFileSync('src/add.js', 'dist/add.js');\n",
      '.gitignore': 'node_modules/\ndist/\n.gatehouse/\n',
    });
    await initAndValidate(dir);
    // The gates declare no inputs: they are keyed on the files git knows.
    for (const args of [
      ['init', '-q'],
      ['add', '.'],
      ['commit', '-qm', 'init'],
    ])
      spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir });
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: 'true',
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
    };
    const run = async () => {
      const s = { ...io(dir), env };
      const code = await main(['run'], s);
      expect(code, s.out() + s.err()).toBe(0);
      const report = JSON.parse(
        await readFile(join(dir, '.gatehouse/report/report.json'), 'utf8'),
      ) as { gates: Array<{ id: string; status: string }> };
      return Object.fromEntries(report.gates.map((g) => [g.id, g.status]));
    };
    expect(await run()).toEqual({ lint: 'passed', build: 'passed' });
    expect(await run()).toEqual({ lint: 'cached', build: 'cached' });
    await writeFile(join(dir, 'src/add.js'), 'exports.add = (a, b) => b + a;\n');
    expect(await run()).toEqual({ lint: 'passed', build: 'passed' });
  });
});

describe('gatehouse init: files and flags', () => {
  const pkg = { name: 'app', scripts: { test: 'node --test' } };

  it('refuses to overwrite gatehouse.yml or gatehouse.yaml without --force', async () => {
    for (const existing of ['gatehouse.yml', 'gatehouse.yaml']) {
      const dir = await project({ 'package.json': pkg, [existing]: 'mine\n' });
      const s = io(dir);
      expect(await main(['init'], s)).toBe(1);
      expect(s.err()).toContain(`error GH_INIT_EXISTS: ${existing} already exists`);
      expect(s.err()).toContain('--force');
      expect(await readFile(join(dir, existing), 'utf8')).toBe('mine\n');
    }
  });

  it('--force replaces the file and leaves no temp file behind', async () => {
    const dir = await project({ 'package.json': pkg, 'gatehouse.yml': 'mine\n' });
    const s = io(dir);
    expect(await main(['init', '--force'], s)).toBe(0);
    const text = await readFile(join(dir, 'gatehouse.yml'), 'utf8');
    expect((parseYaml(text) as UserConfig).gates.unit!.run).toBe('npm test');
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual(['gatehouse.yml', 'package.json']);
  });

  it('--dry-run prints the config to stdout, the findings to stderr, and writes nothing', async () => {
    const dir = await project({ 'package.json': pkg });
    const s = io(dir);
    expect(await main(['init', '--dry-run'], s)).toBe(0);
    expect(existsSync(join(dir, 'gatehouse.yml'))).toBe(false);
    expect(s.out().startsWith(`${SCHEMA_COMMENT}\n`)).toBe(true);
    expect(parseYaml(s.out())).toStrictEqual((await initProject(dir)).plan.config);
    expect(s.err()).toContain('unit: the test script (no known runner, so exit code only)');
  });

  it('--dir and --output pick the project and the file', async () => {
    const dir = await project({ 'package.json': pkg });
    const s = io(dirname(dir));
    expect(await main(['init', '--dir', basename(dir), '--output', 'ci/gates.yml'], s)).toBe(1);
    // The output directory must exist: init does not invent one.
    expect(s.err()).toContain('GH_INIT_WRITE');
    await mkdir(join(dir, 'ci'));
    const s2 = io(dirname(dir));
    expect(await main(['init', '--dir', basename(dir), '--output', 'ci/gates.yml'], s2)).toBe(0);
    expect(s2.out()).toContain(`Wrote ${join(basename(dir), 'ci/gates.yml')}`);
    expect(existsSync(join(dir, 'ci/gates.yml'))).toBe(true);
  });

  it('is listed in --help', async () => {
    const s = io(tmpdir());
    expect(await main(['--help'], s)).toBe(0);
    expect(s.out()).toMatch(/\n {2}init +Write a starter gatehouse\.yml/);
  });
});

describe('init internals', () => {
  it.each([
    [['libs/ui/dist'], ['dist']],
    [
      ['libs/ui/dist/**/*.js', '!libs/ui/dist/cache'],
      ['dist/**/*.js', '!dist/cache'],
    ],
    [['./libs/ui/out/'], ['out']],
    // Outside the project directory, or the directory itself: a gate's outputs cannot name them.
    [['dist/libs/ui'], null],
    [['libs/ui/dist', 'coverage/libs/ui'], null],
    [['libs/ui'], null],
    [['libs/ui-kit/dist'], null],
    [['libs/ui/../web/dist'], null],
    [['!libs/ui/dist/cache'], null],
  ])("nx's build outputs %o as outputs of the project libs/ui's gate: %o", (nx, gate) => {
    expect(outputsUnder('libs/ui', nx)).toEqual(gate);
  });

  it("nx: builds that all write at the root (nx's default) get their outputs per project", () => {
    const pkg = (name: string) => ({
      name,
      dir: `libs/${name}`,
      scripts: {},
      deps: [],
      targets: ['build'],
    });
    const ws: WorkspaceFacts = {
      source: 'nx',
      packages: [pkg('a'), pkg('b')],
      turbo: null,
      turboWhy: null,
      targetDependsOn: new Map(),
      buildOutputs: new Map([
        ['a', ['dist/libs/a']],
        ['b', ['dist/libs/b']],
      ]),
      configAtRoot: true,
    };
    expect(proposeWorkspaceGates(ws, [])!.gates.build).toEqual({
      kind: 'build',
      packages: {
        script: 'build',
        overrides: { a: { outputs: ['//dist/libs/a'] }, b: { outputs: ['//dist/libs/b'] } },
      },
    });
    // Below the workspace root, a gate cannot name them: dist/**, said.
    const below = proposeWorkspaceGates({ ...ws, configAtRoot: false }, [])!;
    expect(below.gates.build!.outputs).toEqual(['dist/**']);
    expect(below.comments.build!.join('\n')).toContain(
      'outputs: dist/** guessed for a (dist/libs/a), b (dist/libs/b): nx writes outside the project directory',
    );
  });

  it.each([
    [['dist/libs/ui'], ['//dist/libs/ui']],
    [
      ['dist/libs/ui/**/*.js', '!dist/libs/ui/cache'],
      ['//dist/libs/ui/**/*.js', '!//dist/libs/ui/cache'],
    ],
    [
      ['libs/ui/dist', 'coverage/libs/ui'],
      ['dist', '//coverage/libs/ui'],
    ],
    // The project directory itself, another project's, one holding a project, the root, above it.
    [['libs/ui'], null],
    [['libs/ui/../web/dist'], null],
    [['libs'], null],
    [['.'], null],
    [['../dist/libs/ui'], null],
  ])(
    "in a config at the workspace root, nx's build outputs %o as outputs of libs/ui's gate: %o",
    (nx, gate) => {
      expect(outputsUnder('libs/ui', nx, { dirs: ['libs/ui', 'libs/web'] })).toEqual(gate);
    },
  );

  it("nx: each project's needs follow its targets' dependsOn, shared where most agree", () => {
    const all = ['build', 'typecheck', 'test'];
    const pkg = (name: string, deps: string[]) => ({
      name,
      dir: `libs/${name}`,
      scripts: {},
      deps,
      targets: all,
    });
    const ws: WorkspaceFacts = {
      source: 'nx',
      packages: [pkg('a', []), pkg('b', ['a']), pkg('c', ['b'])],
      turbo: null,
      turboWhy: null,
      targetDependsOn: new Map<string, Record<string, unknown[]>>([
        ['a', { build: ['^build'], test: ['build'] }],
        [
          'b',
          {
            build: ['^build', 'typecheck'],
            test: ['build', { target: 'lint', projects: ['a'] }, 'a:build'],
          },
        ],
        [
          'c',
          {
            build: ['^build', { target: 'typecheck' }],
            test: ['build'],
            typecheck: ['^typecheck'],
          },
        ],
      ]),
    };
    const p = proposeWorkspaceGates(ws, [])!;
    expect(p.gates).toEqual({
      build: {
        kind: 'build',
        packages: {
          script: 'build',
          // b's own typecheck needs no typecheck of a: `typecheck` would add a's; c's own
          // typecheck already needs its dependencies'.
          overrides: {
            b: { needs: ['^build', 'b-typecheck'] },
            c: { needs: ['^build', 'typecheck'] },
          },
        },
        needs: ['^build'],
        outputs: ['dist/**'],
      },
      // No dependsOn for a and b: init's default.
      typecheck: {
        kind: 'custom',
        packages: { script: 'typecheck', overrides: { c: { needs: ['^typecheck'] } } },
        needs: ['^build'],
      },
      test: { kind: 'unit-test', packages: { script: 'test' }, needs: ['build'] },
    });
    expect(p.comments.typecheck).toContain(
      "needs in packages.overrides for c [^typecheck]: the `dependsOn` of its `typecheck` target in nx's graph.",
    );
    const lost =
      'not followed: b → lint of a, b → a:build in dependsOn: init writes no gate for these, so nx would run them before `test` and the gates do not.';
    expect(p.comments.test).toContain(lost);
    expect(p.detected).toContain(`test: ${lost}`);
    expect(p.detected[0]).toBe(
      "workspace: 3 nx projects from nx's project graph; dependencies: the targets' dependsOn in nx's graph for build, typecheck, test",
    );
  });

  it.each([
    ['>=20.19', 20],
    ['^18 || ^20 || ^22', 22],
    ['>=18 <21', 18],
    ['20.x', 20],
    ['~22.3.0', 22],
    ['v20.11.1', 20],
    ['18 - 20', 18],
    ['>= 20', 20],
    ['*', null],
    ['latest', null],
    ['<22', null],
  ])('nodeMajorFromRange(%j) = %j', (range, major) => {
    expect(nodeMajorFromRange(range)).toBe(major);
  });

  it('image falls back to .nvmrc, then the running Node', async () => {
    const a = await initProject(
      await project({ 'package.json': { name: 'a' }, '.nvmrc': 'v18.20.4\n' }),
      '24.1.0',
    );
    expect(a.plan.config.image).toBe('node:18-bookworm-slim');
    const b = await initProject(
      await project({ 'package.json': { name: 'b' }, '.nvmrc': 'lts/iron\n' }),
      '24.1.0',
    );
    expect(b.plan.config.image).toBe('node:24-bookworm-slim');
  });

  it('parseJsonc keeps comment-like text inside strings', () => {
    expect(parseJsonc('{ "a": "x // y", /* c */ "b": "/* z */", }')).toEqual({
      a: 'x // y',
      b: '/* z */',
    });
  });

  it('yamlScalar quotes what YAML 1.1 or 1.2 would retype', () => {
    for (const s of [
      'on',
      'yes',
      'no',
      '~',
      'null',
      '0777',
      '12:30',
      '1.10',
      '- x',
      'a #b',
      '@scope/x',
      'true',
      '',
    ]) {
      expect(parseYaml(`v: ${yamlScalar(s)}`, { version: '1.1' })).toEqual({ v: s });
      expect(parseYaml(`v: ${yamlScalar(s)}`)).toEqual({ v: s });
    }
    expect(yamlScalar('npm ci')).toBe('npm ci');
  });

  it('any string survives yamlScalar / yamlFlow unchanged (hostile strings)', () => {
    fc.assert(
      fc.property(hostileString(), fc.array(hostileString(), { maxLength: 3 }), (s, list) => {
        const line = yamlScalar(s);
        expect(line).not.toMatch(/[\n\r\u0085\u2028\u2029]/);
        expect(parseYaml(`k: ${line}\nnext: 1\n`)).toEqual({ k: s, next: 1 });
        expect(parseYaml(`k: ${yamlFlow({ [s]: list, x: [s] })}\n`)).toEqual({
          k: { [s]: list, x: [s] },
        });
      }),
      { numRuns: 400 },
    );
  });

  it('hostile package names and scripts never change the config or add keys', () => {
    const base: ProjectFacts = {
      dir: '/p',
      name: 'x',
      scripts: {},
      deps: new Set(['eslint', 'vitest']),
      present: new Set(['package-lock.json', 'sonar-project.properties']),
      packageManager: {
        name: 'npm',
        lockfile: 'package-lock.json',
        yarnBerry: false,
        reason: 'package-lock.json found',
        declared: null,
      },
      node: { major: 20, source: 'engines.node' },
      workspaces: [],
      monorepo: null,
      workspace: null,
      tsOutDir: null,
      pa11yUrls: [],
      jestInPackageJson: false,
      eslintInPackageJson: false,
      rootFiles: ['package-lock.json', 'package.json', 'sonar-project.properties'],
      sourceDirs: ['src'],
      workspaceSourceDirs: [],
      warnings: [],
      memberOf: null,
      notes: [],
    };
    fc.assert(
      fc.property(hostileString(), hostileString(), hostileString(), (name, build, start) => {
        fc.pre(name.trim() !== '');
        const plan = planInit({
          ...base,
          name,
          scripts: { build, start, lint: build, test: start },
        });
        const text = renderInit(plan);
        expect(parseYaml(text)).toStrictEqual(plan.config);
        // Comments quote user scripts; they must stay comments.
        expect(Object.keys(parseYaml(text) as object)).toEqual(Object.keys(plan.config));
      }),
      { numRuns: 300 },
    );
  });
});

describe('the commands init writes run with the real tools', () => {
  // The fixture links the workspace's installed tools so `npx eslint` / `npx vitest` resolve offline.
  it('lint writes eslint.json, unit writes junit.xml and the coverage summary into $GATEHOUSE_OUT', async () => {
    const dir = await project({
      'package.json': {
        name: 'real',
        type: 'module',
        devDependencies: { eslint: '*', vitest: '*', '@vitest/coverage-v8': '*' },
      },
      'package-lock.json': '{}',
      'eslint.config.js': "export default [{ rules: { 'no-unused-vars': 'error' } }];\n",
      'src/a.js': 'const unused = 1;\nexport const used = 2;\n',
      'vitest.config.mjs': "export default { test: { include: ['test/**/*.test.js'] } };\n",
      'test/a.test.js':
        "import { test, expect } from 'vitest';\ntest('adds', () => expect(1 + 1).toBe(2));\ntest('fails', () => expect(1).toBe(2));\n",
    });
    const nm = join(dir, 'node_modules');
    await mkdir(join(nm, '@vitest'), { recursive: true });
    for (const m of ['.bin', 'eslint', 'vitest'])
      await symlink(join(repoRoot, 'node_modules', m), join(nm, m), 'dir');
    // The coverage provider is a dev dependency of @gatehouse-ci/report, not of the workspace root.
    await symlink(
      join(repoRoot, 'packages/report/node_modules/@vitest/coverage-v8'),
      join(nm, '@vitest/coverage-v8'),
      'dir',
    );
    const { plan } = await initProject(dir);
    const out = join(dir, 'out');
    const env = { ...process.env, GATEHOUSE_OUT: out, CI: 'true', npm_config_offline: 'true' };

    await mkdir(out, { recursive: true });
    const lint = spawnSync('/bin/sh', ['-c', plan.config.gates.lint!.run!], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(lint.status, lint.stderr).toBe(1);
    const eslint = JSON.parse(await readFile(join(out, 'eslint.json'), 'utf8')) as Array<{
      filePath: string;
      errorCount: number;
    }>;
    expect(eslint.find((f) => f.filePath.endsWith('src/a.js'))?.errorCount).toBe(1);

    const unit = spawnSync('/bin/sh', ['-c', plan.config.gates.unit!.run!], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(unit.status, unit.stderr).toBe(1);
    const junit = await readFile(join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites [^>]*tests="2" failures="1"/);
    expect(plan.config.gates.unit!.evidence).toContainEqual({
      format: 'istanbul',
      path: 'coverage/coverage-summary.json',
    });
    const summary = JSON.parse(
      await readFile(join(out, 'coverage/coverage-summary.json'), 'utf8'),
    ) as { total: { lines: { pct: number } } };
    expect(typeof summary.total.lines.pct).toBe('number');
  });

  it("runs the project's lint script as written: --ext and --max-warnings 0 keep their effect (ESLint, npm)", async () => {
    const dir = await project({
      'package.json': {
        name: 'spa',
        type: 'module',
        scripts: { lint: 'eslint --ext js,jsx src --max-warnings 0' },
        devDependencies: { eslint: '*' },
      },
      'package-lock.json': '{}',
      'eslint.config.js':
        "export default [{ files: ['**/*.{js,jsx}'], languageOptions: { parserOptions: { ecmaFeatures: { jsx: true } } }, rules: { 'no-unused-vars': 'warn', 'no-undef': 'error' } }];\n",
      'vite.config.js': 'export default {};\n',
      'src/main.jsx': 'export const App = () => <main>hi</main>;\n',
      'src/components/Todo.jsx': 'export const Todo = () => <li>{missing}</li>;\n',
    });
    const nm = join(dir, 'node_modules');
    await mkdir(nm, { recursive: true });
    for (const m of ['.bin', 'eslint'])
      await symlink(join(repoRoot, 'node_modules', m), join(nm, m), 'dir');
    const { plan } = await initProject(dir);
    expect(plan.config.gates.lint!.run).toBe(
      'npm run lint -- -f json -o "$GATEHOUSE_OUT/eslint.json"',
    );
    const lintOnce = async () => {
      const out = await mkdtemp(join(tmpdir(), 'gatehouse-init-out-'));
      dirs.push(out);
      const r = spawnSync('/bin/sh', ['-c', plan.config.gates.lint!.run!], {
        cwd: dir,
        env: { ...process.env, GATEHOUSE_OUT: out, npm_config_offline: 'true' },
        encoding: 'utf8',
        timeout: 120_000,
      });
      const report = JSON.parse(await readFile(join(out, 'eslint.json'), 'utf8')) as Array<{
        filePath: string;
        errorCount: number;
        warningCount: number;
      }>;
      return { status: r.status, stderr: r.stderr, report };
    };
    // The error in a nested .jsx file is found: the script's --ext and src reach ESLint.
    const broken = await lintOnce();
    expect(broken.status, broken.stderr).toBe(1);
    expect(broken.report.map((f) => basename(f.filePath)).sort()).toEqual(['Todo.jsx', 'main.jsx']);
    expect(broken.report.find((f) => f.filePath.endsWith('Todo.jsx'))!.errorCount).toBe(1);
    // One warning over the script's --max-warnings 0 fails too, as `npm run lint` does.
    await writeFile(
      join(dir, 'src/components/Todo.jsx'),
      'const unused = 1;\nexport const Todo = () => <li>ok</li>;\n',
    );
    const warned = await lintOnce();
    expect(warned.status, warned.stderr).toBe(1);
    expect(warned.report.reduce((n, f) => n + f.warningCount, 0)).toBe(1);
    const own = spawnSync('npm', ['run', 'lint'], { cwd: dir, encoding: 'utf8' });
    expect(own.status).toBe(1);
  });
});

describe('choosePackageManager', () => {
  const locks = new Set(['yarn.lock', 'package-lock.json']);
  it('takes the declared manager when it is installed', () => {
    const r = choosePackageManager(undefined, locks, () => true);
    expect([r.facts.name, r.facts.lockfile, r.warning]).toEqual(['yarn', 'yarn.lock', null]);
  });
  it('falls back to an installed manager whose lockfile is there, and says so', () => {
    const r = choosePackageManager(undefined, locks, (n) => n === 'npm');
    expect([r.facts.name, r.facts.lockfile]).toEqual(['npm', 'package-lock.json']);
    expect(r.warning).toMatch(/^yarn is what the project declares .*not installed here: using npm/);
  });
  it('keeps the declared manager with a warning when nothing else fits', () => {
    const r = choosePackageManager('pnpm@10.1.0', new Set(['pnpm-lock.yaml']), (n) => n === 'npm');
    expect(r.facts.name).toBe('pnpm');
    expect(r.warning).toMatch(/pnpm .* is not installed here: install it/);
  });
  it('onPath finds executables only', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'gatehouse-path-'));
    dirs.push(bin);
    await writeFile(join(bin, 'yarn'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(join(bin, 'pnpm'), 'not executable', { mode: 0o644 });
    expect(onPath('yarn', bin)).toBe(true);
    expect(onPath('pnpm', bin)).toBe(false);
    expect(onPath('npm', bin)).toBe(false);
  });
});
