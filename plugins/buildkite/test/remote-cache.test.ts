import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnlyAfter, remoteCacheVariants, type CiSituation } from '@gatehouse-ci/test-utils';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import plugin, { REPORT_STEP_KEY } from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

const SITUATIONS: CiSituation[] = [
  {
    readOnly: 'false',
    env: {
      BUILDKITE_PULL_REQUEST: 'false',
      BUILDKITE_BRANCH: 'main',
      BUILDKITE_PIPELINE_DEFAULT_BRANCH: 'main',
    },
  },
  {
    readOnly: 'true',
    env: {
      BUILDKITE_PULL_REQUEST: '42',
      BUILDKITE_BRANCH: 'main',
      BUILDKITE_PIPELINE_DEFAULT_BRANCH: 'main',
    },
  },
  {
    readOnly: 'true',
    env: {
      BUILDKITE_PULL_REQUEST: 'false',
      BUILDKITE_BRANCH: 'feature',
      BUILDKITE_PIPELINE_DEFAULT_BRANCH: 'main',
    },
  },
  { readOnly: 'true', env: {} },
];

describe('buildkite: cache.remote', () => {
  it('each gate step takes the token as a secret and is read-write only on a default-branch build that is no pull request', async () => {
    const text = await readFile(
      join(fixtures, 'remote-cache', '_expected', '.buildkite', 'pipeline.yml'),
      'utf8',
    );
    const steps = (parse(text) as { steps: Array<Record<string, unknown>> }).steps;
    const gates = steps.filter((s) => s.key !== REPORT_STEP_KEY);
    expect(gates).toHaveLength(4);
    for (const step of gates) {
      expect(step.secrets).toContain('GATEHOUSE_REMOTE_CACHE_TOKEN');
      const commands = step.commands as string[];
      const at = commands.findIndex((c) => c.includes(' run --only '));
      // `buildkite-agent pipeline upload` reads `$$` as `$`: this is what the agent's shell runs.
      const line = commands[at - 1]!.replace(/\$\$/g, '$');
      for (const s of SITUATIONS)
        expect(readOnlyAfter(line, s.env), JSON.stringify(s.env)).toBe(s.readOnly);
    }
    const report = steps.find((s) => s.key === REPORT_STEP_KEY)!;
    expect(JSON.stringify(report)).not.toContain('GATEHOUSE_REMOTE_CACHE');
  });

  it('without cache.remote (or with it false, or in docker mode) the pipeline is unchanged', async () => {
    for (const name of ['small', 'small-docker']) {
      const v = await remoteCacheVariants(
        plugin.targets.buildkite,
        'buildkite',
        join(fixtures, name, 'gatehouse.yml'),
      );
      expect(v.plain).not.toContain('GATEHOUSE_REMOTE_CACHE');
      expect(v.off).toBe(v.plain);
      if (name === 'small-docker') expect(v.on).toBe(v.plain);
    }
  });
});
