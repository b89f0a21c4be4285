import type { ResolvedGate, ResolvedPipeline } from '@gatehouse-ci/core';

/** A resolved gate with test defaults; override what the test cares about. */
export function gate(id: string, over: Partial<ResolvedGate> = {}): ResolvedGate {
  return {
    id,
    kind: 'custom',
    run: `echo ${id}`,
    description: null,
    needs: [],
    image: 'gatehouse-test-base:1',
    env: {},
    secrets: [],
    inputs: [],
    outputs: [],
    timeoutMs: 600_000,
    mode: 'blocking',
    evidence: [{ format: 'exitcode', path: null }],
    policy: {},
    tools: {},
    ...over,
  };
}

/**
 * A resolved pipeline for tests. Gates are taken in the given order, so pass them
 * topologically ordered (as `resolveConfig` would).
 */
export function pipeline(
  gates: ResolvedGate[],
  over: Partial<ResolvedPipeline> = {},
): ResolvedPipeline {
  return {
    version: 1,
    name: 'test',
    configPath: '/tmp/gatehouse-test/gatehouse.yml',
    rootDir: '/tmp/gatehouse-test',
    configSha256: '0'.repeat(64),
    image: 'gatehouse-test-base:1',
    workdir: '/app',
    setup: null,
    gates,
    release: null,
    targets: {},
    plugins: [],
    ...over,
  };
}
