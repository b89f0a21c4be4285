// The emitted pipeline, run for real: gitlab-ci-local validates it against GitLab's schema and
// runs every job with the shell executor, each in its own copy of the project, artifacts passed
// along `needs:`. The jobs call the CLI built from this repository.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadPipeline } from '@gatehouse-ci/core';
import { emitTarget, hostileString } from '@gatehouse-ci/test-utils';
import plugin from '../src/index.js';
import {
  CLI,
  jobResults,
  localReport,
  makeProject,
  mergedReport,
  requireGitlabCiLocal,
  runPipeline,
  removeProjects,
  statuses,
} from './oracle.js';

/** A project with `config` as gatehouse.yml and its emitted .gitlab-ci.yml, committed. */
async function project(config: Record<string, unknown>): Promise<{ dir: string; ci: string }> {
  const full = { ...config, targets: { gitlab: { cli: `node ${CLI}` } } };
  const scratch = await makeProject({ 'gatehouse.yml': stringify(full) });
  const pipeline = await loadPipeline(join(scratch, 'gatehouse.yml'));
  const [file] = emitTarget(plugin.targets.gitlab, pipeline, pipeline.targets.gitlab ?? {});
  const dir = await makeProject({
    'gatehouse.yml': stringify(full),
    '.gitlab-ci.yml': file!.contents,
    '.gitignore': '.gatehouse/\n.gitlab-ci-local/\n',
  });
  return { dir, ci: file!.contents };
}

const JUNIT =
  '<testsuite name="t" tests="2" failures="0"><testcase name="a"/><testcase name="b"/></testsuite>';

const PCT = (pct: number): string =>
  `{"total":1000,"covered":${pct * 10},"skipped":0,"pct":${pct}}`;
// An istanbul json-summary: lines 87.5 %.
const COVERAGE = `{"total":{"lines":${PCT(87.5)},"statements":${PCT(90)},"functions":${PCT(100)},"branches":${PCT(80)}}}`;
const WRITE_COVERAGE = `printf '%s' '${COVERAGE}' > "$GATEHOUSE_OUT/coverage-summary.json"`;

function config(unitRun: string): Record<string, unknown> {
  return {
    version: 1,
    name: 'gl-run',
    image: 'node:22-bookworm-slim',
    setup: { run: 'echo "setup $SETUP_NOTE" > setup.txt', env: { SETUP_NOTE: 'a $HOME b' } },
    gates: {
      build: {
        kind: 'build',
        run: 'mkdir -p dist && echo built > dist/app.txt',
        outputs: ['dist/**'],
      },
      unit: {
        kind: 'unit-test',
        needs: ['build'],
        run: `${WRITE_COVERAGE} && ${unitRun}`,
        evidence: [
          { format: 'junit', path: 'junit.xml' },
          { format: 'istanbul', path: 'coverage-summary.json' },
        ],
      },
      style: { kind: 'custom', mode: 'advisory', run: 'echo "style nit" && exit 3' },
    },
  };
}

afterAll(removeProjects);

describe.skipIf(!requireGitlabCiLocal())('gitlab-ci-local runs the emitted pipeline', () => {
  it('passes: needs carry outputs, junit evidence is uploaded, the report equals gatehouse run', async () => {
    // The unit gate sees build's output only through the artifact `needs:` downloads.
    const { dir, ci } = await project(
      config(`test -f dist/app.txt && printf '%s' '${JUNIT}' > "$GATEHOUSE_OUT/junit.xml"`),
    );
    const run = await runPipeline(dir);
    expect(run.output).toContain('json schema validated');
    expect(run.ok, run.output).toBe(true);
    expect(jobResults(run)).toEqual({
      'gate-build': 'PASS',
      'gate-unit': 'PASS',
      'gate-style': 'WARN',
      'gatehouse-report': 'PASS',
    });
    // The line the `coverage:` regex reads for the merge request badge.
    expect(run.output).toMatch(/gate-unit\s+> gatehouse coverage: lines 87\.50%$/m);
    const doc = parse(ci) as Record<string, { allow_failure?: boolean }>;
    expect(doc['gate-style']!.allow_failure).toBe(true);
    expect(doc['gate-unit']!.allow_failure).toBeUndefined();
    expect(
      await readFile(
        join(dir, '.gitlab-ci-local/artifacts/gate-unit/gatehouse-evidence/unit/junit.xml'),
        'utf8',
      ),
    ).toBe(JUNIT);
    const report = await mergedReport(dir);
    expect(report.verdict.status).toBe('passed');
    expect(statuses(report)).toEqual({ build: 'passed', unit: 'passed', style: 'failed' });
    expect(report.gates.find((g) => g.id === 'unit')!.evidence.tests).toMatchObject({
      total: 2,
      failed: 0,
    });
    // The same config run locally gives the same verdict and statuses.
    const local = await localReport(dir);
    expect(local.verdict.status).toBe(report.verdict.status);
    expect(statuses(local)).toEqual(statuses(report));
    const codequality = JSON.parse(
      await readFile(
        join(dir, '.gitlab-ci-local/artifacts/gatehouse-report/gatehouse-report/codequality.json'),
        'utf8',
      ),
    ) as unknown[];
    expect(codequality).toEqual([]);
  }, 120_000);

  it('a failing blocking gate fails its job and the pipeline; the report job still runs and says failed', async () => {
    const { dir } = await project(
      config(`printf '%s' '${JUNIT}' > "$GATEHOUSE_OUT/junit.xml" && exit 1`),
    );
    const run = await runPipeline(dir);
    expect(run.ok).toBe(false);
    expect(jobResults(run)).toEqual({
      'gate-build': 'PASS',
      'gate-unit': 'FAIL',
      'gate-style': 'WARN',
      'gatehouse-report': 'PASS',
    });
    const report = await mergedReport(dir);
    expect(report.verdict.status).toBe('failed');
    expect(statuses(report)).toEqual({ build: 'passed', unit: 'failed', style: 'failed' });
    // The evidence was still collected for the widget after the gate failed.
    expect(
      await readFile(
        join(dir, '.gitlab-ci-local/artifacts/gate-unit/gatehouse-evidence/unit/junit.xml'),
        'utf8',
      ),
    ).toBe(JUNIT);
  }, 120_000);

  it('hostile setup.run and setup.env reach the shell unchanged', async () => {
    const DELIMITER = 'GATEHOUSE_CAPTURE';
    const sample = fc.record({
      script: hostileString({ maxLength: 10 }).filter((s) => !s.includes(DELIMITER)),
      env: fc.array(hostileString({ maxLength: 10 }), { minLength: 1, maxLength: 6 }),
    });
    // Every fragment at once, then random combinations.
    const all = fc.sample(sample, { numRuns: 5, seed: 15 });
    const { HOSTILE_FRAGMENTS } = await import('@gatehouse-ci/test-utils');
    all.unshift({ script: HOSTILE_FRAGMENTS.join(''), env: [...HOSTILE_FRAGMENTS] });
    for (const { script, env } of all) {
      const names = env.map((_, i) => `HOSTILE_${i}`);
      const setupRun = [
        `cat > captured-run.txt <<'${DELIMITER}'`,
        script,
        DELIMITER,
        `node -e "require('fs').writeFileSync('captured-env.json', JSON.stringify(process.env))"`,
      ].join('\n');
      const { dir } = await project({
        version: 1,
        name: 'hostile',
        image: 'node:22-bookworm-slim',
        setup: { run: setupRun, env: Object.fromEntries(names.map((n, i) => [n, env[i]!])) },
        gates: { check: { kind: 'custom', run: 'true' } },
      });
      const pipeline = await loadPipeline(join(dir, 'gatehouse.yml'));
      const run = await runPipeline(dir);
      expect(run.ok, run.output).toBe(true);
      const build = join(dir, '.gitlab-ci-local/builds/gate-check');
      const expectedScript = pipeline.setup!.run.split('\n').slice(1, -2).join('\n');
      expect(await readFile(join(build, 'captured-run.txt'), 'utf8')).toBe(`${expectedScript}\n`);
      const seen = JSON.parse(await readFile(join(build, 'captured-env.json'), 'utf8')) as Record<
        string,
        string
      >;
      for (const name of names) expect(seen[name], name).toBe(pipeline.setup!.env[name]);
    }
  }, 300_000);
});
