import { createRequire } from 'node:module';
import type * as FastXml from 'fast-xml-parser';
import type { CoverageSummary } from '@gatehouse-ci/core';
import { EvidenceError, isObject, type ParsedEvidence } from './types.js';

/** Percentages to two decimals, rounded down so 79.999 never reads as 80. */
function floor2(p: number): number {
  return Math.floor(p * 100 + 1e-9) / 100;
}

/**
 * Cobertura XML coverage (`coverage.xml` of coverage.py, istanbul's `cobertura` reporter,
 * JaCoCo converters, .NET coverlet): the root `<coverage>`'s `lines-covered`/`lines-valid` and
 * `branches-covered`/`branches-valid` give lines and branches; without the counts, its
 * `line-rate` and `branch-rate` (0–1). Nothing to cover counts as 100. Cobertura has no
 * function or statement totals.
 * @see https://github.com/cobertura/cobertura/blob/master/cobertura/src/site/htdocs/xml/coverage-04.dtd
 */
export function parseCobertura(text: string): ParsedEvidence {
  const { XMLParser, XMLValidator } = createRequire(import.meta.url)(
    'fast-xml-parser',
  ) as typeof FastXml;
  const src = text.replace(/^\uFEFF/, '');
  const valid = XMLValidator.validate(src);
  if (valid !== true)
    throw new EvidenceError(
      `Cobertura XML is malformed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
    );
  // Only the root's attributes are read: the packages/classes below can be large.
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    stopNodes: ['coverage.packages', 'coverage.sources'],
  });
  const doc = parser.parse(src) as Record<string, unknown>;
  const root = doc.coverage;
  if (!isObject(root)) throw new EvidenceError('Cobertura XML has no <coverage> root element');
  const attr = (name: string): number | undefined => {
    const v = root[`@_${name}`];
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < 0)
      throw new EvidenceError(`Cobertura <coverage ${name}=…> is not a number ≥ 0`);
    return n;
  };
  const metric = (what: 'lines' | 'branches'): number | undefined => {
    const covered = attr(`${what}-covered`);
    const total = attr(`${what}-valid`);
    if (covered !== undefined && total !== undefined) {
      if (covered > total)
        throw new EvidenceError(`Cobertura ${what}-covered is more than ${what}-valid`);
      return total === 0 ? 100 : floor2((covered / total) * 100);
    }
    const rate = attr(`${what === 'lines' ? 'line' : 'branch'}-rate`);
    if (rate === undefined) return undefined;
    if (rate > 1) throw new EvidenceError(`Cobertura ${what} rate ${rate} is more than 1`);
    return floor2(rate * 100);
  };
  const coverage: CoverageSummary = {};
  const lines = metric('lines');
  const branches = metric('branches');
  if (lines !== undefined) coverage.lines = lines;
  if (branches !== undefined) coverage.branches = branches;
  if (lines === undefined)
    throw new EvidenceError(
      'Cobertura <coverage> has neither lines-covered/lines-valid nor line-rate',
    );
  return { coverage, findings: [] };
}
