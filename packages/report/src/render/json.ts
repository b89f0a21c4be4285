import { canonicalJson } from '@gatehouse/core';
import type { RunReport } from '@gatehouse/core';

/** Canonical JSON of the report: the bytes its digest is computed over (plus the integrity member, if sealed). */
export function renderJson(report: RunReport): string {
  return `${canonicalJson(report)}\n`;
}
