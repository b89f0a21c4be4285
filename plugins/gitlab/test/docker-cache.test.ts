// `docker_cache: registry`, run for real: gitlab-ci-local runs the emitted docker-mode jobs
// (shell executor, Debian's docker CLI) against fresh Docker engines, each an empty CI agent, and
// a registry on localhost standing in for the project's container registry. A pipeline on the
// default branch pushes each gate's stage; a branch pipeline on another empty engine, in another
// clone, takes every exportable gate from that cache; an engine without the registry runs them.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DOCKER_CLI,
  DOCKER_TEST_TIMEOUT_MS,
  ensureBaseImage,
  requireDocker,
  requireRegistry,
  startAgent,
  startRegistry,
  type TestEngine,
  type TestRegistry,
} from '@gatehouse-ci/test-utils';
import {
  CLI,
  jobResults,
  makeProject,
  removeProjects,
  requireGitlabCiLocal,
  runPipeline,
  type OracleRun,
} from './oracle.js';

const enabled =
  requireGitlabCiLocal('the GitLab registry build cache tests') &&
  (await requireDocker('the GitLab registry build cache tests')) &&
  requireRegistry('the GitLab registry build cache tests');

const temps: string[] = [];
const engines: TestEngine[] = [];
let registry: TestRegistry | undefined;
afterAll(async () => {
  await removeProjects();
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

// Each gate prints a fresh random id: the same log in two pipelines means the second one did not
// run the gate but took its stage from the cache.
const NONCE = 'echo "run $(cat /proc/sys/kernel/random/uuid)"';

function config(image: string): Record<string, unknown> {
  return {
    version: 1,
    name: 'GL Cache / Demo',
    image,
    setup: { run: `${NONCE} > setup-run.txt` },
    gates: {
      build: {
        kind: 'build',
        run: `mkdir -p dist && ${NONCE} | tee dist/app.txt`,
        outputs: ['dist/**'],
      },
      unit: { kind: 'unit-test', needs: ['build'], run: `test -f dist/app.txt && ${NONCE}` },
      // A gate with a secret is never pushed: a tool could write the secret into its stage.
      scan: { kind: 'custom', secrets: ['SCAN_TOKEN'], run: NONCE },
    },
    targets: {
      dockerfile: {},
      gitlab: { mode: 'docker', cli: `node ${CLI}`, docker_cache: 'registry' },
    },
  };
}

const GATES = ['build', 'unit', 'scan'] as const;

describe.skipIf(!enabled)('docker_cache: registry shares BuildKit cache between agents', () => {
  let image: string;
  let bin: string;
  let origin: string;
  beforeAll(async () => {
    image = await ensureBaseImage();
    registry = await startRegistry();
    bin = await temp('gatehouse-gitlab-bin-');
    await symlink(DOCKER_CLI, join(bin, 'docker'));
    origin = await makeProject({
      'gatehouse.yml': stringify(config(image)),
      '.gitignore': '.gatehouse/*\n!.gatehouse/docker/\n.gitlab-ci-local/\n',
    });
    const compiled = spawnSync(process.execPath, [CLI, 'compile'], {
      cwd: origin,
      encoding: 'utf8',
    });
    if (compiled.status !== 0) throw new Error(compiled.stderr);
    const ci = parse(await readFile(join(origin, '.gitlab-ci.yml'), 'utf8')) as Record<
      string,
      { services?: string[] }
    >;
    // The agent's engine stands in for the docker:dind service (see docker.test.ts).
    delete ci.default!.services;
    await writeFile(join(origin, '.gitlab-ci.yml'), stringify(ci));
    git(origin, 'add', '-A');
    git(origin, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'ci');
  }, DOCKER_TEST_TIMEOUT_MS);

  async function agent(): Promise<TestEngine> {
    const engine = await startAgent([image]);
    engines.push(engine);
    return engine;
  }

  /** A clone of the project's commit on `branch`, run by gitlab-ci-local on `engine`. */
  async function pipeline(
    engine: TestEngine,
    branch: string,
    withRegistry: boolean,
  ): Promise<{ run: OracleRun; logs: Record<string, string>; dir: string }> {
    const dir = await temp('gatehouse-gitlab-clone-');
    git(dir, 'clone', '-q', origin, '.');
    git(dir, 'checkout', '-q', '-B', branch);
    const vars = {
      CI_DEFAULT_BRANCH: 'main',
      CI_COMMIT_BRANCH: branch,
      CI_COMMIT_REF_NAME: branch,
      CI_PIPELINE_SOURCE: 'push',
      SCAN_TOKEN: 'not-a-real-token',
      CI_REGISTRY: withRegistry ? registry!.host : '',
      CI_REGISTRY_IMAGE: withRegistry ? `${registry!.host}/acme/web` : '',
      CI_REGISTRY_USER: 'gitlab-ci-token',
      CI_REGISTRY_PASSWORD: 'job-token',
    };
    const run = await runPipeline(
      dir,
      {
        PATH: `${bin}:${process.env.PATH ?? ''}`,
        DOCKER_HOST: engine.host,
        DOCKER_CONFIG: await temp('gatehouse-docker-config-'),
      },
      // One job at a time: on GitLab each job has its own docker:dind engine, here they share
      // the agent's (see docs/ci/gitlab.md#a-shared-build-cache on shared engines).
      [
        '--concurrency',
        '1',
        ...Object.entries(vars).flatMap(([k, v]) => ['--variable', `${k}=${v}`]),
      ],
    );
    const logs: Record<string, string> = {};
    for (const id of GATES)
      logs[id] = await readFile(
        join(dir, `.gitlab-ci-local/artifacts/gate-${id}/gatehouse-results/docker/${id}/log.txt`),
        'utf8',
      );
    return { run, logs, dir };
  }

  it(
    'a default-branch pipeline pushes; another agent on a branch replays every gate without a secret; none without the registry',
    async () => {
      const first = await pipeline(await agent(), 'main', true);
      expect(jobResults(first.run), first.run.output).toMatchObject({
        'gate-build': 'PASS',
        'gate-unit': 'PASS',
        'gate-scan': 'PASS',
      });
      // `> ` marks what a job printed (gitlab-ci-local also echoes each script line with `$ `).
      for (const id of ['build', 'unit'])
        expect(first.run.output).toContain(
          `> gate ${id}: build cache pushed to ${registry!.host}/acme/web/gatehouse-cache/gl-cache-demo:gate-${id}`,
        );
      expect(first.run.output).not.toMatch(/> gate scan: build cache/);
      const tags = (await (
        await fetch(`http://${registry!.host}/v2/acme/web/gatehouse-cache/gl-cache-demo/tags/list`)
      ).json()) as { tags: string[] };
      expect(tags.tags.sort()).toEqual(['gate-build', 'gate-unit']);

      // A branch pipeline on a second empty agent, in its own clone: it reads, never writes.
      const second = await pipeline(await agent(), 'feature', true);
      expect(jobResults(second.run), second.run.output).toMatchObject({
        'gate-build': 'PASS',
        'gate-unit': 'PASS',
        'gate-scan': 'PASS',
      });
      expect(second.run.output).not.toMatch(/> gate \w+: build cache/);
      expect(second.logs.build, second.run.output).toBe(first.logs.build);
      expect(second.logs.unit, second.run.output).toBe(first.logs.unit);
      // The gate with a secret was not pushed, so it ran again.
      expect(second.logs.scan).not.toBe(first.logs.scan);

      // The control: an empty agent without the registry runs every gate.
      const third = await pipeline(await agent(), 'feature', false);
      expect(jobResults(third.run), third.run.output).toMatchObject({ 'gate-build': 'PASS' });
      for (const id of GATES) expect(third.logs[id]).not.toBe(first.logs[id]);
    },
    DOCKER_TEST_TIMEOUT_MS * 2,
  );
});
