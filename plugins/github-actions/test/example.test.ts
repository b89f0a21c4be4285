// The storefront example's committed workflow, judged by actionlint and GitHub's parser;
// its jobs and needs must be the example's gate graph. (`.ci/run` checks separately that
// the file is what `gatehouse compile` produces today.)
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '@gatehouse-ci/core';
import { judgeWorkflows } from './oracle.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/storefront/', import.meta.url));

describe('the storefront example', () => {
  it("workflow passes actionlint and GitHub's parser, with the gate DAG as jobs and needs", async () => {
    const pipeline = await loadPipeline(`${EXAMPLE}gatehouse.yml`);
    const content = await readFile(`${EXAMPLE}.github/workflows/gatehouse.yml`, 'utf8');
    const [v] = await judgeWorkflows([{ path: '.github/workflows/gatehouse.yml', content }]);
    expect(v!.actionlint).toEqual([]);
    expect(v!.parserErrors).toEqual([]);
    const jobs = v!.workflow!.jobs.filter((j) => j.id.startsWith('gate-'));
    const strip = (id: string): string => id.slice('gate-'.length);
    expect(
      Object.fromEntries(jobs.map((j) => [strip(j.id), (j.needs ?? []).map(strip).sort()])),
    ).toEqual(Object.fromEntries(pipeline.gates.map((g) => [g.id, [...g.needs].sort()])));
  });
});
