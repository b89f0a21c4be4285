/**
 * The gate graph. Edges go from a gate to the gates in its `needs`. Every function here
 * is deterministic: ties are broken by gate id.
 */
import { didYouMean } from './diagnostics.js';
import { GatehouseError } from './errors.js';
import type { ResolvedGate, ResolvedPipeline } from './model.js';
import { inheritLocator } from './locator.js';

/** The minimum a graph function needs from a gate. */
export type GateNode = Pick<ResolvedGate, 'id' | 'needs'>;

/**
 * Gates grouped in layers: layer 0 needs nothing, and every gate sits in the earliest
 * layer its needs allow (so a layer's gates can run in parallel). Ids are sorted within a
 * layer. Needs naming unknown gates are ignored (validation reports them).
 * Throws `GatehouseError('GH_CYCLE')` when the graph has a cycle.
 */
export function topologicalLayers(gates: readonly GateNode[]): string[][] {
  // Kahn's algorithm; a gate's layer is one more than the deepest layer among its needs.
  const ids = new Set(gates.map((g) => g.id));
  const dependents = new Map<string, string[]>(gates.map((g) => [g.id, []]));
  const waiting = new Map<string, number>();
  for (const g of gates) {
    const needs = new Set(g.needs.filter((n) => ids.has(n)));
    waiting.set(g.id, needs.size);
    for (const n of needs) dependents.get(n)!.push(g.id);
  }
  const layerOf = new Map<string, number>();
  const ready = gates.filter((g) => waiting.get(g.id) === 0).map((g) => g.id);
  for (const id of ready) layerOf.set(id, 0);
  for (let i = 0; i < ready.length; i++) {
    const id = ready[i]!;
    const next = layerOf.get(id)! + 1;
    for (const d of dependents.get(id)!) {
      if ((layerOf.get(d) ?? -1) < next) layerOf.set(d, next);
      const left = waiting.get(d)! - 1;
      waiting.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  if (ready.length < ids.size) {
    const cycle = findCycle(gates) ?? gates.map((g) => g.id).filter((id) => waiting.get(id)! > 0);
    throw new GatehouseError('GH_CYCLE', `the gates form a cycle: ${cycle.join(' -> ')}`);
  }
  const layers: string[][] = [];
  for (const [id, layer] of layerOf) (layers[layer] ??= []).push(id);
  return layers.map((l) => l.sort());
}

/**
 * A cycle as a closed path (`['a', 'b', 'a']`; a self-need is `['a', 'a']`), or null when
 * the graph is acyclic. The path starts at the smallest id on the cycle found first.
 */
export function findCycle(gates: readonly GateNode[]): string[] | null {
  const byId = new Map(gates.map((g) => [g.id, [...new Set(g.needs)].sort()]));
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const stack: string[] = [];
  for (const start of [...byId.keys()].sort()) {
    if (state.has(start)) continue;
    // Iterative DFS: configs are small, but property tests throw deep graphs at this.
    const iters: Array<{ id: string; i: number }> = [{ id: start, i: 0 }];
    state.set(start, 1);
    stack.push(start);
    while (iters.length > 0) {
      const top = iters[iters.length - 1]!;
      const needs = byId.get(top.id) ?? [];
      if (top.i >= needs.length) {
        state.set(top.id, 2);
        stack.pop();
        iters.pop();
        continue;
      }
      const next = needs[top.i++]!;
      if (!byId.has(next)) continue;
      const s = state.get(next);
      if (s === 1) {
        const cycle = stack.slice(stack.indexOf(next));
        return rotateToSmallest(cycle);
      }
      if (s === undefined) {
        state.set(next, 1);
        stack.push(next);
        iters.push({ id: next, i: 0 });
      }
    }
  }
  return null;
}

function rotateToSmallest(cycle: string[]): string[] {
  let k = 0;
  for (let i = 1; i < cycle.length; i++) if (cycle[i]! < cycle[k]!) k = i;
  const rotated = [...cycle.slice(k), ...cycle.slice(0, k)];
  return [...rotated, rotated[0]!];
}

/** The given gate ids plus everything they transitively need (unordered set). */
export function withNeeds(gates: readonly GateNode[], ids: readonly string[]): Set<string> {
  const byId = new Map(gates.map((g) => [g.id, g]));
  const out = new Set<string>();
  const todo = [...ids];
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (out.has(id)) continue;
    const g = byId.get(id);
    if (!g) continue;
    out.add(id);
    todo.push(...g.needs);
  }
  return out;
}

/**
 * The one `GH_UNKNOWN_GATE` of a gate selection (`--gate`, `--only`, an executor's `gates`):
 * `unknown gate \`x\``, with "did you mean" when one id is near a gate's, else the gates of
 * the pipeline. Throws when any of `ids` names no gate.
 */
export function assertKnownGates(pipeline: ResolvedPipeline, ids: readonly string[]): void {
  const known = pipeline.gates.map((g) => g.id);
  const unknown = [...new Set(ids)].filter((id) => !known.includes(id));
  if (unknown.length === 0) return;
  const suggestion = unknown.length === 1 ? didYouMean(unknown[0]!, known) : null;
  throw new GatehouseError(
    'GH_UNKNOWN_GATE',
    `unknown gate${unknown.length === 1 ? '' : 's'} ${unknown.map((id) => `\`${id}\``).join(', ')}`,
    { hint: suggestion ?? `gates are: ${known.join(', ')}` },
  );
}

/**
 * The pipeline restricted to `ids` and everything they transitively need, gates kept in
 * pipeline order. `release` is kept only when its `from` gate is selected. An empty `ids`
 * selects every gate. Throws `GatehouseError('GH_UNKNOWN_GATE')` for an unknown id
 * ({@link assertKnownGates}).
 */
export function selectGates(pipeline: ResolvedPipeline, ids: readonly string[]): ResolvedPipeline {
  if (ids.length === 0) return pipeline;
  assertKnownGates(pipeline, ids);
  return restrictTo(pipeline, withNeeds(pipeline.gates, ids));
}

/**
 * The pipeline restricted to exactly `ids`, without what they need (`gatehouse run --only`:
 * a CI job whose needs ran in other jobs). An empty `ids` selects every gate. Throws like
 * {@link selectGates}.
 */
export function selectOnlyGates(
  pipeline: ResolvedPipeline,
  ids: readonly string[],
): ResolvedPipeline {
  if (ids.length === 0) return pipeline;
  assertKnownGates(pipeline, ids);
  return restrictTo(pipeline, new Set(ids));
}

function restrictTo(pipeline: ResolvedPipeline, keep: ReadonlySet<string>): ResolvedPipeline {
  const selected: ResolvedPipeline = {
    ...pipeline,
    gates: pipeline.gates.filter((g) => keep.has(g.id)),
    release: pipeline.release && keep.has(pipeline.release.from) ? pipeline.release : null,
  };
  return inheritLocator(selected, pipeline);
}

/**
 * The longest chain of needs by total duration: the lower bound of a run's wall time
 * with unlimited parallelism. Gates missing from `durationsMs` count as 0. Ties prefer
 * the chain whose ids sort first. Throws `GH_CYCLE` on a cyclic graph.
 */
export function criticalPath(
  gates: readonly GateNode[],
  durationsMs: Record<string, number>,
): { path: string[]; totalMs: number } {
  const layers = topologicalLayers(gates);
  const byId = new Map(gates.map((g) => [g.id, g]));
  const best = new Map<string, { total: number; prev: string | null }>();
  for (const layer of layers) {
    for (const id of layer) {
      const own = Math.max(0, durationsMs[id] ?? 0);
      let prev: string | null = null;
      let base = 0;
      for (const n of [...(byId.get(id)?.needs ?? [])].sort()) {
        const b = best.get(n);
        if (b && (prev === null || b.total > base)) [prev, base] = [n, b.total];
      }
      best.set(id, { total: base + own, prev });
    }
  }
  let end: string | null = null;
  let totalMs = 0;
  for (const id of [...best.keys()].sort()) {
    const b = best.get(id)!;
    if (end === null || b.total > totalMs) [end, totalMs] = [id, b.total];
  }
  const path: string[] = [];
  for (let at = end; at !== null; at = best.get(at)?.prev ?? null) path.unshift(at);
  return { path, totalMs };
}
