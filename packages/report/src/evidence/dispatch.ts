import type { EvidenceFormat } from '@gatehouse-ci/core';
import { parseAxe, parsePa11y } from './a11y.js';
import { parseCobertura } from './cobertura.js';
import { parseIstanbul, parseLcov } from './coverage.js';
import { parseCtrf } from './ctrf.js';
import { parseEslint } from './eslint.js';
import { MAX_TEST_CASES, parseJunit } from './junit.js';
import { parseSarif } from './sarif.js';
import { parseSonar } from './sonarqube.js';
import {
  a11ySummaryOf,
  EvidenceError,
  lintSummaryOf,
  uniqueTools,
  type ParseContext,
  type ParsedEvidence,
} from './types.js';

/** Parse one evidence file's text in the given format. Throws EvidenceError when it is malformed. */
export function parseEvidence(
  format: EvidenceFormat,
  text: string,
  ctx: ParseContext,
): ParsedEvidence {
  switch (format) {
    case 'eslint':
      return parseEslint(text, ctx);
    case 'sarif':
      return parseSarif(text, ctx);
    case 'junit':
      return parseJunit(text);
    case 'istanbul':
      return parseIstanbul(text);
    case 'lcov':
      return parseLcov(text);
    case 'pa11y':
      return parsePa11y(text, ctx);
    case 'axe':
      return parseAxe(text, ctx);
    case 'sonarqube':
      return parseSonar(text);
    case 'ctrf':
      return parseCtrf(text);
    case 'cobertura':
      return parseCobertura(text);
    case 'exitcode':
      return { findings: [] };
    default:
      throw new EvidenceError(`unknown evidence format ${JSON.stringify(format)}`);
  }
}

/**
 * Combine the evidence of several files of one gate: findings are concatenated, lint and
 * accessibility summaries recomputed from them, test counts added, coverage takes the lowest
 * value per metric (two coverage files disagreeing must not hide the worse one), and a Sonar
 * status with an outcome wins over `NONE`.
 */
export function mergeEvidence(parts: ParsedEvidence[]): ParsedEvidence {
  if (parts.length === 1) return parts[0]!;
  const out: ParsedEvidence = { findings: parts.flatMap((p) => p.findings) };
  const lintParts = parts.filter((p) => p.lint);
  if (lintParts.length) {
    out.lint = lintSummaryOf(out.findings.filter((f) => f.fingerprint.startsWith('lint:')));
    // Files checked is known only when every lint report says it.
    if (lintParts.every((p) => p.lint!.checked !== undefined))
      out.lint.checked = lintParts.reduce((n, p) => n + p.lint!.checked!, 0);
  }
  const a11yParts = parts.filter((p) => p.a11y);
  if (a11yParts.length) {
    const pages = a11yParts.reduce((n, p) => n + p.a11y!.pages, 0);
    out.a11y = a11ySummaryOf(
      out.findings.filter((f) => f.fingerprint.startsWith('a11y:')),
      pages,
    );
  }
  for (const p of parts) {
    if (p.tests) {
      const t = out.tests ?? {
        total: 0,
        passed: 0,
        failed: 0,
        skipped: 0,
        failures: [],
        cases: [],
      };
      // Every test is listed only while each file listed its own and the whole stays in bounds.
      const cases = t.cases && p.tests.cases ? [...t.cases, ...p.tests.cases] : undefined;
      out.tests = {
        total: t.total + p.tests.total,
        passed: t.passed + p.tests.passed,
        failed: t.failed + p.tests.failed,
        skipped: t.skipped + p.tests.skipped,
        failures: [...t.failures, ...p.tests.failures].slice(0, 20),
        ...(cases && cases.length <= MAX_TEST_CASES ? { cases } : {}),
      };
    }
    if (p.coverage) {
      const c = { ...(out.coverage ?? {}) };
      for (const [k, v] of Object.entries(p.coverage) as Array<
        [keyof typeof c, number | undefined]
      >) {
        if (v === undefined) continue;
        c[k] = c[k] === undefined ? v : Math.min(c[k]!, v);
      }
      out.coverage = c;
    }
    if (p.tools) out.tools = uniqueTools([...(out.tools ?? []), ...p.tools]);
    if (p.producers)
      out.producers = [...new Set([...(out.producers ?? []), ...p.producers])].sort();
    if (p.sonar && (!out.sonar || out.sonar.status === 'NONE')) {
      out.sonar = {
        ...p.sonar,
        ...(p.sonar.dashboardUrl || !out.sonar?.dashboardUrl
          ? {}
          : { dashboardUrl: out.sonar.dashboardUrl }),
      };
    }
  }
  return out;
}
