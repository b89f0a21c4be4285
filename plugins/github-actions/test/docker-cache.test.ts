/**
 * `docker_cache: registry` on GitHub: the workflow is checked by actionlint and GitHub's parser,
 * and each gate job's build step is run for real with bash against fresh Docker engines (each an
 * empty runner) and a registry on localhost standing in for ghcr.io (the only change made to the
 * step's script). A push to the default branch pushes each gate's stage; a pull request on
 * another empty runner, in another clone, takes every gate without a secret from that cache.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { resolveTargetOptions } from '@gatehouse-ci/core';
import {
  DOCKER_CLI,
  DOCKER_TEST_TIMEOUT_MS,
  emitTarget,
  ensureBaseImage,
  gate,
  pipeline,
  requireDocker,
  requireRegistry,
  startAgent,
  startRegistry,
  type TestEngine,
  type TestRegistry,
} from '@gatehouse-ci/test-utils';
import plugin from '../src/index.js';
import { judgeWorkflows } from './oracle.js';

const target = plugin.targets.github;
const CLI = fileURLToPath(new URL('../../../apps/cli/bin/gatehouse.js', import.meta.url));
interface Step {
  name: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  jobs: Record<string, { permissions?: Record<string, string>; steps: Step[] }>;
}

describe('docker_cache: registry in the workflow', () => {
  const p = pipeline(
    [gate('build'), gate('unit', { needs: ['build'] }), gate('scan', { secrets: ['SCAN_TOKEN'] })],
    { targets: { dockerfile: {} } },
  );

  it('is accepted by actionlint and GitHub parser; only its gate jobs may write packages', async () => {
    const text = emitTarget(target, p, { mode: 'docker', docker_cache: 'registry' })[0]!.contents;
    const [verdict] = await judgeWorkflows([
      { path: '.github/workflows/gatehouse.yml', content: text },
    ]);
    expect(verdict!.actionlint).toEqual([]);
    expect(verdict!.parserErrors).toEqual([]);
    const wf = parse(text) as Workflow;
    expect(wf.jobs['gate-unit']!.permissions).toEqual({ contents: 'read', packages: 'write' });
    expect(wf.jobs['gatehouse-report']!.permissions).not.toHaveProperty('packages');
    const step = wf.jobs['gate-unit']!.steps.find((s) => s.run)!;
    expect(step.env).toEqual({
      GATEHOUSE_REGISTRY_TOKEN: '${{ github.token }}',
      GATEHOUSE_DEFAULT_BRANCH: '${{ github.event.repository.default_branch }}',
    });
    // The gate with a secret imports but never pushes.
    const scan = wf.jobs['gate-scan']!.steps.find((s) => s.run)!.run!;
    expect(scan).toContain('--cache-from "$GATEHOUSE_DOCKER_CACHE:gate-scan"');
    expect(scan).not.toContain('docker push');
    const plain = emitTarget(target, p, { mode: 'docker' })[0]!.contents;
    expect(plain).not.toContain('packages');
    expect(plain).not.toContain('GATEHOUSE_DOCKER_CACHE');
  });

  it('refuses a bad value, and docker_cache outside docker mode, at the option', () => {
    const bad = resolveTargetOptions(target, 'github', { mode: 'docker', docker_cache: 'gha' });
    expect(bad.diagnostics.map((d) => `${d.code} ${d.path}`)).toEqual([
      'GH_TARGET_OPTIONS targets.github.docker_cache',
    ]);
    const native = resolveTargetOptions(target, 'github', { docker_cache: 'registry' });
    expect(native.diagnostics.map((d) => `${d.code} ${d.path}`)).toEqual([
      'GH_TARGET_OPTIONS targets.github.docker_cache',
    ]);
  });
});

const enabled =
  (await requireDocker('the GitHub registry build cache run')) &&
  requireRegistry('the GitHub registry build cache run');

const temps: string[] = [];
const engines: TestEngine[] = [];
let registry: TestRegistry | undefined;
afterAll(async () => {
  await Promise.all(engines.map((e) => e.stop()));
  await registry?.stop();
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
});

async function temp(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

function git(dir: string, ...args: string[]): void {
  const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

// A fresh random id in each gate's log: the same log twice means the stage came from the cache.
const NONCE = 'echo "run $(cat /proc/sys/kernel/random/uuid)"';
const GATES = ['build', 'unit', 'scan'] as const;

describe.skipIf(!enabled)('docker_cache: registry, the build steps run for real', () => {
  let image: string;
  let bin: string;
  let origin: string;
  let workflow: Workflow;
  beforeAll(async () => {
    image = await ensureBaseImage();
    registry = await startRegistry();
    bin = await temp('gatehouse-github-bin-');
    await symlink(DOCKER_CLI, join(bin, 'docker'));
    origin = await temp('gatehouse-github-origin-');
    const config = {
      version: 1,
      name: 'Web',
      image,
      setup: { run: `${NONCE} > setup-run.txt` },
      gates: {
        build: { kind: 'build', run: `mkdir -p dist && ${NONCE} | tee dist/app.txt` },
        unit: { kind: 'unit-test', needs: ['build'], run: `test -f dist/app.txt && ${NONCE}` },
        scan: { kind: 'custom', secrets: ['SCAN_TOKEN'], run: NONCE },
      },
      targets: { dockerfile: {}, github: { mode: 'docker', docker_cache: 'registry' } },
    };
    await writeFile(join(origin, 'gatehouse.yml'), stringify(config));
    await writeFile(join(origin, '.gitignore'), '.gatehouse/*\n!.gatehouse/docker/\n');
    git(origin, 'init', '-q', '-b', 'main');
    const compiled = spawnSync(process.execPath, [CLI, 'compile'], {
      cwd: origin,
      encoding: 'utf8',
    });
    if (compiled.status !== 0) throw new Error(compiled.stderr);
    git(origin, 'add', '-A');
    git(origin, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'ci');
    workflow = parse(
      await readFile(join(origin, '.github/workflows/gatehouse.yml'), 'utf8'),
    ) as Workflow;
  }, DOCKER_TEST_TIMEOUT_MS);

  /** Each gate job's build step, in a clone of the commit, on `engine`, as `event` on `ref`. */
  async function run(
    engine: TestEngine,
    event: 'push' | 'pull_request',
    ref: string,
  ): Promise<{ out: string; logs: Record<string, string> }> {
    const dir = await temp('gatehouse-github-clone-');
    git(dir, 'clone', '-q', origin, '.');
    let out = '';
    const logs: Record<string, string> = {};
    for (const id of GATES) {
      const step = workflow.jobs[`gate-${id}`]!.steps.find((s) => s.run)!;
      const script = step.run!.replaceAll('ghcr.io', registry!.host);
      // What GitHub gives the step: its `env:` evaluated, and the runner's own variables.
      const stepEnv: Record<string, string> = {
        GATEHOUSE_REGISTRY_TOKEN: 'ghs_not-a-real-token',
        GATEHOUSE_DEFAULT_BRANCH: 'main',
        ...(id === 'scan' ? { SCAN_TOKEN: 'not-a-real-token' } : {}),
      };
      expect(Object.keys(step.env ?? {}).sort()).toEqual(Object.keys(stepEnv).sort());
      const r = spawnSync('bash', ['-e', '-c', script], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          PATH: `${bin}:${process.env.PATH ?? ''}`,
          HOME: dir,
          DOCKER_HOST: engine.host,
          DOCKER_CONFIG: await temp('gatehouse-docker-config-'),
          GITHUB_REPOSITORY: 'Acme/Web',
          GITHUB_ACTOR: 'acme-bot',
          GITHUB_EVENT_NAME: event,
          GITHUB_REF: ref,
          ...stepEnv,
        },
      });
      out += r.stdout + r.stderr;
      expect(r.status, r.stdout + r.stderr).toBe(0);
      logs[id] = await readFile(join(dir, `gatehouse-results/docker/${id}/log.txt`), 'utf8');
      // The next job is another checkout: only the result artifact leaves the runner.
      await rm(join(dir, 'gatehouse-results'), { recursive: true, force: true });
    }
    return { out, logs };
  }

  it(
    'a push to the default branch writes; a pull request on another runner replays every gate without a secret',
    async () => {
      const repo = `${registry!.host}/acme/web/gatehouse-cache/web`;
      const first = await run(await agent(), 'push', 'refs/heads/main');
      for (const id of ['build', 'unit'])
        expect(first.out).toContain(`gate ${id}: build cache pushed to ${repo}:gate-${id}`);
      expect(first.out).not.toContain('gate scan: build cache');
      const tags = (await (
        await fetch(`http://${registry!.host}/v2/acme/web/gatehouse-cache/web/tags/list`)
      ).json()) as { tags: string[] };
      expect(tags.tags.sort()).toEqual(['gate-build', 'gate-unit']);

      const second = await run(await agent(), 'pull_request', 'refs/pull/7/merge');
      expect(second.out).not.toContain('build cache pushed');
      expect(second.logs.build).toBe(first.logs.build);
      expect(second.logs.unit).toBe(first.logs.unit);
      expect(second.logs.scan).not.toBe(first.logs.scan);

      // A push to another branch reads but does not write.
      const third = await run(await agent(), 'push', 'refs/heads/feature');
      expect(third.out).not.toContain('build cache pushed');
      expect(third.logs.unit).toBe(first.logs.unit);
    },
    DOCKER_TEST_TIMEOUT_MS * 2,
  );

  async function agent(): Promise<TestEngine> {
    const engine = await startAgent([image]);
    engines.push(engine);
    return engine;
  }
});
