import type { GateCache } from './cache.js';
import { diffManifests, type GateManifest } from './manifest.js';

/** Whether a gate runs or comes from the cache, and why. */
export interface GateExplanation {
  id: string;
  /**
   * `cached`: a verified entry exists for its key (for `explain`, an entry exists);
   * `skip`: its `when` condition does not hold.
   */
  action: 'run' | 'cached' | 'skip';
  /** Cache key, or null when the gate is not cacheable. */
  key: string | null;
  /** Human reasons, e.g. `input src/app.js changed (sha …→ …)`, `env NODE_ENV changed`. */
  reasons: string[];
}

/** Why a gate with this manifest misses the cache (the entry is known to be absent). */
export async function missReasons(
  cache: GateCache,
  id: string,
  key: string,
  manifest: GateManifest,
): Promise<string[]> {
  const prev = await cache.readIndex(id);
  if (prev === null) return ['no previous entry'];
  if (prev.key === key)
    return [
      'no cache entry for this key (evicted, removed as corrupt, or its last run did not pass: only passes are cached)',
    ];
  const diff = diffManifests(prev.manifest, manifest);
  return diff.length > 0 ? diff : ['cache format changed'];
}
