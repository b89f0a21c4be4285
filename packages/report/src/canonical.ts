import { canonicalJson } from '@gatehouse-ci/core';

/** Keys JavaScript orders numerically before all others; a sorted copy cannot keep them in string order. */
const INDEX_LIKE = /^(?:0|[1-9]\d{0,9})$/;

class NeedsSlowPath extends Error {}

/**
 * A deep copy with object keys inserted in sorted order, so native `JSON.stringify` writes
 * canonical JSON. Refuses what `canonicalJson` refuses (non-finite numbers, functions, …).
 */
function sortedCopy(v: unknown): unknown {
  if (v === null) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError('canonicalJson: non-finite number');
      return v;
    case 'object': {
      if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : sortedCopy(x)));
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') throw new NeedsSlowPath();
      const src = v as Record<string, unknown>;
      // A null prototype keeps a `__proto__` key an ordinary member.
      const out = Object.create(null) as Record<string, unknown>;
      for (const k of Object.keys(src).sort()) {
        if (src[k] === undefined) continue;
        if (INDEX_LIKE.test(k)) throw new NeedsSlowPath();
        out[k] = sortedCopy(src[k]);
      }
      return out;
    }
    default:
      throw new TypeError(`canonicalJson: cannot serialise ${typeof v}`);
  }
}

/**
 * True when `JSON.stringify(v)` is already canonical: every object's own keys are in sorted
 * order (as `JSON.parse` leaves them for a canonical file), none index-like, no `undefined`
 * members, no non-finite numbers, nothing with `toJSON`. Lets `verify` skip copying.
 */
function alreadyCanonical(v: unknown): boolean {
  if (v === null) return true;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v);
    case 'object': {
      if (Array.isArray(v)) {
        for (const x of v) if (x === undefined || !alreadyCanonical(x)) return false;
        return true;
      }
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
      const o = v as Record<string, unknown>;
      let prev: string | null = null;
      for (const k of Object.keys(o)) {
        if (
          (prev !== null && !(prev < k)) ||
          INDEX_LIKE.test(k) ||
          o[k] === undefined ||
          !alreadyCanonical(o[k])
        )
          return false;
        prev = k;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Canonical JSON in two layouts from one pass: `compact` (exactly `canonicalJson` of core,
 * what digests are computed over; without the top-level member `omitFromCompact` if given) and `pretty` (the same, indented by two spaces, with a
 * final newline: the on-disk form of reports and envelopes). A pure function of the data, so
 * `verifyReport` can demand the exact bytes and any edit, even to whitespace, shows.
 */
export function canonicalForms(
  value: unknown,
  omitFromCompact?: string,
): { compact: string; pretty: string } {
  const omit = (v: unknown): unknown => {
    if (omitFromCompact === undefined || v === null || typeof v !== 'object' || Array.isArray(v))
      return v;
    const { [omitFromCompact]: _drop, ...rest } = v as Record<string, unknown>;
    return rest;
  };
  let copy: unknown;
  try {
    copy = alreadyCanonical(value) ? value : sortedCopy(value);
  } catch (err) {
    if (!(err instanceof NeedsSlowPath)) throw err;
    return { compact: canonicalJson(omit(value)), pretty: `${indent(value, '')}\n` };
  }
  return { compact: JSON.stringify(omit(copy)), pretty: `${JSON.stringify(copy, null, 2)}\n` };
}

/** Canonical JSON indented by two spaces, plus a final newline. */
export function prettyCanonical(value: unknown): string {
  return canonicalForms(value).pretty;
}

/** Canonical JSON (same bytes as core's `canonicalJson`, faster on large reports). */
export function compactCanonical(value: unknown): string {
  return canonicalForms(value).compact;
}

function indent(value: unknown, pad: string): string {
  if (value === null || typeof value !== 'object') return canonicalJson(value);
  const inner = `${pad}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + (v === undefined ? 'null' : indent(v, inner))).join(',\n')}\n${pad}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${indent(obj[k], inner)}`).join(',\n')}\n${pad}}`;
}
