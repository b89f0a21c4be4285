import { GatehouseError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** The textual duration form accepted in configs: `500ms`, `90s`, `10m`, `1h`. */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h)$';

/**
 * A duration in milliseconds. Strings are `<integer><unit>` with unit `ms`, `s`, `m` or `h`
 * (`90s`, `10m`, `1h`); a number is a count of **seconds** (as in the config, `timeout: 90`).
 * Throws `GatehouseError('GH_DURATION_INVALID')` for anything else, zero or negative values.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw invalid(value);
    return Math.round(value * 1000);
  }
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(typeof value === 'string' ? value.trim() : '');
  if (!m) throw invalid(value);
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw invalid(value);
  return ms;
}

/** `90000` -> `1m30s`: the shortest exact form, for messages and docs. */
export function formatDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}

function invalid(value: unknown): GatehouseError {
  return new GatehouseError('GH_DURATION_INVALID', `invalid duration ${JSON.stringify(value)}`, {
    hint: 'use `90s`, `10m`, `1h`, `500ms` or a positive number of seconds',
  });
}
