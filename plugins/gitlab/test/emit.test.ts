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
      docker_cache: 'gha',
      imgae: 'x',
    });
    expect(diagnostics.map((d) => `${d.code} ${d.path}`).sort()).toEqual([
      'GH_TARGET_OPTIONS targets.gitlab.cache',
      'GH_TARGET_OPTIONS targets.gitlab.docker_cache',
      'GH_TARGET_OPTIONS targets.gitlab.expire_in',
      'GH_TARGET_OPTIONS targets.gitlab.image',
      'GH_TARGET_OPTIONS targets.gitlab.tags',
      'GH_UNKNOWN_KEY targets.gitlab.imgae',
    ]);
  });

  it('refuses docker_cache outside docker mode, at the option', () => {
    const { diagnostics } = resolveTargetOptions(target, 'gitlab', { docker_cache: 'registry' });
    expect(diagnostics.map((d) => `${d.code} ${d.path}`)).toEqual([
      'GH_TARGET_OPTIONS targets.gitlab.docker_cache',
    ]);
    expect(diagnostics[0]!.message).toContain('mode: native');
  });

  it('docker_cache: registry logs in, imports the stages the build makes, and pushes only from the default branch', () => {
    const p = pipeline(
      [
        gate('build'),
        gate('unit', { needs: ['build'] }),
        gate('scan', { secrets: ['SCAN_TOKEN'] }),
      ],
      { targets: { dockerfile: {} } },
    );
    const doc = emitDoc(p, { mode: 'docker', docker_cache: 'registry' });
    const unit = (doc[gateJobName('unit')]!.script as string[]).join('\n');
    expect(unit).toContain('$CI_REGISTRY_IMAGE/gatehouse-cache/');
    expect(unit).toContain('docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"');
    expect(unit).toContain(
      '${GATEHOUSE_DOCKER_CACHE:+--cache-from "$GATEHOUSE_DOCKER_CACHE:gate-unit"} ${GATEHOUSE_DOCKER_CACHE:+--cache-from "$GATEHOUSE_DOCKER_CACHE:gate-build"}',
    );
    expect(unit).toContain(
      '[ "$CI_PIPELINE_SOURCE" = push ] && [ "$CI_COMMIT_BRANCH" = "$CI_DEFAULT_BRANCH" ]',
    );
    expect(unit).toContain('docker push "$GATEHOUSE_DOCKER_CACHE:gate-unit"');
    // The gate with a secret imports but never pushes.
    const scan = (doc[gateJobName('scan')]!.script as string[]).join('\n');
    expect(scan).toContain('--cache-from "$GATEHOUSE_DOCKER_CACHE:gate-scan"');
    expect(scan).not.toContain('docker push');
    // Without the option, nothing of it.
    const plain = emitTarget(target, p, { mode: 'docker' })[0]!.contents;
    expect(plain).not.toContain('GATEHOUSE_DOCKER_CACHE');
    expect(plain).not.toContain('docker login');
  });
});
