/**
 * The whole loop with the real turbo (the repository's devDependency) in a generated pnpm
 * workspace: compile, `turbo run`, `report merge`, a broken test, turbo's cache, and drift.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace } from '@gatehouse-ci/test-utils';

const run = promisify(execFile);
const here = dirname(new URL(import.meta.url).pathname);
const repo = join(here, '../../..');
const TURBO = join(repo, 'node_modules/.bin/turbo');
const CLI = join(repo, 'apps/cli/bin/gatehouse.js');
const ENV = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
};

const USER_TURBO = `{
  "$schema": "https://turbo.build/schema.json",
  "tasks": {
    "build": { "dependsOn": ["^build"], "outputs": ["dist/**"] }
  }
}
`;
const CONFIG = (lintInputs = '') =>
  [
    'version: 1',
    'name: acme',
    'gates:',
    '  build: { kind: build, packages: { script: build }, needs: [^build], outputs: [dist/**] }',
    `  lint: { kind: lint, packages: { script: lint }${lintInputs} }`,
    '  test: { kind: unit-test, packages: { script: test }, needs: [build] }',
    'targets:',
    `  turbo: { cli: ${process.execPath} ${CLI} }`,
    '',
  ].join('\n');

// Small real scripts: lint reads the source, build copies it to dist, test checks both.
const SCRIPTS = {
  lint: `node -e "require('fs').readFileSync('src/index.js','utf8')"`,
  build: `node -e "require('fs').mkdirSync('dist',{recursive:true});require('fs').copyFileSync('src/index.js','dist/index.js')"`,
  test: `node -e "const s=require('fs').readFileSync('dist/index.js','utf8');if(!s.includes('export const name'))process.exit(1)"`,
};

interface Report {
  verdict: { status: string; reasons: string[] };
  gates: Array<{ id: string; status: string }>;
}

let root = '';
beforeAll(async () => {
  // The CLI runs from dist/ inside turbo's tasks, as a user's install has it.
  await run('pnpm', ['--filter', 'gatehouse-ci...', 'build'], { cwd: repo, env: ENV });
  root = mkdtempSync(join(tmpdir(), 'gh-turbo-'));
  makeWorkspace(
    root,
    [
      { dir: 'packages/utils', name: '@acme/utils', scripts: SCRIPTS },
      { dir: 'packages/core', name: '@acme/core', deps: ['@acme/utils'], scripts: SCRIPTS },
      { dir: 'apps/web', name: 'web', deps: ['@acme/core'], scripts: SCRIPTS },
    ],
    {
      globs: ['packages/*', 'apps/*'],
      git: true,
      files: { 'turbo.json': USER_TURBO, 'gatehouse.yml': CONFIG() },
    },
  );
  await run('pnpm', ['install', '--offline', '--frozen-lockfile=false'], { cwd: root, env: ENV });
}, 600_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const gatehouse = (...args: string[]) =>
  run(process.execPath, [CLI, ...args], { cwd: root, env: ENV, maxBuffer: 16 * 1024 * 1024 });
const turbo = (...args: string[]) =>
  run(
    TURBO,
    ['run', 'gatehouse:lint', 'gatehouse:test', 'gatehouse:build', '--ui=stream', ...args],
    {
      cwd: root,
      env: ENV,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
/** turbo's run from a clean results directory, and the merged report. */
async function turboAndMerge(...args: string[]) {
  rmSync(join(root, '.gatehouse/turbo'), { recursive: true, force: true });
  const t = await turbo(...args).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      out: e.stdout + e.stderr,
    }),
  );
  const m = await gatehouse(
    'report',
    'merge',
    '.gatehouse/turbo',
    '-o',
    'gatehouse-report/report.json',
  );
  const report = JSON.parse(
    readFileSync(join(root, 'gatehouse-report/report.json'), 'utf8'),
  ) as Report;
  return { turbo: t, merge: m.stdout, report };
}
const statuses = (r: Report) => Object.fromEntries(r.gates.map((g) => [g.id, g.status]));

describe('turbo target with the real turbo', () => {
  it('compile adds its tasks and scripts and keeps what the user wrote; check is clean', async () => {
    await gatehouse('compile');
    const text = readFileSync(join(root, 'turbo.json'), 'utf8');
    expect(text).toContain('"build": { "dependsOn": ["^build"], "outputs": ["dist/**"] }');
    const tasks = (JSON.parse(text) as { tasks: Record<string, unknown> }).tasks;
    expect(Object.keys(tasks)).toHaveLength(10);
    const web = JSON.parse(readFileSync(join(root, 'apps/web/package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(web.scripts.lint).toBe(SCRIPTS.lint);
    expect(web.scripts['gatehouse:test']).toContain('--only web-test');
    const check = await gatehouse('check');
    expect(check.stdout).toContain('up to date');
  }, 120_000);

  it("turbo's task graph and hashes: needs as dependencies, no .git, node_modules or results hashed", async () => {
    const { stdout } = await turbo('--dry=json');
    const dry = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
      tasks: Array<{ taskId: string; dependencies: string[]; inputs: Record<string, string> }>;
    };
    const byId = new Map(dry.tasks.map((t) => [t.taskId, t]));
    expect([...byId.keys()].sort()).toHaveLength(9);
    expect(byId.get('web#gatehouse:test')!.dependencies.sort()).toEqual([
      '@acme/core#gatehouse:build',
      '@acme/utils#gatehouse:build',
      'web#gatehouse:build',
    ]);
    const inputs = Object.keys(byId.get('web#gatehouse:lint')!.inputs);
    expect(inputs).toEqual(expect.arrayContaining(['../../gatehouse.yml', 'src/index.js']));
    // The package's workspace dependencies are inputs too, as in Gatehouse's own key.
    expect(inputs).toContain('../../packages/core/src/index.js');
    expect(
      inputs.filter((f) => /(^|\/)(\.git|node_modules|\.gatehouse|\.turbo)\//.test(f)),
    ).toEqual([]);
  }, 120_000);

  it('turbo runs every gate, and the merged report passes with every package gate', async () => {
    const r = await turboAndMerge();
    expect(r.turbo.code).toBe(0);
    expect(r.report.verdict.status).toBe('passed');
    expect(r.report.gates).toHaveLength(9);
    expect(new Set(Object.values(statuses(r.report)))).toEqual(new Set(['passed']));
  }, 300_000);

  it('a broken test fails turbo and the merged report names the gate; the fix replays from the cache', async () => {
    const src = join(root, 'packages/core/src/index.js');
    const good = readFileSync(src, 'utf8');
    writeFileSync(src, 'export const nom = 1;\n');
    const broken = await turboAndMerge('--continue');
    expect(broken.turbo.code).not.toBe(0);
    expect(broken.turbo.out).toContain('@acme/core#gatehouse:test');
    expect(broken.report.verdict.status).toBe('failed');
    expect(statuses(broken.report)['core-test']).toBe('failed');
    expect(broken.report.verdict.reasons.join('\n')).toContain('core-test');
    expect(broken.merge).toContain('FAILED');

    writeFileSync(src, good);
    const fixed = await turboAndMerge();
    expect(fixed.turbo.code).toBe(0);
    expect(fixed.turbo.out).toContain('cache hit, replaying logs');
    expect(fixed.turbo.out).toContain('FULL TURBO');
    // The result files came back from turbo's cache: the report is complete and passed.
    expect(fixed.report.verdict.status).toBe('passed');
    expect(fixed.report.gates).toHaveLength(9);
  }, 600_000);

  it("after a new commit, turbo's replayed results are of the earlier commit: rejected, or named with --any-commit", async () => {
    const git = (...args: string[]) =>
      run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: root, env: ENV });
    await git('add', '-A');
    await git('commit', '-qm', 'compiled', '--allow-empty');
    const head = (await git('rev-parse', 'HEAD')).stdout.trim();
    const replayed = await turboAndMerge();
    expect(replayed.turbo.out).toContain('FULL TURBO');
    // Every result file came back from turbo's cache, written at an earlier commit.
    expect(new Set(Object.values(statuses(replayed.report)))).toEqual(new Set(['error']));
    expect(replayed.report.verdict.reasons.join('\n')).toContain(
      `not of commit ${head.slice(0, 12)} being merged`,
    );
    const any = await gatehouse(
      'report',
      'merge',
      '.gatehouse/turbo',
      '-o',
      'gatehouse-report/any.json',
      '--any-commit',
      '--fail-on-verdict',
    );
    expect(any.stdout).toContain('PASSED: 9 gates merged');
    const report = JSON.parse(
      readFileSync(join(root, 'gatehouse-report/any.json'), 'utf8'),
    ) as Report & { gates: Array<{ reason: string | null }> };
    for (const g of report.gates)
      expect(g.reason).toMatch(
        new RegExp(`^run at commit [0-9a-f]{12}, not at ${head.slice(0, 12)} `),
      );
  }, 300_000);

  it('check reports drift, naming the task, after a gate changes in gatehouse.yml', async () => {
    writeFileSync(join(root, 'gatehouse.yml'), CONFIG(', inputs: [src/**]'));
    try {
      await gatehouse('check');
      expect.unreachable();
    } catch (err) {
      const e = err as { code: number; stdout: string };
      expect(e.code).toBe(1);
      expect(e.stdout).toContain('stale: turbo.json');
      expect(e.stdout).toContain('tasks["web#gatehouse:lint"] differs');
      expect(e.stdout).not.toContain('package.json');
    }
    await gatehouse('compile');
    expect((await gatehouse('check')).stdout).toContain('up to date');
  }, 120_000);

  it('compile refuses a turbo.json with a comment, at its line and column, and writes nothing', async () => {
    const file = join(root, 'turbo.json');
    const text = readFileSync(file, 'utf8').replace('{\n', '{\n  // ours\n');
    writeFileSync(file, text);
    const web = readFileSync(join(root, 'apps/web/package.json'), 'utf8');
    writeFileSync(join(root, 'gatehouse.yml'), CONFIG());
    try {
      await gatehouse('compile');
      expect.unreachable();
    } catch (err) {
      const e = err as { code: number; stderr: string };
      expect(e.code).toBe(1);
      expect(e.stderr).toContain('GH_TARGET_MERGE');
      expect(e.stderr).toContain('a comment at 2:3');
    }
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(readFileSync(join(root, 'apps/web/package.json'), 'utf8')).toBe(web);
    writeFileSync(file, text.replace('  // ours\n', ''));
  }, 120_000);

  it('gates outside packages are root tasks; a secret reaches the gate and no file', async () => {
    const canary = 'canary-5ecret-value';
    writeFileSync(
      join(root, 'gatehouse.yml'),
      CONFIG().replace(
        'targets:',
        [
          '  audit: { run: "node -e \\"process.exit(process.env.NPM_TOKEN ? 0 : 3)\\"", inputs: [package.json], secrets: [NPM_TOKEN] }',
          '  e2e: { run: "node -e 0", needs: [build, audit] }',
          'targets:',
        ].join('\n'),
      ),
    );
    await gatehouse('compile');
    const root_ = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(Object.keys(root_.scripts).sort()).toEqual(['gatehouse:audit', 'gatehouse:e2e']);
    const { stdout } = await run(TURBO, ['run', 'gatehouse:e2e', '--dry=json'], {
      cwd: root,
      env: ENV,
    });
    const dry = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
      tasks: Array<{ taskId: string; dependencies: string[] }>;
    };
    expect(dry.tasks.find((t) => t.taskId === '//#gatehouse:e2e')!.dependencies.sort()).toEqual([
      '//#gatehouse:audit',
      '@acme/core#gatehouse:build',
      '@acme/utils#gatehouse:build',
      'web#gatehouse:build',
    ]);
    rmSync(join(root, '.gatehouse/turbo'), { recursive: true, force: true });
    const r = await run(TURBO, ['run', 'gatehouse:e2e', '--ui=stream'], {
      cwd: root,
      env: { ...ENV, NPM_TOKEN: canary },
    });
    expect(r.stdout + r.stderr).not.toContain(canary);
    const audit = JSON.parse(readFileSync(join(root, '.gatehouse/turbo/audit.json'), 'utf8')) as {
      status: string;
    };
    expect(audit.status).toBe('passed');
    const written = ['turbo.json', 'package.json', '.gatehouse/turbo/audit.json'].map((f) =>
      readFileSync(join(root, f), 'utf8'),
    );
    for (const text of written) expect(text).not.toContain(canary);
  }, 300_000);
});
