import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ciHasPackageGates, ciPackageJobs, loadPipeline } from '@gatehouse-ci/core';
import { emitTarget } from '@gatehouse-ci/test-utils';
import plugin, {
  buildAffectedSteps,
  gateStepKey,
  packageStepKey,
  PLAN_STEP_KEY,
  REPORT_STEP_KEY,
  resolveBuildkiteOptions,
  type BuildkitePipeline,
} from '../src/index.js';
import { interpolateAll, judgePipeline } from './oracle.js';

// `pnpm --filter @gatehouse-ci/plugin-buildkite golden:update` rewrites the expected files.
const update = process.env.UPDATE_GOLDEN === '1';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cases = (await readdir(fixtures, { withFileTypes: true }))
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('buildkite golden files', () => {
  it('has a small, a docker-mode, a large (20+ gates) and a monorepo fixture, native and docker', async () => {
    expect(cases).toEqual(
      expect.arrayContaining(['small', 'large', 'small-docker', 'monorepo', 'monorepo-docker']),
    );
    expect(
      (await loadPipeline(join(fixtures, 'large', 'gatehouse.yml'))).gates.length,
    ).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)(
    '%s: matches _expected; the schema and graph checks accept it with the gate DAG',
    async (name) => {
      const pipeline = await loadPipeline(join(fixtures, name, 'gatehouse.yml'));
      const [file] = emitTarget(
        plugin.targets.buildkite,
        pipeline,
        pipeline.targets.buildkite ?? {},
        {
          gatehouseVersion: '0.1.0',
          configFile: 'gatehouse.yml',
        },
      );
      const expectedPath = join(fixtures, name, '_expected', file!.path);
      if (update) {
        await mkdir(dirname(expectedPath), { recursive: true });
        await writeFile(expectedPath, file!.contents);
      }
      const expected = await readFile(expectedPath, 'utf8');
      expect(file!.contents).toBe(expected);
      expect(judgePipeline(expected)).toEqual([]);
      const seen = interpolateAll(parseDocument(expected).toJS() as BuildkitePipeline);
      const graph = Object.fromEntries(
        seen.steps.map((s) => [s.key, [...((s.depends_on as string[] | undefined) ?? [])].sort()]),
      );
      if (ciHasPackageGates(pipeline)) {
        // The static pipeline only plans; the uploaded steps are judged below.
        expect(graph).toEqual({ [PLAN_STEP_KEY]: [] });
        return;
      }
      const dag: Record<string, string[]> = Object.fromEntries(
        pipeline.gates.map((g) => [gateStepKey(g.id), g.needs.map(gateStepKey).sort()]),
      );
      dag[REPORT_STEP_KEY] = pipeline.gates.map((g) => gateStepKey(g.id)).sort();
      expect(graph).toEqual(dag);
    },
  );
});

describe('buildkite monorepo: the steps `gatehouse affected --buildkite` uploads', () => {
  it.each([
    ['every job', undefined],
    ['the jobs of one package and its dependents', ['core-build']],
    ['no job', [] as string[]],
  ])('for %s, Buildkite accepts them, one step per job and the report', async (_, selected) => {
    const pipeline = await loadPipeline(join(fixtures, 'monorepo', 'gatehouse.yml'));
    const jobs = ciPackageJobs(
      pipeline,
      selected?.flatMap((id) => [
        id,
        ...pipeline.gates.filter((g) => g.needs.includes(id)).map((g) => g.id),
      ]),
    );
    const options = resolveBuildkiteOptions(pipeline.targets.buildkite ?? {}).value;
    const text = buildAffectedSteps(pipeline, options, jobs);
    expect(judgePipeline(text)).toEqual([]);
    const seen = interpolateAll(parseDocument(text).toJS() as BuildkitePipeline);
    const keys = jobs.map((j) => packageStepKey(j.key));
    expect(seen.steps.map((s) => s.key)).toEqual([...keys, REPORT_STEP_KEY]);
    const report = seen.steps.at(-1)!;
    expect(report.depends_on).toEqual(keys.length > 0 ? keys : undefined);
    // The merge judges exactly the gates of the uploaded jobs.
    expect(report.commands.join('\n')).toContain(
      `--gates '${jobs.flatMap((j) => j.gates).join(' ')}' --fail-on-verdict`,
    );
    for (const [i, job] of jobs.entries()) {
      const script = seen.steps[i]!.commands.at(-1)!;
      // Deps are rebuilt first, not reported; a job that needs none has no rebuild.
      if (job.deps.length > 0) expect(script).toContain(`for g in ${job.deps.join(' ')}; do`);
      else expect(script).not.toContain('--gate');
      expect(script).toContain(`for g in ${job.gates.join(' ')}; do`);
    }
  });
});

describe('buildkite monorepo in docker mode: the steps `gatehouse affected --buildkite` uploads', () => {
  it.each([
    ['every job', undefined],
    ['the jobs of one package and its dependents', ['core-build']],
    ['a leaf package', ['web-build']],
    ['no job', [] as string[]],
  ])(
    'for %s, Buildkite accepts them, one docker step per gate and the report',
    async (_, selected) => {
      const pipeline = await loadPipeline(join(fixtures, 'monorepo-docker', 'gatehouse.yml'));
      const jobs = ciPackageJobs(
        pipeline,
        selected?.flatMap((id) => [
          id,
          ...pipeline.gates.filter((g) => g.needs.includes(id)).map((g) => g.id),
        ]),
      );
      const options = resolveBuildkiteOptions(pipeline.targets.buildkite ?? {}).value;
      expect(options.mode).toBe('docker');
      const text = buildAffectedSteps(pipeline, options, jobs);
      expect(judgePipeline(text)).toEqual([]);
      const seen = interpolateAll(parseDocument(text).toJS() as BuildkitePipeline);
      const gates = pipeline.gates
        .map((g) => g.id)
        .filter((id) => jobs.some((j) => j.gates.includes(id)));
      const keys = gates.map(gateStepKey);
      expect(seen.steps.map((s) => s.key)).toEqual([...keys, REPORT_STEP_KEY]);
      const report = seen.steps.at(-1)!;
      expect(report.depends_on).toEqual(keys.length > 0 ? keys : undefined);
      expect(report.allow_dependency_failure).toBe(keys.length > 0 ? true : undefined);
      // The merge judges exactly the gates of the uploaded steps, from their docker exports.
      const merge = report.commands.find((c) => c.includes('report merge'))!;
      expect(merge).toContain(`report merge --docker gatehouse-results/docker`);
      expect(merge).toContain(`--gates '${gates.join(' ')}' --fail-on-verdict`);
      for (const [i, id] of gates.entries()) {
        const step = seen.steps[i]!;
        const gate = pipeline.gates.find((g) => g.id === id)!;
        expect(step.commands[0]).toContain(`--target result-${id} `);
        // A step waits for the steps of its needs that were uploaded; the build runs the others.
        const after = gate.needs.filter((n) => gates.includes(n)).map(gateStepKey);
        expect(step.depends_on).toEqual(after.length > 0 ? after : undefined);
      }
      if (selected?.[0] === 'web-build') expect(gates).toEqual(['web-lint', 'web-build']);
    },
  );
});
