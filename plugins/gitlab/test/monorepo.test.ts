// A monorepo's pipeline run by gitlab-ci-local on a real git repository: a merge request that
// changes one package must start exactly the jobs of what `gatehouse affected` reports (GitLab's
// `rules: changes:` decide, as gitlab-ci-local evaluates them against origin's default branch),
// each job in its own copy of the project, and the report must judge exactly the affected gates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline, type RunReport } from '@gatehouse-ci/core';
import { emitTarget, makeWorkspace } from '@gatehouse-ci/test-utils';
import plugin from '../src/index.js';
import { requireGitlabCiLocal, runGitlabCiLocal } from './oracle.js';

const CLI = fileURLToPath(new URL('../../../apps/cli/bin/gatehouse.js', import.meta.url));
const write = `require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.js','1')`;
const needs = (...dirs: string[]) =>
  dirs.map((d) => `require('fs').accessSync('${d}/dist/index.js');`).join('');
const node = (code: string) => `node -e "${code}"`;

let work = '';
let repo = '';
let base = '';
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gatehouse-gitlab-mono-'));
  const origin = join(work, 'origin');
  execFileSync('mkdir', [origin]);
  makeWorkspace(
    origin,
    [
      {
        dir: 'packages/utils',
        name: '@acme/utils',
        scripts: { build: node(write), lint: 'node -e 0' },
      },
      {
        dir: 'packages/core',
        name: '@acme/core',
        deps: ['@acme/utils'],
        scripts: { build: node(needs('../utils') + write), lint: 'node -e 0' },
      },
      {
        dir: 'apps/web',
        name: 'web',
        deps: ['@acme/core'],
        scripts: { build: node(needs('../../packages/core', '../../packages/utils') + write) },
      },
    ],
    {
      globs: ['packages/*', 'apps/*'],
      git: true,
      files: {
        'gatehouse.yml': [
          'version: 1',
          'name: acme',
          'gates:',
          '  build: { kind: build, packages: { script: build }, needs: [^build], outputs: [dist/**] }',
          '  lint: { kind: lint, packages: { script: lint } }',
          '  licenses: { kind: custom, run: node -e 0 }',
          'targets:',
          `  gitlab: { cli: node ${CLI} }`,
          '',
        ].join('\n'),
      },
    },
  );
  writeFileSync(
    join(origin, '.gitignore'),
    'node_modules/\n.gatehouse/\ndist/\n.gitlab-ci-local/\n',
  );
  const pipeline = await loadPipeline(join(origin, 'gatehouse.yml'));
  const [file] = emitTarget(plugin.targets.gitlab, pipeline, pipeline.targets.gitlab ?? {});
  writeFileSync(join(origin, file!.path), file!.contents);
  git(origin, 'add', '-A');
  git(origin, '-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-qm', 'ci');
  base = git(origin, 'rev-parse', 'HEAD');
  repo = join(work, 'repo');
  git(work, 'clone', '-q', origin, repo);
  // gitlab-ci-local reads the project's path from the remote's URL; origin/main stays as cloned.
  git(repo, 'remote', 'set-url', 'origin', 'https://gitlab.example.com/acme/repo.git');
  git(repo, 'checkout', '-q', '-b', 'feature');
  // A change to core: core and web are affected, utils is not.
  writeFileSync(join(repo, 'packages/core/src/index.js'), 'export const name = 2;\n');
  git(repo, '-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-qam', 'change core');
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!requireGitlabCiLocal('the gitlab monorepo run'))(
  'gitlab monorepo, run by gitlab-ci-local',
  () => {
    it('a merge request changing core runs the jobs of core, web and the whole-repository gate, and the report judges their gates', async () => {
      const run = await runGitlabCiLocal(repo, [
        '--shell-executor-no-image',
        '--force-shell-executor',
        '--shell-isolation',
        '--json-schema-validation',
        '--variable',
        `CI_MERGE_REQUEST_DIFF_BASE_SHA=${base}`,
      ]);
      expect(run.ok, run.output).toBe(true);
      const ran = [...run.output.matchAll(/^ (PASS|FAIL|WARN)\s+(\S+)/gm)].map((m) => m[2]).sort();
      expect(ran).toEqual(['gatehouse-report', 'pkg-core', 'pkg-licenses', 'pkg-web']);
      const affected = execFileSync(
        process.execPath,
        [CLI, 'affected', '--base', base, '--committed', '--gates'],
        {
          cwd: repo,
          encoding: 'utf8',
        },
      );
      const report = JSON.parse(
        readFileSync(
          join(repo, '.gitlab-ci-local/artifacts/gatehouse-report/gatehouse-report/report.json'),
          'utf8',
        ),
      ) as RunReport;
      expect(report.verdict.status).toBe('passed');
      expect(report.gates.map((g) => g.id).sort()).toEqual(affected.trim().split('\n').sort());
      expect(report.gates.map((g) => g.id).sort()).toEqual([
        'core-build',
        'core-lint',
        'licenses',
        'web-build',
      ]);
    }, 300_000);
  },
);
