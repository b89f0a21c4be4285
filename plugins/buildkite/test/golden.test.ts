import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadPipeline } from '@gatehouse-ci/core';
import { emitTarget } from '@gatehouse-ci/test-utils';
import plugin, { gateStepKey, REPORT_STEP_KEY, type BuildkitePipeline } from '../src/index.js';
import { interpolateAll, judgePipeline } from './oracle.js';

// `pnpm --filter @gatehouse-ci/plugin-buildkite golden:update` rewrites the expected files.
const update = process.env.UPDATE_GOLDEN === '1';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cases = (await readdir(fixtures, { withFileTypes: true }))
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('buildkite golden files', () => {
  it('has a small, a docker-mode and a large (20+ gates) fixture', async () => {
    expect(cases).toEqual(expect.arrayContaining(['small', 'large', 'small-docker']));
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
      const dag: Record<string, string[]> = Object.fromEntries(
        pipeline.gates.map((g) => [gateStepKey(g.id), g.needs.map(gateStepKey).sort()]),
      );
      dag[REPORT_STEP_KEY] = pipeline.gates.map((g) => gateStepKey(g.id)).sort();
      expect(graph).toEqual(dag);
    },
  );
});
