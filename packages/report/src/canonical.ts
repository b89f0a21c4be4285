import { canonicalJson } from '@gatehouse/core';

/**
 * The on-disk form of reports and envelopes: canonical JSON (sorted keys) indented by two
 * spaces, plus a final newline. It is a pure function of the data, so `verifyReport` can
 * demand the exact bytes and any edit, even to whitespace, is detected.
 */
export function prettyCanonical(value: unknown): string {
  return `${indent(value, '')}\n`;
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
