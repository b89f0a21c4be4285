/**
 * Drift: how the gates of a config that extends presets differ from the gates of its presets
 * alone, both with their kind defaults applied (`gatehouse drift`, docs/presets.md).
 */
import { isDeepStrictEqual } from 'node:util';
import type { ResolvedGate, UserGate } from '../model.js';
import { isPlainObject } from '../object.js';
import type { GateKindPreset } from '../plugin.js';
import { resolveGate } from './load.js';
import { BUILTIN_PRESETS, DEFAULT_IMAGE } from './presets.js';

/**
 * How a gate differs from its preset:
 * - `removed`: the preset has the gate, the config removed it;
 * - `added`: the config has a gate no preset has;
 * - `loosened`: a threshold lets more through (a `max_*` raised or dropped, a `min_coverage`
 *   lowered or dropped, `sonar_quality_gate` turned off, a `baseline` added), or `mode`
 *   turned from `blocking` to `advisory`;
 * - `tightened`: the opposite of `loosened`;
 * - `changed`: any other key differs (`run`, `kind`, `needs`, `image`, `timeout`, …).
 */
export type DriftChange = 'removed' | 'added' | 'loosened' | 'tightened' | 'changed';

/** One difference between a config's gates and its presets' gates. */
export interface DriftEntry {
  gate: string;
  change: DriftChange;
  /** The key that differs (`mode`, `run`, `policy.max_errors`, `policy.min_coverage.lines`); absent for `removed` and `added`. */
  key?: string;
  /** The presets' value (kind defaults applied); null when they do not set it. */
  preset?: unknown;
  /** The config's value (kind defaults applied); null when it does not set it. */
  config?: unknown;
}

/** Changes that count as drift (exit status 1 of `gatehouse drift`); `added` and `tightened` do not. */
export const DRIFT_CHANGES: readonly DriftChange[] = ['removed', 'loosened', 'changed'];

/** Keys compared besides `mode` and the policy, in this order. */
const COMPARED: ReadonlyArray<keyof ResolvedGate> = [
  'kind',
  'run',
  'needs',
  'image',
  'env',
  'secrets',
  'inputs',
  'outputs',
  'timeoutMs',
  'evidence',
  'tools',
  'when',
];

function gatesOf(
  config: Record<string, unknown>,
  kinds: Record<string, GateKindPreset>,
): Map<string, ResolvedGate> {
  const image = typeof config.image === 'string' ? config.image : DEFAULT_IMAGE;
  const gates = isPlainObject(config.gates) ? config.gates : {};
  const out = new Map<string, ResolvedGate>();
  for (const [id, g] of Object.entries(gates))
    if (isPlainObject(g)) out.set(id, resolveGate(id, g as unknown as UserGate, image, kinds));
  return out;
}

/** `policy.max_errors`, `policy.min_coverage.lines`, … with their values. */
function flatPolicy(policy: Record<string, unknown>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(policy)) {
    if (isPlainObject(v)) for (const [s, x] of Object.entries(v)) out.set(`policy.${k}.${s}`, x);
    else out.set(`policy.${k}`, v);
  }
  return out;
}

/** Which way a policy value moved from `a` (preset) to `b` (config). */
function policyChange(key: string, a: unknown, b: unknown): DriftChange {
  const name = key.split('.')[1]!;
  if (name.startsWith('max_')) {
    if (b === undefined) return 'loosened';
    if (a === undefined) return 'tightened';
    if (typeof a === 'number' && typeof b === 'number') return b > a ? 'loosened' : 'tightened';
  } else if (name === 'min_coverage') {
    if (b === undefined) return 'loosened';
    if (a === undefined) return 'tightened';
    if (typeof a === 'number' && typeof b === 'number') return b < a ? 'loosened' : 'tightened';
  } else if (name === 'sonar_quality_gate') {
    return b === true ? 'tightened' : a === true ? 'loosened' : 'changed';
  } else if (name === 'baseline') {
    if (a === undefined) return 'loosened';
    if (b === undefined) return 'tightened';
  }
  return 'changed';
}

const orNull = (v: unknown): unknown => (v === undefined ? null : v);

/**
 * The differences between the gates of `presetBase` (the presets alone, merged) and those of
 * `resolved` (the config merged with them), in gate order (the presets' gates first, then
 * the config's own), then key order. Both must come from a valid config.
 */
export function presetDrift(
  presetBase: Record<string, unknown>,
  resolved: Record<string, unknown>,
  kinds: Record<string, GateKindPreset> = BUILTIN_PRESETS,
): DriftEntry[] {
  const all = { ...kinds, ...BUILTIN_PRESETS };
  const before = gatesOf(presetBase, all);
  const after = gatesOf(resolved, all);
  const out: DriftEntry[] = [];
  for (const [id, a] of before) {
    const b = after.get(id);
    if (!b) {
      out.push({ gate: id, change: 'removed' });
      continue;
    }
    if (a.mode !== b.mode)
      out.push({
        gate: id,
        change: b.mode === 'advisory' ? 'loosened' : 'tightened',
        key: 'mode',
        preset: a.mode,
        config: b.mode,
      });
    const pa = flatPolicy(a.policy as Record<string, unknown>);
    const pb = flatPolicy(b.policy as Record<string, unknown>);
    for (const key of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
      const x = pa.get(key);
      const y = pb.get(key);
      if (isDeepStrictEqual(x, y)) continue;
      out.push({
        gate: id,
        change: policyChange(key, x, y),
        key,
        preset: orNull(x),
        config: orNull(y),
      });
    }
    for (const key of COMPARED) {
      if (isDeepStrictEqual(a[key], b[key])) continue;
      out.push({
        gate: id,
        change: 'changed',
        key,
        preset: orNull(a[key]),
        config: orNull(b[key]),
      });
    }
  }
  for (const id of after.keys()) if (!before.has(id)) out.push({ gate: id, change: 'added' });
  return out;
}
