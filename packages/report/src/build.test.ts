import { describe, expect, it } from 'vitest';
import { gate, pipeline } from '@gatehouse-ci/test-utils';
import type { GateResult } from '@gatehouse-ci/core';
import { newRunId } from '@gatehouse-ci/core';
import { buildReport, collectContext, collectGitInfo, computeVerdict } from './build.js';
import { cachedResult, skippedResult } from './evaluate.js';
import { tempDir, run } from '../test/helpers.js';

function result(
  id: string,
  status: GateResult['status'],
  over: Partial<GateResult> = {},
): GateResult {
  return {
    ...skippedResult(gate(id), 'x', 'local'),
    status,
    reason: status === 'passed' ? null : `${status} because`,
    ...over,
  };
}

describe('computeVerdict', () => {
  const p = pipeline([
    gate('build'),
    gate('unit', { needs: ['build'] }),
    gate('e2e', { needs: ['unit'] }),
    gate('sonar', { mode: 'advisory' }),
  ]);

  it('passes when every blocking gate passed, listing advisory failures as warnings', () => {
    const v = computeVerdict(
      [
        result('build', 'passed'),
        result('unit', 'passed'),
        result('e2e', 'passed'),
        result('sonar', 'failed', { mode: 'advisory' }),
      ],
      p,
    );
    expect(v.status).toBe('passed');
    expect(v.policy).toBe('all-blocking-gates-pass');
    expect(v.reasons).toEqual([
      'every blocking gate passed',
      'warning: advisory gate sonar failed: failed because',
    ]);
  });

  it.each(['failed', 'error', 'timeout', 'interrupted'] as const)(
    'fails on a blocking %s gate',
    (s) => {
      const v = computeVerdict([result('build', s), result('unit', 'passed')], p);
      expect(v.status).toBe('failed');
      expect(v.reasons[0]).toBe(`blocking gate build ${s}: ${s} because`);
    },
  );

  it('fails when a blocking gate was skipped because a need (transitively) failed', () => {
    const v = computeVerdict(
      [
        result('build', 'failed', { mode: 'advisory' }),
        result('unit', 'skipped'),
        result('e2e', 'skipped'),
      ],
      p,
    );
    expect(v.status).toBe('failed');
    expect(v.reasons).toContain('blocking gate unit skipped because build did not pass');
    expect(v.reasons).toContain('blocking gate e2e skipped because build did not pass');
  });

  it('a skip for another reason is only a warning; a missing result fails', () => {
    expect(
      computeVerdict(
        [result('build', 'passed'), result('unit', 'skipped', { reason: 'not selected' })],
        p,
      ).status,
    ).toBe('passed');
    expect(
      computeVerdict(
        [result('build', 'passed'), result('unit', 'skipped', { reason: 'no result reported' })],
        p,
      ).status,
    ).toBe('failed');
  });

  it('cached gates count by their cached status', () => {
    const failedBefore = cachedResult(result('build', 'failed'), 'k', 'R');
    expect(computeVerdict([failedBefore], p).reasons[0]).toBe(
      'blocking gate build failed (cached): failed because',
    );
    expect(computeVerdict([cachedResult(result('build', 'passed'), 'k', 'R')], p).status).toBe(
      'passed',
    );
  });
});

describe('run ids, git and context', () => {
  it('run ids are 26 Crockford characters and sort by time', () => {
    const a = newRunId(1_700_000_000_000);
    const b = newRunId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a < b).toBe(true);
    expect(newRunId()).not.toBe(newRunId());
  });

  it('reads commit, branch and dirty flag from git, null outside a repository', async () => {
    const dir = await tempDir();
    expect(await collectGitInfo(dir)).toEqual({ commit: null, branch: null, dirty: null });
    const env = {
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@e',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@e',
    };
    await run('git', ['init', '-q', '-b', 'main'], { cwd: dir });
    await run('sh', ['-c', 'echo a > f && git add f && git commit -qm init'], { cwd: dir, env });
    const info = await collectGitInfo(dir, {});
    expect(info.commit).toMatch(/^[0-9a-f]{40}$/);
    expect([info.branch, info.dirty]).toEqual(['main', false]);
    await run('sh', ['-c', 'echo b > f'], { cwd: dir });
    expect((await collectGitInfo(dir, {})).dirty).toBe(true);
  });

  it('identifies GitHub, Jenkins and Buildkite, else the local user', () => {
    expect(
      collectContext({
        GITHUB_ACTIONS: 'true',
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_REPOSITORY: 'o/r',
        GITHUB_RUN_ID: '42',
        GITHUB_RUN_ATTEMPT: '2',
        GITHUB_ACTOR: 'ann',
      }),
    ).toMatchObject({
      ci: { provider: 'github', buildUrl: 'https://github.com/o/r/actions/runs/42', runId: '42.2' },
      user: 'ann',
    });
    expect(
      collectContext({
        JENKINS_URL: 'https://j/',
        BUILD_URL: 'https://j/job/x/7/',
        BUILD_TAG: 'jenkins-x-7',
      }).ci,
    ).toEqual({ provider: 'jenkins', buildUrl: 'https://j/job/x/7/', runId: 'jenkins-x-7' });
    expect(
      collectContext({
        BUILDKITE: 'true',
        BUILDKITE_BUILD_URL: 'https://bk/b/1',
        BUILDKITE_BUILD_ID: 'u-1',
      }).ci,
    ).toEqual({ provider: 'buildkite', buildUrl: 'https://bk/b/1', runId: 'u-1' });
    expect(collectContext({ USER: 'bob' })).toMatchObject({ ci: null, user: 'bob' });
  });
});

describe('buildReport', () => {
  it('orders gates by pipeline and fills metadata', async () => {
    const dir = await tempDir();
    const p = pipeline([gate('a'), gate('b')], { name: 'shop', configSha256: 'c'.repeat(64) });
    const r = await buildReport({
      pipeline: p,
      gates: [result('b', 'passed'), result('a', 'passed')],
      executor: 'local',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:01:00.000Z',
      rootDir: dir,
      gatehouseVersion: '9.9.9',
      env: { USER: 'u' },
    });
    expect(r.gates.map((g) => g.id)).toEqual(['a', 'b']);
    expect(r).toMatchObject({
      schemaVersion: 1,
      pipeline: 'shop',
      gatehouseVersion: '9.9.9',
      configSha256: 'c'.repeat(64),
      executor: 'local',
      verdict: { status: 'passed' },
    });
    expect(r.runId).toHaveLength(26);
  });
});
