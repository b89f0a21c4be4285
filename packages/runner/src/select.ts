import { GatehouseError, type ResolvedGate, type ResolvedPipeline } from '@gatehouse/core';

/**
 * The gates a run covers, in pipeline (topological) order.
 * - `only`: exactly those gates; their needs are assumed done elsewhere.
 * - `gates`: those gates plus everything they transitively need.
 * - neither: every gate.
 */
export function selectRunGates(
  pipeline: ResolvedPipeline,
  gates: readonly string[],
  only: readonly string[] = [],
): ResolvedGate[] {
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const requested = only.length > 0 ? only : gates;
  const unknown = requested.filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    const known = pipeline.gates.map((g) => g.id).join(', ');
    throw new GatehouseError(
      'GH_UNKNOWN_GATE',
      `unknown gate ${unknown.map((u) => `\`${u}\``).join(', ')}`,
      {
        hint: `gates in ${pipeline.name}: ${known}`,
      },
    );
  }
  if (requested.length === 0) return [...pipeline.gates];
  const keep = new Set<string>();
  if (only.length > 0) for (const id of only) keep.add(id);
  else {
    const visit = (id: string) => {
      if (keep.has(id)) return;
      keep.add(id);
      for (const n of byId.get(id)?.needs ?? []) visit(n);
    };
    for (const id of gates) visit(id);
  }
  return pipeline.gates.filter((g) => keep.has(g.id));
}
