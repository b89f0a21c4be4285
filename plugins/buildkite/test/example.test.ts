// The storefront example's committed pipeline, judged by Buildkite's schema and the graph
// rules; its steps and depends_on must be the example's gate graph. (`.ci/run` checks
// separately that the file is what `gatehouse compile` produces today.)
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '@gatehouse-ci/core';
import { judgePipeline } from './oracle.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/storefront/', import.meta.url));

describe('the storefront example', () => {
  it('pipeline passes the schema and graph checks, with the gate DAG as steps and depends_on', async () => {
    const pipeline = await loadPipeline(`${EXAMPLE}gatehouse.yml`);
    const text = await readFile(`${EXAMPLE}.buildkite/pipeline.yml`, 'utf8');
    expect(judgePipeline(text)).toEqual([]);
    const strip = (id: string): string => id.slice('gate-'.length);
    const steps = (
      parse(text) as { steps: Array<{ key?: string; depends_on?: string[] }> }
    ).steps.filter((s) => s.key?.startsWith('gate-'));
    expect(
      Object.fromEntries(steps.map((s) => [strip(s.key!), (s.depends_on ?? []).map(strip).sort()])),
    ).toEqual(Object.fromEntries(pipeline.gates.map((g) => [g.id, [...g.needs].sort()])));
  });
});
