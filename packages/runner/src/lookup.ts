/**
 * A gate's cache key and what the cache holds for it: its cached result (restored into this
 * run's log and evidence paths), or the key it runs under. Says why through `onExplain`.
 */
import { rmSync } from 'node:fs';
import type { GateResult, ResolvedGate } from '@gatehouse-ci/core';
import { nowIso, type RunContext } from './context.js';
import { missReasons, type GateExplanation } from './explain.js';
import type { GateKeys } from './keys.js';
import type { GateManifest } from './manifest.js';
import { markRemote } from './remote-cache.js';
import { cachedResult } from './results.js';

/** A gate's key and manifest; null when it cannot be cached. */
export type Keyed = { key: string; manifest: GateManifest } | null;

/** Its cached result, or the key it runs under. */
export type Lookup =
  { result: GateResult; keyed?: undefined } | { result?: undefined; keyed: Keyed };

/**
 * The cached result of every one of `gates` (in order, needs first: each hit restores its
 * outputs, which a later gate's inputs may be), or null at the first that is not cached. What
 * `onExplain` would hear is said only when all are: otherwise the gates are looked up again
 * when they are scheduled, and say it then.
 */
export async function lookupAll(
  ctx: RunContext,
  keys: GateKeys,
  gates: readonly ResolvedGate[],
): Promise<Map<string, GateResult> | null> {
  const said: GateExplanation[] = [];
  const quiet: RunContext = { ...ctx, onExplain: (e) => said.push(e) };
  const found = new Map<string, GateResult>();
  for (const gate of gates) {
    const l = await lookupGate(quiet, keys, gate);
    if (!l.result) return null;
    found.set(gate.id, l.result);
  }
  for (const e of said) ctx.onExplain?.(e);
  return found;
}

/** Key `gate` and look it up in the cache. */
export async function lookupGate(
  ctx: RunContext,
  keys: GateKeys,
  gate: ResolvedGate,
): Promise<Lookup> {
  const { cache, emit, onExplain } = ctx;
  const logPath = ctx.paths.gateLog(gate.id);
  const outDir = ctx.paths.gateOut(gate.id);
  const notCacheable = await keys.notCacheable(gate);
  if (notCacheable !== null) {
    onExplain?.({ id: gate.id, action: 'run', key: null, reasons: [notCacheable] });
    return { keyed: null };
  }
  const keyed = await keys.keyOf(gate.id);
  let reasons: string[];
  if (ctx.noCache) reasons = ['--no-cache'];
  else if (!cache.enabled) reasons = [`cache not used (${ctx.stateKey.problem})`];
  else {
    const found = await ctx.shared.lookup(keyed.key, gate.id);
    let unrestored: string | null = null;
    if (found.kind === 'hit') {
      rmSync(outDir, { recursive: true, force: true });
      try {
        await cache.restore(found.dir, found.entry, {
          logPath,
          evidenceDir: outDir,
          rootDir: ctx.rootDir,
        });
      } catch (err) {
        unrestored = (err as Error).message;
      }
    }
    if (found.kind === 'hit' && unrestored === null) {
      await cache.writeIndex(gate.id, keyed.key, keyed.manifest).catch(() => undefined);
      onExplain?.({
        id: gate.id,
        action: 'cached',
        key: keyed.key,
        reasons: [`unchanged since run ${found.entry.runId}`],
      });
      const r = markRemote(cachedResult(found.entry.result, keyed.key, found.entry.runId), found);
      return { result: { ...r, log: { ...r.log, path: logPath } } };
    }
    if (unrestored !== null) {
      emit({
        type: 'message',
        at: nowIso(),
        level: 'warn',
        text: `cache entry ${keyed.key.slice(0, 12)} of gate ${gate.id} cannot be restored (${unrestored}); running the gate`,
      });
      reasons = [`cache entry not restored (${unrestored})`];
    } else if (found.kind === 'corrupt') {
      emit({
        type: 'message',
        at: nowIso(),
        level: 'warn',
        text: `cache entry ${keyed.key.slice(0, 12)} of gate ${gate.id} is damaged (${found.reason}); ignored and removed, running the gate`,
      });
      reasons = [`cache entry damaged (${found.reason})`];
    } else reasons = await missReasons(cache, gate.id, keyed.key, keyed.manifest);
  }
  onExplain?.({ id: gate.id, action: 'run', key: keyed.key, reasons });
  return { keyed };
}
