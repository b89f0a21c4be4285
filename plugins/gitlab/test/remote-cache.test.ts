import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipeline } from '@gatehouse-ci/core';
import { readOnlyAfter, remoteCacheVariants, type CiSituation } from '@gatehouse-ci/test-utils';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import plugin, { gateJobName, REPORT_JOB_NAME } from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

const SITUATIONS: CiSituation[] = [
  {
    readOnly: 'false',
    env: { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main' },
  },
  {
    readOnly: 'true',
    env: { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'feature', CI_DEFAULT_BRANCH: 'main' },
  },
  // Merge request pipelines have no CI_COMMIT_BRANCH.
  {
    readOnly: 'true',
    env: { CI_PIPELINE_SOURCE: 'merge_request_event', CI_DEFAULT_BRANCH: 'main' },
  },
  {
    readOnly: 'true',
    env: { CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main' },
  },
  { readOnly: 'true', env: {} },
];

describe('gitlab: cache.remote', () => {
  it('each gate job is read-write only on a push to the default branch', async () => {
    const pipeline = await loadPipeline(join(fixtures, 'remote-cache', 'gatehouse.yml'));
    const text = await readFile(
      join(fixtures, 'remote-cache', '_expected', '.gitlab-ci.yml'),
      'utf8',
    );
    const doc = parse(text) as Record<string, { script?: string[] }>;
    for (const g of pipeline.gates) {
      const script = doc[gateJobName(g.id)]!.script!;
      const at = script.findIndex((c) => c.includes(' run --only '));
      const line = script[at - 1]!;
      for (const s of SITUATIONS)
        expect(readOnlyAfter(line, s.env), JSON.stringify(s.env)).toBe(s.readOnly);
    }
    expect(JSON.stringify(doc[REPORT_JOB_NAME])).not.toContain('GATEHOUSE_REMOTE_CACHE');
  });

  it('without cache.remote (or with it false, or in docker mode) the pipeline is unchanged', async () => {
    for (const name of ['small', 'small-docker']) {
      const v = await remoteCacheVariants(
        plugin.targets.gitlab,
        'gitlab',
        join(fixtures, name, 'gatehouse.yml'),
      );
      expect(v.plain).not.toContain('GATEHOUSE_REMOTE_CACHE');
      expect(v.off).toBe(v.plain);
      if (name === 'small-docker') expect(v.on).toBe(v.plain);
    }
  });
});
