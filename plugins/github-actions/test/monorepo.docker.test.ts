/**
 * Docker mode in a monorepo, run for real: the compiled workflow's plan step runs `gatehouse
 * affected` on a real git repository after a change to a leaf package, GitHub's own expression
 * evaluator decides from the plan's outputs which gate jobs run, each of those jobs builds its
 * `result-<id>` target with real BuildKit in its own clone (the stages of its needs included),
 * and the report job's merge judges exactly the selected gates.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunReport } from '@gatehouse-ci/core';
import {
  DOCKER_CLI,
  DOCKER_TEST_TIMEOUT_MS,
  ensureBaseImage,
  makeWorkspace,
  requireDocker,
} from '@gatehouse-ci/test-utils';
import { gateJobId, PLAN_JOB_ID, REPORT_JOB_ID } from '../src/index.js';

const CLI = fileURLToPath(new URL('../../../apps/cli/bin/gatehouse.js', import.meta.url));
const enabled = await requireDocker('the GitHub docker-mode monorepo run');

const write = `require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.js','1')`;
// web's build fails unless the builds of core and utils (its dependencies, transitively) ran first.
const webBuild = `node -e "require('fs').accessSync('../../packages/core/dist/index.js');require('fs').accessSync('../../packages/utils/dist/index.js');${write}"`;

interface Step {
  name: string;
  run?: string;
  env?: Record<string, string>;
}
interface Workflow {
  jobs: Record<string, { if?: string; needs?: string[]; steps: Step[] }>;
}

let work = '';
let root = '';
let bin = '';
let mainSha = '';
let workflow: Workflow;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function step(job: string, name: string): Step {
  return workflow.jobs[job]!.steps.find((s) => s.name.startsWith(name))!;
}

/** Run a step's script with `sh` as the runner would, its `${{ … }}` env values given by `env`. */
function sh(cwd: string, script: string, env: Record<string, string> = {}) {
  const r = spawnSync('sh', ['-e', '-c', script], {
    cwd,
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The plan step, run on the repository with `BASE`: the outputs it wrote to $GITHUB_OUTPUT. */
function plan(base: string): Record<string, string> {
  const out = join(work, `plan-${base.slice(0, 8) || 'empty'}.txt`);
  writeFileSync(out, '');
  const s = step(PLAN_JOB_ID, 'Affected packages');
  const r = sh(root, s.run!, { BASE: base, GITHUB_OUTPUT: out });
  expect(r.code, r.out).toBe(0);
  return Object.fromEntries(
    readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/**
 * The gate jobs whose `if:` GitHub's expression evaluator finds true, with the plan's `outputs`,
 * the plan succeeded, and no job failed or was cancelled.
 */
function gateJobsRun(outputs: Record<string, string>): string[] {
  const context = new data.Dictionary({
    key: 'needs',
    value: new data.Dictionary({
      key: PLAN_JOB_ID,
      value: new data.Dictionary(
        { key: 'result', value: new data.StringData('success') },
        {
          key: 'outputs',
          value: new data.Dictionary(
            ...Object.entries(outputs).map(([key, v]) => ({ key, value: new data.StringData(v) })),
          ),
        },
      ),
    }),
  });
  const status = (name: string, value: boolean) => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(value),
  });
  const functions = [status('cancelled', false), status('failure', false), status('success', true)];
  const run: string[] = [];
  for (const [id, job] of Object.entries(workflow.jobs)) {
    if (!id.startsWith('gate-')) continue;
    expect(job.if, id).toBeDefined();
    const expr = new Parser(new Lexer(job.if!).lex().tokens, ['needs'], functions).parse();
    const result = new Evaluator(
      expr,
      context,
      new Map(functions.map((f) => [f.name, f])),
    ).evaluate();
    expect(result, id).toBeInstanceOf(data.BooleanData);
    if ((result as data.BooleanData).value) run.push(id);
  }
  return run.sort();
}

beforeAll(async () => {
  if (!enabled) return;
  const image = await ensureBaseImage();
  work = mkdtempSync(join(tmpdir(), 'gh-mono-docker-'));
  root = join(work, 'repo');
  mkdirSync(root);
  makeWorkspace(
    root,
    [
      { dir: 'packages/utils', name: '@acme/utils' },
      { dir: 'packages/core', name: '@acme/core', deps: ['@acme/utils'] },
      { dir: 'apps/web', name: 'web', deps: ['@acme/core'] },
      { dir: 'packages/other', name: 'other' },
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
          `  github: { mode: docker, cli: node ${CLI} }`,
          '',
        ].join('\n'),
      },
    },
  );
  // The Dockerfile target's helper files under .gatehouse/docker/ are committed with it.
  writeFileSync(
    join(root, '.gitignore'),
    'node_modules/\n.gatehouse/*\n!.gatehouse/docker/\ndist/\ngatehouse-results/\ngatehouse-report/\n',
  );
  const compiled = spawnSync(process.execPath, [CLI, 'compile'], { cwd: root, encoding: 'utf8' });
  expect(compiled.status, compiled.stderr).toBe(0);
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'ci');
  mainSha = git(root, 'rev-parse', 'HEAD');
  git(root, 'checkout', '-q', '-b', 'feature');
  // A change to web, a leaf: only web's gates (and the gate not of a package) are affected.
  writeFileSync(join(root, 'apps/web/src/index.js'), 'export const name = 2;\n');
  git(root, 'commit', '-qam', 'change web');
  workflow = parse(readFileSync(join(root, '.github/workflows/gatehouse.yml'), 'utf8')) as Workflow;
  // The jobs' `docker` is Debian's CLI (BuildKit with DOCKER_BUILDKIT=1, no buildx needed).
  bin = join(work, 'bin');
  mkdirSync(bin);
  execFileSync('ln', ['-s', DOCKER_CLI, join(bin, 'docker')]);
}, DOCKER_TEST_TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!enabled)('github monorepo in docker mode, run on a real repository', () => {
  it('one gate job per gate, each after the plan; the report after all of them', () => {
    const gates = Object.keys(workflow.jobs).filter((id) => id.startsWith('gate-'));
    expect(gates.sort()).toEqual(
      [
        'core-build',
        'core-lint',
        'licenses',
        'other-build',
        'other-lint',
        'utils-build',
        'utils-lint',
        'web-build',
        'web-lint',
      ]
        .map(gateJobId)
        .sort(),
    );
    for (const id of gates) expect(workflow.jobs[id]!.needs![0]).toBe(PLAN_JOB_ID);
    // web's build needs core's and utils' (`^build`, transitively), which BuildKit also builds.
    expect(workflow.jobs[gateJobId('web-build')]!.needs).toEqual([
      PLAN_JOB_ID,
      gateJobId('core-build'),
      gateJobId('utils-build'),
    ]);
    expect([...workflow.jobs[REPORT_JOB_ID]!.needs!].sort()).toEqual(
      [PLAN_JOB_ID, ...gates].sort(),
    );
  });

  it('an unknown base (first push, manual run) runs every gate job', () => {
    for (const base of ['', '0000000000000000000000000000000000000000'])
      expect(gateJobsRun(plan(base))).toHaveLength(9);
  });

  it(
    'a change to a leaf runs only its gate jobs; each builds its target with BuildKit, and the merge judges exactly those gates',
    async () => {
      const outputs = plan(mainSha);
      const selected = ['licenses', 'web-build', 'web-lint'];
      expect(outputs.gates!.split(' ').sort()).toEqual(selected);
      expect(gateJobsRun(outputs)).toEqual(selected.map(gateJobId));

      // Each selected job alone on a fresh clone, as on its own runner; the report job then
      // gets every export in one directory (download-artifact with merge-multiple).
      const report = join(work, 'report-job');
      git(work, 'clone', '-q', '-b', 'feature', root, report);
      for (const id of selected) {
        const clone = join(work, `job-${id}`);
        git(work, 'clone', '-q', '-b', 'feature', root, clone);
        const build = step(gateJobId(id), `Gate ${id} (docker build)`);
        const r = sh(clone, build.run!, { DOCKER_BUILDKIT: '1' });
        expect(r.code, r.out).toBe(0);
        expect(r.out).toContain(`gate ${id} exit code: 0`);
        // The job exports its own gate only, though web-build's build ran core's and utils'.
        expect(readdirSync(join(clone, 'gatehouse-results/docker'))).toEqual([id]);
        cpSync(
          join(clone, 'gatehouse-results/docker', id),
          join(report, 'gatehouse-results/docker', id),
          {
            recursive: true,
          },
        );
      }

      const merge = step(REPORT_JOB_ID, 'Merge gate results');
      const env = { PLAN: 'success', GATES: outputs.gates! };
      const ok = sh(report, merge.run!, env);
      expect(ok.code, ok.out).toBe(0);
      const merged = JSON.parse(
        readFileSync(join(report, 'gatehouse-report/report.json'), 'utf8'),
      ) as RunReport;
      expect(merged.verdict.status).toBe('passed');
      // The gates of unaffected packages are left out, not reported missing.
      expect(merged.gates.map((g) => g.id).sort()).toEqual(selected);

      // A selected gate whose export never arrived fails the merge; so does a failed plan.
      rmSync(join(report, 'gatehouse-results/docker/web-build'), { recursive: true });
      const missing = sh(report, merge.run!, env);
      expect(missing.code).toBe(1);
      expect(missing.out).toMatch(/blocking gate web-build has no result/);
      expect(sh(report, merge.run!, { PLAN: 'failure', GATES: '' }).code).toBe(1);
    },
    DOCKER_TEST_TIMEOUT_MS,
  );

  it(
    'a selected gate job whose gate fails fails, and says with which exit code',
    () => {
      const clone = join(work, 'job-failing');
      git(work, 'clone', '-q', '-b', 'feature', root, clone);
      const config = join(clone, 'gatehouse.yml');
      writeFileSync(
        config,
        readFileSync(config, 'utf8').replace(
          '  lint: { kind: lint, packages: { script: lint }, run: node -e 0 }',
          '  lint: { kind: lint, packages: { script: lint }, run: \'node -e "process.exit(3)"\' }',
        ),
      );
      const compiled = spawnSync(process.execPath, [CLI, 'compile', '--target', 'dockerfile'], {
        cwd: clone,
        encoding: 'utf8',
      });
      expect(compiled.status, compiled.stderr).toBe(0);
      const r = sh(clone, step(gateJobId('web-lint'), 'Gate web-lint (docker build)').run!, {
        DOCKER_BUILDKIT: '1',
      });
      expect(r.code, r.out).not.toBe(0);
      expect(r.out).toContain('gate web-lint exit code: 3');
    },
    DOCKER_TEST_TIMEOUT_MS,
  );
});
