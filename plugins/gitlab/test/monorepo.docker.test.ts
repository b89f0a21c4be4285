// A monorepo's docker-mode pipeline run by gitlab-ci-local on a real git repository: a merge
// request that changes one leaf package must start exactly the gate jobs of that package and the
// whole-repository gate (GitLab's `rules: changes:` decide, as gitlab-ci-local evaluates them
// against origin's default branch); each job builds its `result-<id>` target with real BuildKit,
// on the offline test base image, running the stages of the gates it needs itself; the report
// must judge exactly the affected gates. The runner's daemon stands in for the docker:dind
// service, as in docker.test.ts: the file runs with its `services:` removed.
import { execFileSync } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadPipeline } from '@gatehouse-ci/core';
import {
  DOCKER_CLI,
  DOCKER_TEST_TIMEOUT_MS,
  emitTarget,
  ensureBaseImage,
  makeWorkspace,
  requireDocker,
} from '@gatehouse-ci/test-utils';
import plugin from '../src/index.js';
import { CLI, jobResults, mergedReport, requireGitlabCiLocal, runGitlabCiLocal } from './oracle.js';

const enabled =
  requireGitlabCiLocal('the GitLab docker-mode monorepo run') &&
  (await requireDocker('the GitLab docker-mode monorepo run'));

const write = `require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.js','1')`;
// web's build fails unless the builds of core and utils (its dependencies, transitively) ran first.
const webBuild = `node -e "require('fs').accessSync('../../packages/core/dist/index.js');require('fs').accessSync('../../packages/utils/dist/index.js');${write}"`;

let work = '';
let repo = '';
let base = '';
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const commit = (cwd: string, message: string) =>
  git(cwd, '-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-qam', message);

beforeAll(async () => {
  if (!enabled) return;
  const image = await ensureBaseImage();
  work = mkdtempSync(join(tmpdir(), 'gatehouse-gitlab-mono-docker-'));
  const origin = join(work, 'origin');
  execFileSync('mkdir', [origin]);
  makeWorkspace(
    origin,
    [
      { dir: 'packages/utils', name: '@acme/utils' },
      { dir: 'packages/core', name: '@acme/core', deps: ['@acme/utils'] },
      { dir: 'apps/web', name: 'web', deps: ['@acme/core'] },
    ],
    {
      globs: ['packages/*', 'apps/*'],
      git: true,
      files: {
        'gatehouse.yml': [
          'version: 1',
          'name: acme',
          `image: ${image}`,
          'gates:',
          '  build:',
          '    kind: build',
          `    packages: { script: build, overrides: { web: { run: ${JSON.stringify(webBuild)} } } }`,
          `    run: ${JSON.stringify(`node -e "${write}"`)}`,
          '    needs: [^build]',
          '    outputs: [dist/**]',
          '  lint: { kind: lint, packages: { script: lint }, run: node -e 0 }',
          '  licenses: { kind: custom, run: node -e 0 }',
          'targets:',
          '  dockerfile: {}',
          `  gitlab: { mode: docker, cli: node ${CLI} }`,
          '',
        ].join('\n'),
      },
    },
  );
  writeFileSync(
    join(origin, '.gitignore'),
    'node_modules/\n.gatehouse/*\n!.gatehouse/docker/\ndist/\n.gitlab-ci-local/\n',
  );
  const compiled = execFileSync(process.execPath, [CLI, 'compile', '--target', 'dockerfile'], {
    cwd: origin,
    encoding: 'utf8',
  });
  expect(compiled).toBeDefined();
  const pipeline = await loadPipeline(join(origin, 'gatehouse.yml'));
  const [file] = emitTarget(plugin.targets.gitlab, pipeline, pipeline.targets.gitlab ?? {});
  const ci = parse(file!.contents) as { default: { services?: string[] } };
  expect(ci.default.services).toBeDefined();
  delete ci.default.services;
  writeFileSync(join(origin, file!.path), stringify(ci));
  git(origin, 'add', '-A');
  commit(origin, 'ci');
  base = git(origin, 'rev-parse', 'HEAD');
  repo = join(work, 'repo');
  git(work, 'clone', '-q', origin, repo);
  // gitlab-ci-local reads the project's path from the remote's URL; origin/main stays as cloned.
  git(repo, 'remote', 'set-url', 'origin', 'https://gitlab.example.com/acme/repo.git');
  git(repo, 'checkout', '-q', '-b', 'feature');
  // A change to web, a leaf: web's gates are affected, those of core and utils are not.
  writeFileSync(join(repo, 'apps/web/src/index.js'), 'export const name = 2;\n');
  commit(repo, 'change web');
}, DOCKER_TEST_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!enabled)('gitlab monorepo in docker mode, run by gitlab-ci-local', () => {
  it(
    'a merge request changing a leaf builds only its gates (and the whole-repository gate) with BuildKit, and the report judges exactly those',
    async () => {
      // The jobs' `docker` is Debian's CLI (BuildKit with DOCKER_BUILDKIT=1, no buildx needed).
      const bin = join(work, 'bin');
      execFileSync('mkdir', [bin]);
      symlinkSync(DOCKER_CLI, join(bin, 'docker'));
      const run = await runGitlabCiLocal(
        repo,
        [
          '--shell-executor-no-image',
          '--force-shell-executor',
          '--shell-isolation',
          '--json-schema-validation',
          '--variable',
          `CI_MERGE_REQUEST_DIFF_BASE_SHA=${base}`,
        ],
        { PATH: `${bin}:${process.env.PATH ?? ''}` },
      );
      expect(run.output).toContain('json schema validated');
      expect(jobResults(run), run.output).toEqual({
        'gate-web-lint': 'PASS',
        'gate-web-build': 'PASS',
        'gate-licenses': 'PASS',
        'gatehouse-report': 'PASS',
      });
      expect(run.ok, run.output).toBe(true);
      // web-build's build ran core's and utils' stages (its script checks their dist), and
      // the job exported web-build's result only.
      expect(run.output).toMatch(/gate-web-build\s+> gate web-build exit code: 0$/m);
      expect(
        readdirSync(
          join(repo, '.gitlab-ci-local/artifacts/gate-web-build/gatehouse-results/docker'),
        ),
      ).toEqual(['web-build']);
      const report = await mergedReport(repo);
      expect(report.verdict.status).toBe('passed');
      // The gates of unaffected packages are left out, not reported missing.
      expect(report.gates.map((g) => g.id).sort()).toEqual(['licenses', 'web-build', 'web-lint']);
      const affected = execFileSync(
        process.execPath,
        [CLI, 'affected', '--base', base, '--committed', '--gates'],
        { cwd: repo, encoding: 'utf8' },
      );
      expect(affected.trim().split('\n').sort()).toEqual(['licenses', 'web-build', 'web-lint']);
      expect(readFileSync(join(repo, '.gitlab-ci.yml'), 'utf8')).toContain('optional: true');
    },
    DOCKER_TEST_TIMEOUT_MS,
  );
});
