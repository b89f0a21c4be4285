import { canonicalJson } from '@gatehouse-ci/core';
import type { RunReport } from '@gatehouse-ci/core';

/** Canonical JSON of the report: the bytes its digest is computed over (plus the integrity member, if sealed). */
export function renderJson(report: RunReport): string {
  return `${canonicalJson(report)}\n`;
}
