import {
  selectGates,
  selectOnlyGates,
  type ResolvedGate,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';

/**
 * The gates a run covers, in pipeline (topological) order (core's `selectGates` and
 * `selectOnlyGates`, which also refuse an unknown id).
 * - `only`: exactly those gates; their needs are assumed done elsewhere.
 * - `gates`: those gates plus everything they transitively need.
 * - neither: every gate.
 */
export function selectRunGates(
  pipeline: ResolvedPipeline,
  gates: readonly string[],
  only: readonly string[] = [],
): ResolvedGate[] {
  return only.length > 0
    ? selectOnlyGates(pipeline, only).gates
    : [...selectGates(pipeline, gates).gates];
}
