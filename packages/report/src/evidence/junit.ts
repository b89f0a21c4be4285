import { createRequire } from 'node:module';
import type * as FastXml from 'fast-xml-parser';
import type { TestCaseResult, TestSummary } from '@gatehouse-ci/core';
import { EvidenceError, isObject, type ParsedEvidence } from './types.js';

/** Most failures kept in a summary. */
export const MAX_FAILURES = 20;
/** Most tests listed one by one in a summary (`cases`); beyond it, only the counts are kept. */
export const MAX_TEST_CASES = 5000;
/** Longest test name or suite kept in `cases`. */
const CASE_TEXT_MAX = 1000;

/** One test case as read from a JUnit file (also used to nest suites in the JUnit renderer). */
export interface JunitCase {
  suite: string;
  name: string;
  classname: string;
  timeSeconds: number;
  status: 'passed' | 'failed' | 'skipped';
  message?: string;
  /** Failure/error body (stack trace), capped. */
  details?: string;
}

const ARRAYS = new Set(['testsuite', 'testcase', 'failure', 'error', 'skipped', 'testsuites']);

/**
 * JUnit XML as written by vitest (`--reporter=junit`), jest-junit, mocha-junit-reporter and
 * mocha's `xunit` reporter: `<testsuites>` (optional) holding `<testsuite>` (possibly nested)
 * holding `<testcase>`, each with an optional `<failure>`, `<error>` or `<skipped>`. Counts
 * are taken from the test cases, not from the suites' attributes, which tools fill differently.
 */
export function parseJunit(text: string): ParsedEvidence {
  const cases = readJunitCases(text);
  const producer = junitProducer(text);
  return {
    tests: testSummaryOf(cases),
    ...(producer ? { producers: [producer] } : {}),
    findings: [],
  };
}

/** Default `<testsuites name>` of the runners whose JUnit XML says who wrote it. */
const JUNIT_PRODUCERS: Record<string, string> = { 'vitest tests': 'vitest', 'jest tests': 'jest' };

/** The npm package that wrote a JUnit file, from its root element's default name, or undefined. */
function junitProducer(text: string): string | undefined {
  const root = /<testsuites\b[^>]*?\bname="([^"]*)"/.exec(text.slice(0, 4096));
  return root ? JUNIT_PRODUCERS[root[1]!] : undefined;
}

/**
 * Summary of test cases, with at most {@link MAX_FAILURES} failures listed, and every case
 * when there are at most {@link MAX_TEST_CASES}.
 */
export function testSummaryOf(cases: JunitCase[]): TestSummary {
  const summary: TestSummary = {
    total: cases.length,
    passed: 0,
    failed: 0,
    skipped: 0,
    failures: [],
    ...(cases.length <= MAX_TEST_CASES ? { cases: cases.map(caseResultOf) } : {}),
  };
  for (const c of cases) {
    summary[c.status]++;
    if (c.status === 'failed' && summary.failures.length < MAX_FAILURES) {
      summary.failures.push({
        name: c.name,
        ...(c.suite ? { suite: c.suite } : {}),
        ...(c.message ? { message: c.message.slice(0, 500) } : {}),
      });
    }
  }
  return summary;
}

/** A case as the report keeps it. */
function caseResultOf(c: JunitCase): TestCaseResult {
  return {
    name: c.name.slice(0, CASE_TEXT_MAX),
    ...(c.suite ? { suite: c.suite.slice(0, CASE_TEXT_MAX) } : {}),
    status: c.status,
    ...(c.timeSeconds > 0 ? { durationMs: Math.round(c.timeSeconds * 1000) } : {}),
    ...(c.status === 'failed' && c.message ? { message: c.message.slice(0, 500) } : {}),
  };
}

/** Every test case of a JUnit XML document. Throws EvidenceError for malformed XML or a non-JUnit root. */
export function readJunitCases(text: string): JunitCase[] {
  // Loaded on first use, so commands that never read JUnit do not pay for the parser.
  const { XMLParser, XMLValidator } = createRequire(import.meta.url)(
    'fast-xml-parser',
  ) as typeof FastXml;
  const src = text.replace(/^\uFEFF/, '');
  const valid = XMLValidator.validate(src);
  if (valid !== true) {
    throw new EvidenceError(
      `JUnit XML is malformed: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`,
    );
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => ARRAYS.has(name),
  });
  const doc = parser.parse(src) as Record<string, unknown>;
  const roots: unknown[] = [];
  if (Array.isArray(doc.testsuites)) {
    for (const ts of doc.testsuites) if (isObject(ts)) roots.push(...asArray(ts.testsuite));
  } else if (Array.isArray(doc.testsuite)) {
    roots.push(...doc.testsuite);
  } else {
    throw new EvidenceError('JUnit XML has neither <testsuites> nor <testsuite> at its root');
  }
  const cases: JunitCase[] = [];
  const walk = (suite: unknown, prefix: string): void => {
    if (!isObject(suite)) return;
    const name = attr(suite, 'name') ?? '';
    const path = prefix && name ? `${prefix} › ${name}` : name || prefix;
    for (const tc of asArray(suite.testcase)) {
      if (!isObject(tc) && tc !== '') continue;
      cases.push(readCase(isObject(tc) ? tc : {}, path));
    }
    for (const child of asArray(suite.testsuite)) walk(child, path);
  };
  for (const r of roots) walk(r, '');
  return cases;
}

function readCase(tc: Record<string, unknown>, suite: string): JunitCase {
  const failure = first(tc.failure) ?? first(tc.error);
  const skipped = tc.skipped !== undefined;
  const time = Number(attr(tc, 'time') ?? '0');
  const base = {
    suite,
    name: attr(tc, 'name') ?? '(unnamed)',
    classname: attr(tc, 'classname') ?? '',
    timeSeconds: Number.isFinite(time) ? time : 0,
  };
  if (failure !== undefined) {
    const message = isObject(failure)
      ? (attr(failure, 'message') ?? textOf(failure))
      : String(failure);
    const details = isObject(failure) ? textOf(failure) : String(failure);
    return {
      ...base,
      status: 'failed',
      ...(message ? { message: message.trim().split('\n')[0]?.slice(0, 500) } : {}),
      ...(details ? { details: details.slice(0, 4000) } : {}),
    };
  }
  return { ...base, status: skipped ? 'skipped' : 'passed' };
}

function asArray(v: unknown): unknown[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function first(v: unknown): unknown {
  return Array.isArray(v) ? v[0] : v;
}

function attr(o: Record<string, unknown>, name: string): string | undefined {
  const v = o[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

function textOf(o: Record<string, unknown>): string {
  const t = o['#text'];
  return typeof t === 'string' ? t : '';
}
