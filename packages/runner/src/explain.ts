/** Whether each gate would run or come from the cache, and why: `gatehouse explain` and `run --explain`. */
import { join } from 'node:path';
import {
  projectStateKey,
  type GateExplanation,
  unmetCondition,
  type ResolvedPipeline,
  type StateKeyResult,
} from '@gatehouse-ci/core';
import { GateCache } from './cache.js';
import { HashIndex, hashIndexPath } from './hash-index.js';
import { gateKeys } from './keys.js';
import { diffManifests, manifestKey, setupManifest, type GateManifest } from './manifest.js';
import { RemoteCacheClient, remoteCacheConfig, type RemoteCacheConfig } from './remote-cache.js';
import { selectRunGates } from './select.js';

export type { GateExplanation };

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

/**
 * For each selected gate, whether a run now would use the cache and why, without running
 * anything.
 */
export async function explain(
  pipeline: ResolvedPipeline,
  options: {
    gates?: string[];
    only?: string[];
    noCache?: boolean;
    stateDir?: string;
    /** Environment `when` conditions are checked against. @default process.env */
    env?: Record<string, string | undefined>;
    /**
     * The remote cache to ask (`HEAD`) about local misses; null for none. @default from the
     * `GATEHOUSE_REMOTE_CACHE_*` variables of `env`, as a run reads them
     */
    remoteCache?: RemoteCacheConfig | null;
  } = {},
): Promise<GateExplanation[]> {
  const rootDir = pipeline.rootDir;
  const stateKey = await projectStateKey(rootDir);
  const stateDir = options.stateDir ?? join(rootDir, '.gatehouse');
  const cache = new GateCache(stateDir, stateKey.key);
  const hashIndex = await HashIndex.load(hashIndexPath(stateDir), stateKey.key, !options.noCache);
  try {
    const remote =
      options.remoteCache !== undefined
        ? options.remoteCache
        : remoteCacheConfig(options.env ?? process.env).config;
    const client = remote && cache.enabled ? new RemoteCacheClient(remote) : null;
    return await explainWith(pipeline, options, { rootDir, stateKey, cache, hashIndex, client });
  } finally {
    await hashIndex.save().catch(() => undefined);
  }
}

async function explainWith(
  pipeline: ResolvedPipeline,
  options: Parameters<typeof explain>[1] & object,
  ctx: {
    rootDir: string;
    stateKey: StateKeyResult;
    cache: GateCache;
    hashIndex: HashIndex;
    client: RemoteCacheClient | null;
  },
): Promise<GateExplanation[]> {
  const { rootDir, stateKey, cache, hashIndex, client } = ctx;
  /** Why the server cannot be asked, once it did not answer: not asked again. */
  let remoteDown: string | null = null;
  const selected = selectRunGates(pipeline, options.gates ?? [], options.only ?? []);
  const setupKey = pipeline.setup
    ? manifestKey(await setupManifest(pipeline.setup, rootDir, hashIndex, pipeline.workspaceRoot))
    : null;
  const env = options.env ?? process.env;
  const keys = gateKeys(pipeline, setupKey, { hashIndex, env });
  const out: GateExplanation[] = [];
  for (const g of selected) {
    const why = unmetCondition(g, env);
    if (why !== null) {
      out.push({ id: g.id, action: 'skip', key: null, reasons: [why] });
      continue;
    }
    const notCacheable = await keys.notCacheable(g);
    if (notCacheable !== null) {
      out.push({ id: g.id, action: 'run', key: null, reasons: [notCacheable] });
      continue;
    }
    const { key, manifest } = await keys.keyOf(g.id);
    if (options.noCache) out.push({ id: g.id, action: 'run', key, reasons: ['--no-cache'] });
    else if (!cache.enabled)
      out.push({ id: g.id, action: 'run', key, reasons: [`cache not used (${stateKey.problem})`] });
    else if (await cache.has(key))
      out.push({
        id: g.id,
        action: 'cached',
        key,
        reasons: ['inputs, command, env and needs unchanged'],
      });
    else {
      const reasons = await missReasons(cache, g.id, key, manifest);
      if (client !== null && remoteDown === null) {
        const onServer = await client.has(key);
        if (onServer === true) {
          out.push({
            id: g.id,
            action: 'cached',
            key,
            reasons: [
              'on the remote cache: a run downloads it and replays it once its checks pass',
              ...reasons.map((r) => `not in the local cache: ${r}`),
            ],
          });
          continue;
        }
        if (onServer === null) remoteDown = 'the remote cache did not answer';
        else reasons.push('not on the remote cache either');
      }
      if (remoteDown !== null) reasons.push(remoteDown);
      out.push({ id: g.id, action: 'run', key, reasons });
    }
  }
  return out;
}
