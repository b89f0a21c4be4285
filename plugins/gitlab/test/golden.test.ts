import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ciHasPackageGates, ciPackageJobs, loadPipeline } from '@gatehouse-ci/core';
import { emitTarget } from '@gatehouse-ci/test-utils';
import plugin, { gateJobName, packageJobName, REPORT_JOB_NAME } from '../src/index.js';
import { jobGraph, requireGitlabCiLocal, validatePipelines, removeProjects } from './oracle.js';

// `pnpm --filter @gatehouse-ci/plugin-gitlab golden:update` rewrites the expected files.
const update = process.env.UPDATE_GOLDEN === '1';
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cases = (await readdir(fixtures, { withFileTypes: true }))
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

async function emitCase(name: string): Promise<{ text: string; dag: Record<string, string[]> }> {
  const pipeline = await loadPipeline(join(fixtures, name, 'gatehouse.yml'));
  const [file] = emitTarget(plugin.targets.gitlab, pipeline, pipeline.targets.gitlab ?? {}, {
    gatehouseVersion: '0.1.0',
    configFile: 'gatehouse.yml',
  });
  const expectedPath = join(fixtures, name, '_expected', file!.path);
  if (update) {
    await mkdir(dirname(expectedPath), { recursive: true });
    await writeFile(expectedPath, file!.contents);
  }
  const text = await readFile(expectedPath, 'utf8');
  expect(file!.contents).toBe(text);
  if (ciHasPackageGates(pipeline) && pipeline.targets.gitlab?.mode === 'docker') {
    // One job per gate as without packages, each in the pipeline when its package's files changed.
    const dag: Record<string, string[]> = Object.fromEntries(
      pipeline.gates.map((g) => [gateJobName(g.id), g.needs.map(gateJobName).sort()]),
    );
    dag[REPORT_JOB_NAME] = pipeline.gates.map((g) => gateJobName(g.id)).sort();
    return { text, dag };
  }
  if (ciHasPackageGates(pipeline)) {
    // One job per package, each rebuilding what it needs: only the report waits (monorepo.test.ts).
    const names = ciPackageJobs(pipeline).map((j) => packageJobName(j.key));
    const dag: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
    dag[REPORT_JOB_NAME] = names.sort();
    return { text, dag };
  }
  const dag: Record<string, string[]> = Object.fromEntries(
    pipeline.gates.map((g) => [gateJobName(g.id), g.needs.map(gateJobName).sort()]),
  );
  dag[REPORT_JOB_NAME] = pipeline.gates.map((g) => gateJobName(g.id)).sort();
  return { text, dag };
}

afterAll(removeProjects);

describe('gitlab golden files', () => {
  it('has a small, a docker-mode, a large (20+ gates) and a monorepo fixture, native and docker', async () => {
    expect(cases).toEqual(
      expect.arrayContaining(['small', 'large', 'small-docker', 'monorepo', 'monorepo-docker']),
    );
    expect(
      (await loadPipeline(join(fixtures, 'large', 'gatehouse.yml'))).gates.length,
    ).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('%s: matches _expected, with the gate DAG as jobs and needs', async (name) => {
    const { text, dag } = await emitCase(name);
    expect(jobGraph(parse(text) as Record<string, unknown>)).toEqual(dag);
  });

  describe.skipIf(!requireGitlabCiLocal())('gitlab-ci-local', () => {
    it('accepts every expected file (GitLab JSON schema, needs, rules)', async () => {
      const texts = await Promise.all(cases.map(async (name) => (await emitCase(name)).text));
      const results = await validatePipelines(texts);
      results.forEach((r, i) => expect(r, cases[i]).toMatchObject({ ok: true }));
    }, 120_000);
  });
});
