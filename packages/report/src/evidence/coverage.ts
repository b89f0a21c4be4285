import type { CoverageSummary } from '@gatehouse-ci/core';
import { EvidenceError, isObject, num, parseJson, type ParsedEvidence } from './types.js';

const METRICS = ['lines', 'branches', 'functions', 'statements'] as const;

/** Percentages are kept to two decimals, rounded down so 79.999 never reads as 80. */
function pct(covered: number, total: number): number {
  if (total === 0) return 100;
  return Math.floor((covered / total) * 10000) / 100;
}

/**
 * Istanbul's `coverage-summary.json` (`json-summary` reporter of nyc, jest, vitest):
 * `{ total: { lines: { total, covered, skipped, pct }, statements, functions, branches }, <file>: … }`.
 * Percentages are recomputed from `covered`/`total` (`pct` is "Unknown" in some versions
 * when nothing was instrumented; nothing to cover counts as 100).
 * @see https://github.com/istanbuljs/istanbuljs/tree/main/packages/istanbul-reports/lib/json-summary
 */
export function parseIstanbul(text: string): ParsedEvidence {
  const data = parseJson(text, 'coverage summary');
  if (!isObject(data) || !isObject(data.total))
    throw new EvidenceError('coverage summary has no "total" object (istanbul json-summary)');
  const coverage: CoverageSummary = {};
  for (const m of METRICS) {
    const entry = data.total[m];
    if (entry === undefined) continue;
    if (!isObject(entry)) throw new EvidenceError(`coverage summary total.${m} is not an object`);
    const total = num(entry.total);
    const covered = num(entry.covered);
    if (
      total === undefined ||
      covered === undefined ||
      total < 0 ||
      covered < 0 ||
      covered > total
    ) {
      throw new EvidenceError(
        `coverage summary total.${m} needs numeric "total" and "covered" (0 ≤ covered ≤ total)`,
      );
    }
    coverage[m] = pct(covered, total);
  }
  if (Object.keys(coverage).length === 0)
    throw new EvidenceError(
      'coverage summary total has none of lines/branches/functions/statements',
    );
  return { coverage, findings: [] };
}

/**
 * lcov tracefile (`lcov.info`): sums `LF`/`LH` (lines), `BRF`/`BRH` (branches) and
 * `FNF`/`FNH` (functions) over every `SF` record. lcov has no statement counts.
 * @see https://github.com/linux-test-project/lcov/blob/master/man/geninfo.1 (TRACEFILE FORMAT)
 */
export function parseLcov(text: string): ParsedEvidence {
  const sums = { LF: 0, LH: 0, BRF: 0, BRH: 0, FNF: 0, FNH: 0 };
  let records = 0;
  let open = false;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (line === 'end_of_record') {
      if (!open) throw new EvidenceError(`lcov line ${i + 1}: end_of_record without SF`);
      open = false;
      records++;
      return;
    }
    const colon = line.indexOf(':');
    if (colon < 1)
      throw new EvidenceError(
        `lcov line ${i + 1}: expected KEY:VALUE, got ${JSON.stringify(line.slice(0, 80))}`,
      );
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1);
    if (key === 'SF') {
      open = true;
      return;
    }
    if (key in sums) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0)
        throw new EvidenceError(`lcov line ${i + 1}: ${key} is not a count`);
      sums[key as keyof typeof sums] += n;
    }
  });
  if (open) throw new EvidenceError('lcov file ends inside a record (missing end_of_record)');
  if (records === 0) throw new EvidenceError('lcov file has no SF records');
  return {
    coverage: {
      lines: pct(sums.LH, sums.LF),
      branches: pct(sums.BRH, sums.BRF),
      functions: pct(sums.FNH, sums.FNF),
    },
    findings: [],
  };
}
