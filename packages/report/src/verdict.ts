/**
 * The verdict of a run from its gate results: one rule, used by every executor, by
 * `report merge`, and by the judge that runs inside the generated Dockerfile's verdict
 * stage. No I/O here: the in-image judge is this code bundled.
 */
import type { GateResult, GateStatus, ResolvedPipeline, RunReport } from '@gatehouse-ci/core';

/** Reason of a gate that was in the pipeline but never reported a result. */
export const NO_RESULT_REASON = 'no result reported';

/** The status that counts for the verdict: a cached gate counts as what it was. */
export function effectiveStatus(g: GateResult): GateStatus {
  return g.status === 'cached' ? (g.cached?.status ?? 'error') : g.status;
}

const BAD: ReadonlySet<GateStatus> = new Set(['failed', 'error', 'timeout', 'interrupted']);

/**
 * The verdict, policy `all-blocking-gates-pass`: failed when a blocking gate is
 * failed/error/timeout/interrupted, skipped because a gate it needs (transitively) did not
 * pass, or never reported. Advisory problems and other skips are listed as warnings only.
 * A gate in `opts.rejected` (a merged result that contradicts the config or itself) fails
 * it whatever its mode: such a result says nothing reliable about the run.
 */
export function computeVerdict(
  gates: GateResult[],
  pipeline: Pick<ResolvedPipeline, 'gates'> | null,
  opts: { rejected?: ReadonlySet<string> } = {},
): RunReport['verdict'] {
  const byId = new Map(gates.map((g) => [g.id, g]));
  const needs = new Map((pipeline?.gates ?? []).map((g) => [g.id, g.needs]));
  const blockedBy = (id: string, seen = new Set<string>()): string | null => {
    for (const n of needs.get(id) ?? []) {
      if (seen.has(n)) continue;
      seen.add(n);
      const r = byId.get(n);
      if (!r) continue;
      const s = effectiveStatus(r);
      if (BAD.has(s)) return n;
      if (s === 'skipped') {
        const deeper = blockedBy(n, seen);
        if (deeper) return deeper;
      }
    }
    return null;
  };
  const reasons: string[] = [];
  let failed = false;
  for (const g of gates) {
    if (opts.rejected?.has(g.id)) {
      failed = true;
      reasons.push(`result of gate ${g.id} rejected: ${g.reason ?? 'it contradicts the config'}`);
      continue;
    }
    const s = effectiveStatus(g);
    const cachedNote = g.status === 'cached' ? ' (cached)' : '';
    const why = g.reason ? `: ${g.reason}` : '';
    if (g.mode === 'blocking') {
      if (BAD.has(s)) {
        failed = true;
        reasons.push(`blocking gate ${g.id} ${s}${cachedNote}${why}`);
      } else if (s === 'skipped') {
        const cause = blockedBy(g.id);
        if (cause) {
          failed = true;
          reasons.push(`blocking gate ${g.id} skipped because ${cause} did not pass`);
        } else if (g.reason === NO_RESULT_REASON) {
          failed = true;
          reasons.push(`blocking gate ${g.id} has no result`);
        } else {
          reasons.push(`warning: blocking gate ${g.id} skipped${why}`);
        }
      }
    } else if (BAD.has(s) || s === 'skipped') {
      reasons.push(`warning: advisory gate ${g.id} ${s}${cachedNote}${why}`);
    }
  }
  if (!failed)
    reasons.unshift(
      gates.some((g) => g.mode === 'blocking') ? 'every blocking gate passed' : 'no blocking gates',
    );
  return { status: failed ? 'failed' : 'passed', reasons, policy: 'all-blocking-gates-pass' };
}
