import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveTargetOptions } from '@gatehouse-ci/core';
import { diagnosticsOf, emitTarget, gate, pipeline } from '@gatehouse-ci/test-utils';
import plugin, { COVERAGE_REGEX, gateJobName } from '../src/index.js';

const target = plugin.targets.gitlab;

function emitDoc(
  p: ReturnType<typeof pipeline>,
  raw = {},
): Record<string, Record<string, unknown>> {
  return parse(emitTarget(target, p, raw)[0]!.contents) as Record<string, Record<string, unknown>>;
}

describe('gitlab emit', () => {
  it('writes secrets and condition variables by name nowhere: GitLab gives CI/CD variables to every job', () => {
    const p = pipeline([
      gate('sonar', {
        secrets: ['SONAR_TOKEN'],
        when: { env: ['SONAR_HOST_URL'] },
        mode: 'advisory',
      }),
    ]);
    const text = emitTarget(target, p)[0]!.contents;
    expect(text).not.toContain('SONAR_TOKEN');
    expect(text).not.toContain('SONAR_HOST_URL');
    const doc = emitDoc(p);
    expect(doc[gateJobName('sonar')]).toMatchObject({ allow_failure: true });
    expect(doc.default).toMatchObject({ interruptible: true });
  });

  it('gives coverage gates the coverage regex, and timeouts in minutes', () => {
    const p = pipeline([
      gate('unit', {
        evidence: [{ format: 'istanbul', path: 'coverage/coverage-summary.json' }],
        timeoutMs: 10 * 60_000,
      }),
    ]);
    const job = emitDoc(p)[gateJobName('unit')]!;
    expect(job.coverage).toBe(COVERAGE_REGEX);
    expect(job.timeout).toMatch(/^\d+ minutes$/);
    expect(
      new RegExp(COVERAGE_REGEX.slice(1, -1)).exec('gatehouse coverage: lines 87.50%')?.[1],
    ).toBe('87.50');
  });

  it('refuses output globs the runner would expand or split, at their config paths', () => {
    const p = pipeline([gate('build', { outputs: ['dist/$HOME/**', 'ok/**', ' spaced'] })]);
    expect(diagnosticsOf(() => emitTarget(target, p))).toEqual([
      'GH_GITLAB_UNSAFE_PATH gates.build.outputs[0]',
      'GH_GITLAB_UNSAFE_PATH gates.build.outputs[2]',
    ]);
  });

  it('refuses docker mode without the dockerfile target', () => {
    const p = pipeline([gate('a')]);
    expect(diagnosticsOf(() => emitTarget(target, p, { mode: 'docker' }))).toEqual([
      'GH_TARGET_OPTIONS targets.gitlab.mode',
    ]);
  });

  it('reports bad options at their paths, with a did-you-mean for unknown keys', () => {
    const { diagnostics } = resolveTargetOptions(target, 'gitlab', {
      image: 'node:22 $X',
      tags: ['ok', 'no $'],
      cache: 'yes',
      expire_in: 'soon',
      imgae: 'x',
    });
    expect(diagnostics.map((d) => `${d.code} ${d.path}`).sort()).toEqual([
      'GH_TARGET_OPTIONS targets.gitlab.cache',
      'GH_TARGET_OPTIONS targets.gitlab.expire_in',
      'GH_TARGET_OPTIONS targets.gitlab.image',
      'GH_TARGET_OPTIONS targets.gitlab.tags',
      'GH_UNKNOWN_KEY targets.gitlab.imgae',
    ]);
  });
});
