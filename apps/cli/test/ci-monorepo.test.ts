/**
 * CI of a monorepo, end to end on a real git repository: the commands of the compiled GitHub
 * workflow (plan step, package jobs, merge) run with `sh` and the built CLI, each package job in
 * its own clone, as separate CI machines would. The plan must select exactly the jobs of what
 * `gatehouse affected` reports, each job must get the builds it needs from other packages,
 * and the merge must judge exactly the selected gates.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { makeWorkspace } from '@gatehouse-ci/test-utils';
import type { BuildkitePipeline } from '@gatehouse-ci/plugin-buildkite';
import { buildkitePlanRunner } from './buildkite-plan.js';
import { runCli } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));
const CLI = `node ${BIN}`;
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'T',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'T',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

const write = `require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.js','1')`;
// A script that fails unless the `dist` of each of `dirs` (relative to the package) exists.
const needs = (...dirs: string[]) =>
  dirs.map((d) => `require('fs').accessSync('${d}/dist/index.js');`).join('');
const node = (code: string) => `node -e "${code}"`;

let root = '';
let work = '';
let mainSha = '';
let workflow: {
  jobs: Record<
    string,
    { steps: Array<{ name: string; run?: string; env?: Record<string, string> }> }
  >;
};

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function step(job: string, name: string): { run: string; env: Record<string, string> } {
  const s = workflow.jobs[job]!.steps.find((x) => x.name.startsWith(name))!;
  return { run: s.run!, env: s.env ?? {} };
}

/** Run a step's script with `sh` as the runner would, `${{ … }}` values replaced by `env`. */
function sh(cwd: string, script: string, env: Record<string, string>) {
  const r = spawnSync('sh', ['-c', script], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function readOutputs(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gh-mono-ci-'));
  root = join(work, 'repo');
  mkdirSync(root);
  makeWorkspace(
    root,
    [
      {
        dir: 'packages/utils',
        name: '@acme/utils',
        scripts: { build: node(write), lint: 'node -e 0', test: node(needs('.')) },
      },
      {
        dir: 'packages/core',
        name: '@acme/core',
        deps: ['@acme/utils'],
        scripts: {
          build: node(needs('../utils') + write),
          lint: 'node -e 0',
          test: node(needs('.')),
        },
      },
      {
        dir: 'apps/web',
        name: 'web',
        deps: ['@acme/core'],
        // web imports core, which imports utils: its build needs both, transitively.
        scripts: {
          build: node(needs('../../packages/core', '../../packages/utils') + write),
          lint: 'node -e 0',
        },
      },
      { dir: 'packages/other', name: 'other', scripts: { build: node(write), lint: 'node -e 0' } },
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
          '  test: { kind: unit-test, packages: { script: test }, needs: [build] }',
          '  licenses: { kind: custom, run: node -e 0 }',
          'targets:',
          `  github: { cli: ${CLI} }`,
          `  jenkins: { cli: ${CLI} }`,
          `  buildkite: { cli: ${CLI} }`,
          '',
        ].join('\n'),
      },
    },
  );
  const compiled = await runCli(['compile', '--target', 'github'], root);
  expect(compiled.code, compiled.err).toBe(0);
  git(root, 'add', '-A');
  git(root, 'commit', '-qm', 'workflow');
  mainSha = git(root, 'rev-parse', 'HEAD');
  git(root, 'checkout', '-q', '-b', 'feature');
  // A change to core: core and web (which depends on it) are affected, utils and other are not.
  writeFileSync(join(root, 'packages/core/src/index.js'), 'export const name = 2;\n');
  git(root, 'commit', '-qam', 'change core');
  workflow = parseDocument(
    readFileSync(join(root, '.github/workflows/gatehouse.yml'), 'utf8'),
  ).toJS() as typeof workflow;
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

interface MatrixEntry {
  key: string;
  label: string;
  gates: string;
  deps: string;
}

function plan(base: string): { jobs: MatrixEntry[]; gates: string; count: string } {
  const out = join(work, `plan-${base.slice(0, 8) || 'empty'}.txt`);
  writeFileSync(out, '');
  const s = step('gatehouse-plan', 'Affected packages');
  const r = sh(root, s.run, { ...GIT_ENV, BASE: base, GITHUB_OUTPUT: out });
  expect(r.code, r.out).toBe(0);
  const o = readOutputs(out);
  return { jobs: JSON.parse(o.jobs!) as MatrixEntry[], gates: o.gates!, count: o.count! };
}

describe('monorepo CI: the GitHub workflow run on a real repository', () => {
  it('the plan selects exactly the jobs of the affected packages, as `gatehouse affected` reports', async () => {
    const p = plan(mainSha);
    const affected = await runCli(['affected', '--base', mainSha, '--json'], root);
    const json = JSON.parse(affected.out) as { packages: string[]; gates: string[] };
    expect(json.packages).toEqual(['@acme/core', 'web']);
    expect(p.jobs.map((j) => j.label).sort()).toEqual(['@acme/core', 'licenses', 'web']);
    expect(p.gates.split(' ').sort()).toEqual([...json.gates].sort());
    expect(p.count).toBe('3');
    const web = p.jobs.find((j) => j.key === 'web')!;
    expect(web.gates).toBe('web-lint web-build');
    // web's build needs core's build, which needs utils': both are rebuilt in web's job.
    expect(web.deps).toBe('utils-build core-build');
  });

  it('files the job made itself are no change: the plan counts committed changes only', async () => {
    writeFileSync(join(root, 'stray.js'), 'made by a CI step\n');
    try {
      expect(
        plan(mainSha)
          .jobs.map((j) => j.key)
          .sort(),
      ).toEqual(['core', 'licenses', 'web']);
      // Without --committed, a file outside every package affects every package.
      const wide = await runCli(['affected', '--base', mainSha, '--jobs'], root);
      expect(wide.out.split('\n').filter(Boolean).sort()).toEqual([
        'core',
        'licenses',
        'other',
        'utils',
        'web',
      ]);
    } finally {
      rmSync(join(root, 'stray.js'));
    }
  });

  it('Jenkins: the Affected stage marks the selected gates and every gate they need', async () => {
    const compiled = await runCli(['compile', '--target', 'jenkins'], root);
    expect(compiled.code, compiled.err).toBe(0);
    const text = readFileSync(join(root, 'Jenkinsfile'), 'utf8');
    const literal = /stage\('Affected'\) \{[^]*?sh '((?:[^'\\]|\\.)*)'/.exec(text)![1]!;
    const script = literal.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const r = sh(root, script, { ...GIT_ENV, GIT_PREVIOUS_SUCCESSFUL_COMMIT: mainSha });
    expect(r.code, r.out).toBe(0);
    const marked = readdirSync(join(root, '.gatehouse/ci-affected')).sort();
    // core's and web's gates, licenses, and utils-build, which core-build and web-build need.
    expect(marked).toEqual([
      'core-build',
      'core-lint',
      'core-test',
      'licenses',
      'utils-build',
      'web-build',
      'web-lint',
    ]);
    // Each gate stage runs only when its file is there.
    for (const id of marked) expect(text).toContain(`fileExists('.gatehouse/ci-affected/${id}')`);
    expect(text).toContain(`fileExists('.gatehouse/ci-affected/other-build')`);
    rmSync(join(root, 'Jenkinsfile'));
  });

  it('an unknown base (first push, manual run) selects every job', () => {
    for (const base of ['', '0000000000000000000000000000000000000000', 'deadbeef']) {
      const p = plan(base);
      expect(p.jobs.map((j) => j.key).sort()).toEqual([
        'core',
        'licenses',
        'other',
        'utils',
        'web',
      ]);
    }
  });

  it('each package job, alone on a fresh clone, runs its gates; the merge judges exactly the selected gates', () => {
    const p = plan(mainSha);
    const results = join(work, 'report-job');
    mkdirSync(results, { recursive: true });
    const job = step('gatehouse-packages', 'Gates of');
    for (const entry of p.jobs) {
      const clone = join(work, `job-${entry.key}`);
      git(work, 'clone', '-q', root, clone);
      const r = sh(clone, job.run, { KEY: entry.key, GATES: entry.gates, DEPS: entry.deps });
      expect(r.code, r.out).toBe(0);
      // What upload-artifact and download-artifact (one directory per artifact) do.
      const dest = join(results, 'gatehouse-results', `gatehouse-result-${entry.key}`);
      mkdirSync(dest, { recursive: true });
      copyFileSync(
        join(clone, 'gatehouse-results', entry.key, 'report.json'),
        join(dest, 'report.json'),
      );
      const report = JSON.parse(readFileSync(join(dest, 'report.json'), 'utf8')) as {
        gates: Array<{ id: string; status: string }>;
      };
      // Only the job's own gates are reported: the rebuilt ones belong to other jobs.
      expect(report.gates.map((g) => g.id)).toEqual(entry.gates.split(' '));
      expect(report.gates.every((g) => g.status === 'passed')).toBe(true);
    }
    git(work, 'clone', '-q', root, join(results, 'checkout'));
    const merge = step('gatehouse-report', 'Merge gate results');
    const dir = join(results, 'checkout');
    rmSync(join(dir, 'gatehouse-results'), { recursive: true, force: true });
    execFileSync('cp', ['-r', join(results, 'gatehouse-results'), dir]);
    const ok = sh(dir, merge.run, { PLAN: 'success', GATES: p.gates });
    expect(ok.code, ok.out).toBe(0);
    const merged = JSON.parse(readFileSync(join(dir, 'gatehouse-report/report.json'), 'utf8')) as {
      verdict: { status: string };
      gates: Array<{ id: string }>;
    };
    expect(merged.verdict.status).toBe('passed');
    expect(merged.gates.map((g) => g.id).sort()).toEqual(p.gates.split(' ').sort());

    // A selected job whose result never arrived fails the merge; so does a failed plan.
    rmSync(join(dir, 'gatehouse-results', 'gatehouse-result-web'), { recursive: true });
    const missing = sh(dir, merge.run, { PLAN: 'success', GATES: p.gates });
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/blocking gate web-build has no result/);
    expect(sh(dir, merge.run, { PLAN: 'failure', GATES: '' }).code).toBe(1);
  }, 120_000);

  it('a package job whose gate fails fails, and its report says which gate', () => {
    const clone = join(work, 'job-failing');
    git(work, 'clone', '-q', root, clone);
    writeFileSync(
      join(clone, 'packages/core/package.json'),
      readFileSync(join(clone, 'packages/core/package.json'), 'utf8').replace(
        '"lint": "node -e 0"',
        '"lint": "node -e process.exit(3)"',
      ),
    );
    const job = step('gatehouse-packages', 'Gates of');
    const r = sh(clone, job.run, {
      KEY: 'core',
      GATES: 'core-lint core-build core-test',
      DEPS: 'utils-build',
    });
    expect(r.code).not.toBe(0);
    const report = JSON.parse(
      readFileSync(join(clone, 'gatehouse-results/core/report.json'), 'utf8'),
    ) as {
      gates: Array<{ id: string; status: string }>;
    };
    expect(report.gates.find((g) => g.id === 'core-lint')!.status).toBe('failed');
    expect(report.gates.find((g) => g.id === 'core-test')!.status).toBe('passed');
  }, 60_000);

  it('Buildkite: the plan step, run on a clone, compares with the default branch and uploads the affected steps', async () => {
    const run = await buildkitePlanRunner(root, work);
    const uploaded = (branch: string): string[] => run(branch).steps.map((s) => s.key);
    // On a branch: compared with main, which the step fetched.
    expect(uploaded('feature').sort()).toEqual([
      'gatehouse-report',
      'pkg-core',
      'pkg-licenses',
      'pkg-web',
    ]);
    // On the default branch itself there is nothing to compare with: every step.
    expect(uploaded('main').sort()).toEqual([
      'gatehouse-report',
      'pkg-core',
      'pkg-licenses',
      'pkg-other',
      'pkg-utils',
      'pkg-web',
    ]);
  });

  it('`affected --buildkite` prints one step per affected job and the report', async () => {
    const r = await runCli(['affected', '--base', mainSha, '--buildkite'], root);
    expect(r.code, r.err).toBe(0);
    // Buildkite's schema judges these steps in plugins/buildkite/test/golden.test.ts.
    const steps = (parseDocument(r.out).toJS() as BuildkitePipeline).steps;
    expect(steps.map((s) => s.key).sort()).toEqual([
      'gatehouse-report',
      'pkg-core',
      'pkg-licenses',
      'pkg-web',
    ]);
    const web = steps.find((s) => s.key === 'pkg-web')!;
    expect(web.commands.join('\n')).toContain('for g in utils-build core-build; do');
    expect(steps.at(-1)!.depends_on).toEqual(['pkg-core', 'pkg-licenses', 'pkg-web']);
  });
});
