/**
 * CI of a monorepo in docker mode, the plans run on a real git repository: after a change to a
 * leaf package, the Jenkins `Affected` stage and the Buildkite plan step (each run with `sh` as
 * the agent would) must select only that package's gates and the gate not of a package, not the
 * gates they need: each docker build runs those stages itself. (GitHub's plan and builds run in
 * plugins/github-actions/test/monorepo.docker.test.ts, GitLab's in
 * plugins/gitlab/test/monorepo.docker.test.ts.)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace } from '@gatehouse-ci/test-utils';
import { buildkitePlanRunner } from './buildkite-plan.js';
import { runCli } from './helpers.js';

const BIN = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));
const CLI = `node ${BIN}`;

let work = '';
let root = '';
let mainSha = '';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function sh(cwd: string, script: string, env: Record<string, string>) {
  const r = spawnSync('sh', ['-c', script], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mono-docker-ci-'));
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
          'gates:',
          '  build: { kind: build, packages: { script: build }, needs: [^build], outputs: [dist/**] }',
          '  lint: { kind: lint, packages: { script: lint } }',
          '  test: { kind: unit-test, packages: { script: test }, needs: [build] }',
          '  licenses: { kind: custom, run: node -e 0 }',
          'targets:',
          '  dockerfile: {}',
          `  jenkins: { mode: docker, cli: ${CLI} }`,
          `  buildkite: { mode: docker, cli: ${CLI} }`,
          '',
        ].join('\n'),
      },
    },
  );
  mainSha = git(root, 'rev-parse', 'HEAD');
  git(root, 'checkout', '-q', '-b', 'feature');
  // A change to web, a leaf: web's gates and licenses are affected, not those of its dependencies.
  writeFileSync(join(root, 'apps/web/src/index.js'), 'export const name = 2;\n');
  git(root, 'commit', '-qam', 'change web');
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('monorepo CI in docker mode: the plans run on a real repository', () => {
  it('Jenkins: the Affected stage marks the affected gates only, and removes exports of an earlier build', async () => {
    const compiled = await runCli(['compile', '--target', 'jenkins'], root);
    expect(compiled.code, compiled.err).toBe(0);
    const text = readFileSync(join(root, 'Jenkinsfile'), 'utf8');
    rmSync(join(root, 'Jenkinsfile'));
    const literal = /stage\('Affected'\) \{[^]*?sh '((?:[^'\\]|\\.)*)'/.exec(text)![1]!;
    const script = literal.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    // An export an earlier build of this workspace left behind.
    mkdirSync(join(root, 'gatehouse-results/docker/utils-build'), { recursive: true });
    const r = sh(root, script, { GIT_PREVIOUS_SUCCESSFUL_COMMIT: mainSha });
    expect(r.code, r.out).toBe(0);
    // web-build needs core-build and utils-build: its build runs them, they are not marked.
    expect(readdirSync(join(root, '.gatehouse/ci-affected')).sort()).toEqual([
      'licenses',
      'web-build',
      'web-lint',
      'web-test',
    ]);
    expect(readdirSync(join(root, 'gatehouse-results'))).toEqual([]);
    for (const id of ['web-build', 'core-build'])
      expect(text).toContain(`fileExists('.gatehouse/ci-affected/${id}')`);
    expect(text).toContain(
      'report merge --docker gatehouse-results/docker -o gatehouse-report/report.json --gates "$(cat .gatehouse/ci-affected.txt)" --fail-on-verdict',
    );
    // No commit to compare with: every gate.
    const all = sh(root, script, {});
    expect(all.code, all.out).toBe(0);
    expect(readdirSync(join(root, '.gatehouse/ci-affected'))).toHaveLength(13);
  });

  it('Buildkite: the plan step, run on a clone, uploads one docker step per affected gate and the report', async () => {
    const uploaded = await buildkitePlanRunner(root, work);
    const steps = uploaded('feature').steps;
    expect(steps.map((s) => s.key)).toEqual([
      'gate-licenses',
      'gate-web-lint',
      'gate-web-build',
      'gate-web-test',
      'gatehouse-report',
    ]);
    const byKey = new Map(steps.map((s) => [s.key, s]));
    // Each step builds its gate's target; web-build's needs were not uploaded: it waits for none.
    expect(byKey.get('gate-web-build')!.commands[0]).toContain('--target result-web-build ');
    expect(byKey.get('gate-web-build')!.depends_on).toBeUndefined();
    expect(byKey.get('gate-web-test')!.depends_on).toEqual(['gate-web-build']);
    const report = byKey.get('gatehouse-report')!;
    expect(report.depends_on).toEqual(steps.slice(0, -1).map((s) => s.key));
    expect(report.commands.join('\n')).toContain(
      "report merge --docker gatehouse-results/docker -o gatehouse-report/report.json --gates 'licenses web-lint web-build web-test' --fail-on-verdict",
    );
    // On the default branch itself there is nothing to compare with: every gate.
    expect(uploaded('main').steps).toHaveLength(14);
  });
});
