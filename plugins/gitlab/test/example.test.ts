// The storefront example's committed .gitlab-ci.yml, judged by gitlab-ci-local (GitLab's JSON
// schema, needs); its jobs and needs must be the example's gate graph. (`.ci/run` checks
// separately that the file is what `gatehouse compile` produces today.)
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '@gatehouse-ci/core';
import { gateJobName, REPORT_JOB_NAME } from '../src/index.js';
import { jobGraph, requireGitlabCiLocal, validatePipelines, removeProjects } from './oracle.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/storefront/', import.meta.url));

afterAll(removeProjects);

describe('the storefront example', () => {
  it('has the gate DAG as jobs and needs, and a report job that needs every gate', async () => {
    const pipeline = await loadPipeline(`${EXAMPLE}gatehouse.yml`);
    const text = await readFile(`${EXAMPLE}.gitlab-ci.yml`, 'utf8');
    const expected: Record<string, string[]> = Object.fromEntries(
      pipeline.gates.map((g) => [gateJobName(g.id), g.needs.map(gateJobName).sort()]),
    );
    expected[REPORT_JOB_NAME] = pipeline.gates.map((g) => gateJobName(g.id)).sort();
    expect(jobGraph(parse(text) as Record<string, unknown>)).toEqual(expected);
  });

  it.skipIf(!requireGitlabCiLocal())(
    'passes gitlab-ci-local validation',
    async () => {
      const text = await readFile(`${EXAMPLE}.gitlab-ci.yml`, 'utf8');
      const [run] = await validatePipelines([text]);
      expect(run!.ok, run!.output).toBe(true);
    },
    60_000,
  );
});
