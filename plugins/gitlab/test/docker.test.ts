// Docker mode, run for real: gitlab-ci-local runs the emitted jobs with the shell executor, and
// each gate job builds its `result-<id>` target of the Dockerfile the dockerfile target emits,
// with real BuildKit, on the offline test base image. The report job merges what the builds
// exported. The runner's daemon stands in for the docker:dind service (GitLab's "Docker socket
// binding"): the file is run with its `services:` removed, and its job scripts unchanged.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DOCKER_CLI,
  DOCKER_TEST_TIMEOUT_MS,
  ensureBaseImage,
  requireDocker,
} from '@gatehouse-ci/test-utils';
import { DOCKER_SERVICE, REPORT_JOB_NAME } from '../src/build.js';
import {
  CLI,
  jobResults,
  localReport,
  makeProject,
  mergedReport,
  removeProjects,
  requireGitlabCiLocal,
  runPipeline,
  statuses,
} from './oracle.js';

const enabled =
  requireGitlabCiLocal('the GitLab docker-mode tests') &&
  (await requireDocker('the GitLab docker-mode tests'));

const bins: string[] = [];
afterAll(async () => {
  await removeProjects();
  await Promise.all(bins.map((d) => rm(d, { recursive: true, force: true })));
});

function git(dir: string, ...args: string[]): void {
  const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

function config(image: string): Record<string, unknown> {
  return {
    version: 1,
    name: 'gl-docker',
    image,
    gates: {
      build: {
        kind: 'build',
        run: 'mkdir -p dist && echo built > dist/app.txt',
        outputs: ['dist/**'],
      },
      // Sees build's output through the Dockerfile's stages, not through artifacts.
      unit: { kind: 'unit-test', needs: ['build'], run: 'test -f dist/app.txt && exit 7' },
      style: { kind: 'custom', mode: 'advisory', run: 'echo "style nit" && exit 3' },
      docs: { kind: 'custom', run: 'echo docs' },
    },
    targets: { dockerfile: {}, gitlab: { mode: 'docker', cli: `node ${CLI}` } },
  };
}

describe.skipIf(!enabled)('gitlab-ci-local runs the docker-mode pipeline with BuildKit', () => {
  let image: string;
  beforeAll(async () => {
    image = await ensureBaseImage();
  }, DOCKER_TEST_TIMEOUT_MS);

  it(
    'each gate job builds its result target; the merged report equals gatehouse run',
    async () => {
      const dir = await makeProject({
        'gatehouse.yml': stringify(config(image)),
        '.gitignore': '.gatehouse/*\n!.gatehouse/docker/\n.gitlab-ci-local/\n',
      });
      const compiled = spawnSync(process.execPath, [CLI, 'compile'], {
        cwd: dir,
        encoding: 'utf8',
      });
      expect(compiled.status, compiled.stderr).toBe(0);
      const ci = parse(await readFile(join(dir, '.gitlab-ci.yml'), 'utf8')) as Record<
        string,
        { services?: string[]; script?: string[] }
      >;
      expect(ci.default!.services).toEqual([DOCKER_SERVICE]);
      expect(ci['gate-unit']!.script![0]).toContain('--target result-unit');
      delete ci.default!.services;
      await writeFile(join(dir, '.gitlab-ci.yml'), stringify(ci));
      git(dir, 'add', '-A');
      git(dir, '-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-qm', 'ci');

      // The jobs' `docker` is Debian's CLI (BuildKit with DOCKER_BUILDKIT=1, no buildx needed).
      const bin = await mkdtemp(join(tmpdir(), 'gatehouse-gitlab-bin-'));
      bins.push(bin);
      await symlink(DOCKER_CLI, join(bin, 'docker'));
      const run = await runPipeline(dir, { PATH: `${bin}:${process.env.PATH ?? ''}` });
      expect(run.output).toContain('json schema validated');
      expect(jobResults(run), run.output).toEqual({
        'gate-build': 'PASS',
        'gate-unit': 'FAIL',
        'gate-style': 'WARN',
        'gate-docs': 'PASS',
        [REPORT_JOB_NAME]: 'PASS',
      });
      expect(run.ok).toBe(false);
      // Each job exported exactly its own gate's result from its `result-<id>` target.
      for (const id of ['build', 'unit', 'style', 'docs'])
        expect(
          await readdir(
            join(dir, `.gitlab-ci-local/artifacts/gate-${id}/gatehouse-results/docker`),
          ),
        ).toEqual([id]);
      // BuildKit ran the gate's stage (or took it from its cache) and exported the result.
      expect(run.output).toMatch(/^gate-unit\s+> #\d+ \[gate-unit 1\/1\] RUN /m);
      expect(run.output).toMatch(/gate-unit\s+> gate unit exit code: 7$/m);
      const report = await mergedReport(dir);
      expect(report.verdict.status).toBe('failed');
      expect(statuses(report)).toEqual({
        build: 'passed',
        unit: 'failed',
        style: 'failed',
        docs: 'passed',
      });
      // The same tree run locally: same verdict, same statuses.
      const local = await localReport(dir);
      expect(local.verdict.status).toBe(report.verdict.status);
      expect(statuses(local)).toEqual(statuses(report));
    },
    DOCKER_TEST_TIMEOUT_MS,
  );
});
