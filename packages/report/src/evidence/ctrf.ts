import { testSummaryOf, type JunitCase } from './junit.js';
import {
  EvidenceError,
  isObject,
  num,
  parseJson,
  str,
  toolOf,
  type ParsedEvidence,
} from './types.js';

const STATUSES = new Set(['passed', 'failed', 'skipped', 'pending', 'other']);

/**
 * CTRF (Common Test Report Format) JSON: `{ reportFormat: "CTRF", specVersion, results: { tool:
 * { name, version? }, summary, tests: [{ name, status, duration, message?, suite?, filePath? }] } }`.
 * Counts are taken from `tests`, not from `summary`. `pending` counts as skipped; `other` (an
 * outcome the tool could not map) counts as failed, so an unknown outcome never passes a gate.
 * Reports written before `reportFormat` existed (only `results`) are read too.
 * @see https://ctrf.io/docs/specification/overview
 */
export function parseCtrf(text: string): ParsedEvidence {
  const data = parseJson(text, 'CTRF report');
  if (!isObject(data) || !isObject(data.results))
    throw new EvidenceError('CTRF report has no "results" object');
  if (data.reportFormat !== undefined && data.reportFormat !== 'CTRF')
    throw new EvidenceError(`CTRF reportFormat ${JSON.stringify(data.reportFormat)} is not "CTRF"`);
  const results = data.results;
  if (!isObject(results.tool) || typeof results.tool.name !== 'string')
    throw new EvidenceError('CTRF results.tool has no "name"');
  if (!Array.isArray(results.tests)) throw new EvidenceError('CTRF results.tests is not an array');
  const cases: JunitCase[] = results.tests.map((t, i) => {
    if (!isObject(t) || typeof t.name !== 'string' || typeof t.status !== 'string')
      throw new EvidenceError(`CTRF results.tests[${i}] needs a "name" and a "status"`);
    if (!STATUSES.has(t.status))
      throw new EvidenceError(
        `CTRF results.tests[${i}].status ${JSON.stringify(t.status)} is not passed/failed/skipped/pending/other`,
      );
    const suite = Array.isArray(t.suite)
      ? t.suite.filter((s): s is string => typeof s === 'string').join(' › ')
      : (str(t.suite) ?? str(t.filePath) ?? '');
    const message = str(t.message);
    return {
      suite,
      name: t.name,
      classname: suite,
      timeSeconds: (num(t.duration) ?? 0) / 1000,
      status:
        t.status === 'passed'
          ? 'passed'
          : t.status === 'skipped' || t.status === 'pending'
            ? 'skipped'
            : 'failed',
      ...(message !== undefined ? { message } : {}),
    };
  });
  const tool = toolOf(results.tool.name, results.tool.version);
  return { tests: testSummaryOf(cases), ...(tool ? { tools: [tool] } : {}), findings: [] };
}
