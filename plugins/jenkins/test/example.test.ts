// The storefront example's committed Jenkinsfile, judged by Groovy and the declarative
// harness; every gate has a stage, after the stages of the gates it needs. (`.ci/run`
// checks separately that the file is what `gatehouse compile` produces today.)
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '@gatehouse-ci/core';
import { groovyAvailable, runHarness } from './harness.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/storefront/', import.meta.url));

describe.skipIf(!groovyAvailable())('the storefront example', () => {
  it('Jenkinsfile passes Groovy and the declarative harness, stages ordered by the gate DAG', async () => {
    const pipeline = await loadPipeline(`${EXAMPLE}gatehouse.yml`);
    const [r] = await runHarness([await readFile(`${EXAMPLE}Jenkinsfile`, 'utf8')]);
    expect(r!.error ?? null).toBeNull();
    expect(r!.ok).toBe(true);
    const recorded = JSON.stringify(r!.pipeline);
    const at = (id: string): number => recorded.indexOf(`"name":"${id}"`);
    for (const g of pipeline.gates) {
      expect(at(g.id), g.id).toBeGreaterThan(-1);
      for (const n of g.needs) expect(at(n), `${n} before ${g.id}`).toBeLessThan(at(g.id));
    }
  });
});
