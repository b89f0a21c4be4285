import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { remoteCacheVariants } from '@gatehouse-ci/test-utils';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import plugin, { REPORT_JOB_ID } from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const WORKFLOW = '.github/workflows/gatehouse.yml';

type Dict = { [k: string]: string | Dict };
function dictionary(o: Dict): data.Dictionary {
  return new data.Dictionary(
    ...Object.entries(o).map(([key, v]) => ({
      key,
      value: typeof v === 'string' ? new data.StringData(v) : dictionary(v),
    })),
  );
}

/** GitHub's own evaluator on a `${{ … }}` value, with the `github` context given. */
function evaluate(value: string, github: Dict): string {
  const m = /^\$\{\{ (.*) \}\}$/.exec(value);
  if (!m) throw new Error(`not an expression: ${value}`);
  const expr = new Parser(new Lexer(m[1]!).lex().tokens, ['github'], []).parse();
  return new Evaluator(expr, dictionary({ github })).evaluate().coerceString();
}

const push = (ref: string, defaultBranch = 'main'): Dict => ({
  event_name: 'push',
  ref,
  event: { repository: { default_branch: defaultBranch } },
});

describe('github: cache.remote', () => {
  it('passes the remote cache to every gate step by name, read-write only on a push to the default branch', async () => {
    const text = await readFile(join(fixtures, 'remote-cache', '_expected', WORKFLOW), 'utf8');
    const workflow = parse(text) as {
      jobs: Record<string, { steps: Array<{ run?: string; env?: Record<string, string> }> }>;
    };
    const gateJobs = Object.entries(workflow.jobs).filter(([id]) => id !== REPORT_JOB_ID);
    expect(gateJobs).toHaveLength(4);
    for (const [, job] of gateJobs) {
      const step = job.steps.find((s) => s.run?.includes(' run --only '))!;
      expect(step.env).toMatchObject({
        GATEHOUSE_REMOTE_CACHE_URL: '${{ vars.GATEHOUSE_REMOTE_CACHE_URL }}',
        GATEHOUSE_REMOTE_CACHE_TEAM: '${{ vars.GATEHOUSE_REMOTE_CACHE_TEAM }}',
        GATEHOUSE_REMOTE_CACHE_TOKEN: '${{ secrets.GATEHOUSE_REMOTE_CACHE_TOKEN }}',
        GATEHOUSE_REMOTE_CACHE_SIGNATURE_KEY: '${{ secrets.GATEHOUSE_REMOTE_CACHE_SIGNATURE_KEY }}',
      });
      const ro = step.env!.GATEHOUSE_REMOTE_CACHE_READ_ONLY!;
      expect(evaluate(ro, push('refs/heads/main'))).toBe('false');
      expect(evaluate(ro, push('refs/heads/trunk', 'trunk'))).toBe('false');
      expect(evaluate(ro, push('refs/heads/feature'))).toBe('true');
      expect(evaluate(ro, push('refs/tags/v1'))).toBe('true');
      expect(evaluate(ro, { ...push('refs/pull/7/merge'), event_name: 'pull_request' })).toBe(
        'true',
      );
      expect(evaluate(ro, { ...push('refs/heads/main'), event_name: 'pull_request_target' })).toBe(
        'true',
      );
    }
    // The final job uses no cache, and no other step sees the token.
    expect(text.match(/GATEHOUSE_REMOTE_CACHE_TOKEN:/g)).toHaveLength(4);
    expect(JSON.stringify(workflow.jobs[REPORT_JOB_ID])).not.toContain('GATEHOUSE_REMOTE_CACHE');
  });

  it('without cache.remote (or with it false, or in docker mode) the workflow is unchanged', async () => {
    for (const name of ['small', 'small-docker']) {
      const v = await remoteCacheVariants(
        plugin.targets.github,
        'github',
        join(fixtures, name, 'gatehouse.yml'),
      );
      expect(v.plain).not.toContain('GATEHOUSE_REMOTE_CACHE');
      expect(v.off).toBe(v.plain);
      if (name === 'small-docker') expect(v.on).toBe(v.plain);
    }
  });
});
