/**
 * A config in a subdirectory of the repository (`apps/shop/gatehouse.yml`): the workflow goes to
 * the checkout's top, where GitHub reads workflows, its `run` steps start in the config
 * directory, and every path an action step takes is named from the top. actionlint and GitHub's
 * parser judge each workflow.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { diagnosticsOf, emitTarget, gate, pipeline } from '@gatehouse-ci/test-utils';
import type { ResolvedPipeline } from '@gatehouse-ci/core';
import plugin from '../src/index.js';
import { judgeWorkflows } from './oracle.js';

const ctx = { gatehouseVersion: '0.1.0', configFile: 'gatehouse.yml', checkoutDir: 'apps/shop' };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Step {
  name: string;
  uses?: string;
  run?: string;
  with?: Record<string, string | boolean>;
}
interface Workflow {
  defaults?: { run: { 'working-directory': string } };
  jobs: Record<string, { steps: Step[] }>;
}

/** A pnpm project (packageManager, lockfile, .nvmrc) with a build whose outputs a test needs. */
async function shop(): Promise<ResolvedPipeline> {
  const rootDir = await mkdtemp(join(tmpdir(), 'gatehouse-gh-subdir-'));
  dirs.push(rootDir);
  await writeFile(join(rootDir, 'package.json'), '{"packageManager":"pnpm@10.12.1"}');
  await writeFile(join(rootDir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
  await writeFile(join(rootDir, '.nvmrc'), '22\n');
  return pipeline(
    [
      gate('build', { kind: 'build', outputs: ['dist/**', 'public/app.css'] }),
      gate('test', { needs: ['build'] }),
    ],
    { rootDir, configPath: join(rootDir, 'gatehouse.yml'), image: 'acme/builder:3' },
  );
}

/** Every path an action step of the workflow takes (`path`, `*-file`, `*-path`). */
function actionPaths(wf: Workflow): string[] {
  const out: string[] = [];
  for (const job of Object.values(wf.jobs))
    for (const step of job.steps)
      for (const [k, v] of Object.entries(step.with ?? {}))
        if (typeof v === 'string' && /(^path$|_file$|-file$|-path$)/.test(k))
          out.push(...v.split('\n'));
  return out;
}

describe('a config in a subdirectory of the repository', () => {
  it('writes the workflow at the top, runs steps in the config directory, names paths from the top', async () => {
    const p = await shop();
    const [file] = emitTarget(plugin.targets.github, p, {}, ctx);
    expect(file!.at).toBe('checkout');
    expect(file!.path).toBe('.github/workflows/gatehouse-apps-shop.yml');
    expect(file!.contents.split('\n')[0]).toContain('from apps/shop/gatehouse.yml');
    const wf = parse(file!.contents) as Workflow;
    expect(wf.defaults).toEqual({ run: { 'working-directory': 'apps/shop' } });
    const paths = actionPaths(wf);
    expect(paths).toContain('apps/shop/dist/**');
    expect(paths).toContain('apps/shop/public/app.css');
    expect(paths).toContain('apps/shop/gatehouse-report/report.sarif');
    for (const path of paths) expect(path).toMatch(/^apps\/shop(\/|$)/);
    const setup = wf.jobs['gate-test']!.steps;
    expect(setup.find((s) => s.name === 'Set up pnpm')!.with).toEqual({
      package_json_file: 'apps/shop/package.json',
    });
    expect(setup.find((s) => s.name === 'Set up Node')!.with).toEqual({
      'node-version-file': 'apps/shop/.nvmrc',
      cache: 'pnpm',
      'cache-dependency-path': 'apps/shop/pnpm-lock.yaml',
    });
    const [verdict] = await judgeWorkflows([{ path: file!.path, content: file!.contents }]);
    expect(verdict!.actionlint).toEqual([]);
    expect(verdict!.parserErrors).toEqual([]);
  });

  it('names every path from the top in the plan, package and report jobs of a monorepo, native and docker', async () => {
    const p = await shop();
    const pkg = (gate: string) => ({ name: '@acme/web', dir: 'packages/web', gate });
    const mono = {
      ...p,
      gates: [
        gate('web-build', { outputs: ['packages/web/dist/**'], package: pkg('build') }),
        gate('web-test', { needs: ['web-build'], package: pkg('test') }),
      ],
      targets: { dockerfile: {} },
    };
    for (const mode of ['native', 'docker']) {
      const [file] = emitTarget(plugin.targets.github, mono, { mode }, ctx);
      const wf = parse(file!.contents) as Workflow;
      expect(wf.defaults).toEqual({ run: { 'working-directory': 'apps/shop' } });
      const paths = actionPaths(wf);
      expect(paths.length).toBeGreaterThan(2);
      for (const path of paths) expect(path, mode).toMatch(/^apps\/shop(\/|$)/);
      const [verdict] = await judgeWorkflows([{ path: file!.path, content: file!.contents }]);
      expect(verdict!.actionlint).toEqual([]);
      expect(verdict!.parserErrors).toEqual([]);
    }
  });

  it('keeps a `path` the config gives, and writes for the top with `checkout_dir: .`', async () => {
    const p = await shop();
    const [own] = emitTarget(plugin.targets.github, p, { path: 'ci/shop.yml' }, ctx);
    expect(own!.at).toBeUndefined();
    expect(own!.path).toBe('ci/shop.yml');
    expect((parse(own!.contents) as Workflow).defaults).toEqual({
      run: { 'working-directory': 'apps/shop' },
    });
    const [top] = emitTarget(plugin.targets.github, p, { checkout_dir: '.' }, ctx);
    expect(top!.path).toBe('.github/workflows/gatehouse.yml');
    expect(top!.at).toBeUndefined();
    const wf = parse(top!.contents) as Workflow;
    expect(wf.defaults).toBeUndefined();
    expect(actionPaths(wf)).toContain('dist/**');
    // An explicit directory wins over the one compile found.
    const [other] = emitTarget(plugin.targets.github, p, { checkout_dir: 'web/' }, ctx);
    expect(other!.path).toBe('.github/workflows/gatehouse-web.yml');
    expect((parse(other!.contents) as Workflow).defaults).toEqual({
      run: { 'working-directory': 'web' },
    });
  });

  it('refuses a directory name a workflow cannot carry, and a `checkout_dir` that leaves the repository', async () => {
    const p = await shop();
    const unsafe = diagnosticsOf(() =>
      emitTarget(plugin.targets.github, p, {}, { ...ctx, checkoutDir: 'apps/${{ github.token }}' }),
    );
    expect(unsafe).toEqual(['GH_TARGET_UNSAFE targets.github']);
    const escape = diagnosticsOf(() =>
      emitTarget(plugin.targets.github, p, { checkout_dir: '../x' }, ctx),
    );
    expect(escape).toEqual(['GH_TARGET_OPTIONS targets.target.checkout_dir']);
  });
});

/**
 * A git repository holding a pnpm workspace at its top (lockfile, workspace file, .nvmrc, and
 * `packageManager` when `declared`) and `packages/web/gatehouse.yml`, a package's own config
 * whose directory has no lockfile or version file.
 */
async function webPackage(declared: boolean): Promise<ResolvedPipeline> {
  const top = await mkdtemp(join(tmpdir(), 'gatehouse-gh-pkg-'));
  dirs.push(top);
  const web = join(top, 'packages/web');
  await mkdir(web, { recursive: true });
  await writeFile(
    join(top, 'package.json'),
    JSON.stringify({
      name: 'root',
      private: true,
      ...(declared ? { packageManager: 'pnpm@10.34.8' } : {}),
    }),
  );
  await writeFile(join(top, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
  await writeFile(join(top, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
  await writeFile(join(top, '.nvmrc'), '22\n');
  await writeFile(join(web, 'package.json'), '{"name":"web","scripts":{"build":"tsc"}}');
  const r = spawnSync('git', ['init', '-q'], { cwd: top, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return pipeline([gate('build', { kind: 'build', outputs: ['dist/**'] })], {
    rootDir: web,
    configPath: join(web, 'gatehouse.yml'),
    image: 'acme/builder:3',
    setup: {
      run: 'pnpm install --frozen-lockfile',
      inputs: ['package.json', '//pnpm-lock.yaml'],
      env: {},
      secrets: [],
      timeoutMs: 600_000,
    } as ResolvedPipeline['setup'],
  });
}

describe("a package's own config in a pnpm workspace", () => {
  const webCtx = { ...ctx, checkoutDir: 'packages/web' };

  it("sets up the workspace root's pnpm, Node version and dependency cache, named from the top", async () => {
    const files = [];
    for (const declared of [true, false]) {
      const [file] = emitTarget(plugin.targets.github, await webPackage(declared), {}, webCtx);
      files.push(file!);
      const wf = parse(file!.contents) as Workflow;
      expect(wf.defaults).toEqual({ run: { 'working-directory': 'packages/web' } });
      const steps = wf.jobs['gate-build']!.steps;
      // The root's package.json declares pnpm's version; without it, the action is given one.
      expect(steps.find((s) => s.name === 'Set up pnpm')!.with).toEqual(
        declared ? { package_json_file: 'package.json' } : { version: '10' },
      );
      expect(steps.find((s) => s.name === 'Set up Node')!.with).toEqual({
        'node-version-file': '.nvmrc',
        cache: 'pnpm',
        'cache-dependency-path': 'pnpm-lock.yaml',
      });
      expect(steps.findIndex((s) => s.name === 'Set up pnpm')).toBeLessThan(
        steps.findIndex((s) => s.name === 'Set up Node'),
      );
      expect(steps.find((s) => s.name === 'Setup')!.run).toBe('pnpm install --frozen-lockfile');
      for (const path of actionPaths(wf)) expect(path).not.toContain('..');
    }
    // `packageManager` in the package's own package.json: the action reads that one.
    const own = await webPackage(false);
    await writeFile(
      join(own.rootDir, 'package.json'),
      '{"name":"web","packageManager":"pnpm@10.34.8"}',
    );
    const [ownFile] = emitTarget(plugin.targets.github, own, {}, webCtx);
    files.push(ownFile!);
    expect(
      (parse(ownFile!.contents) as Workflow).jobs['gate-build']!.steps.find(
        (s) => s.name === 'Set up pnpm',
      )!.with,
    ).toEqual({ package_json_file: 'packages/web/package.json' });
    const verdicts = await judgeWorkflows(
      files.map((f) => ({ path: f.path, content: f.contents })),
    );
    for (const v of verdicts) {
      expect(v.actionlint).toEqual([]);
      expect(v.parserErrors).toEqual([]);
    }
  });

  it('written for a checkout whose top is the package (`checkout_dir: .`), reads the package alone', async () => {
    const [file] = emitTarget(
      plugin.targets.github,
      await webPackage(true),
      { checkout_dir: '.' },
      webCtx,
    );
    const steps = (parse(file!.contents) as Workflow).jobs['gate-build']!.steps;
    expect(steps.find((s) => s.name === 'Set up pnpm')).toBeUndefined();
    expect(steps.find((s) => s.name === 'Set up Node')!.with).toEqual({
      'node-version': 'lts/*',
      cache: 'npm',
    });
  });
});
