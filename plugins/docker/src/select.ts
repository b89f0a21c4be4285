import { GatehouseError, type ResolvedPipeline } from '@gatehouse/core';

/** The selected gates plus, transitively, the gates they need; all gates when none selected. */
export function selectWithNeeds(pipeline: ResolvedPipeline, ids: string[]): ResolvedPipeline {
  if (ids.length === 0) return pipeline;
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const keep = new Set<string>();
  const visit = (id: string): void => {
    const g = byId.get(id);
    if (!g)
      throw new GatehouseError(
        'GH_UNKNOWN_GATE',
        `no gate named "${id}" in ${pipeline.configPath}`,
      );
    if (keep.has(id)) return;
    keep.add(id);
    g.needs.forEach(visit);
  };
  ids.forEach(visit);
  return { ...pipeline, gates: pipeline.gates.filter((g) => keep.has(g.id)) };
}
