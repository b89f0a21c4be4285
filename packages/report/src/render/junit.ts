import type { GateResult, RunReport, TestCaseResult } from '@gatehouse-ci/core';
import { effectiveStatus } from '../build.js';
import { evidenceLine } from './common.js';

/** Text XML 1.0 can carry; anything else is written as a visible `\uXXXX` instead of breaking the file. */
export function xmlText(s: string): string {
  return s
    .replace(
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** Attribute value: also quotes and whitespace that attribute normalisation would fold. */
export function xmlAttr(s: string): string {
  return xmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

const secs = (ms: number): string => (ms / 1000).toFixed(3);

/**
 * JUnit XML for CI test views (Jenkins `junit`, GitHub/Buildkite test annotations), so that a
 * CI's test trends follow the tests themselves:
 * - a gate whose evidence lists every test (`evidence.tests.cases`, from JUnit or CTRF) gets a
 *   suite `<gate>: tests` with one `<testcase>` per test (`<failure>` for a failed one,
 *   `<skipped>`), and stands in the `gatehouse: <pipeline>` suite only when it did not pass;
 * - every other gate is one `<testcase>` of the `gatehouse: <pipeline>` suite (failed →
 *   `<failure>`, error/timeout/interrupted → `<error>`, skipped → `<skipped>`), and one with
 *   test counts but no list adds a suite `<gate>: tests` with the failures the report kept.
 * The gate suite also carries the run's properties (run id, verdict, commit, config hash).
 */
export function renderJunit(report: RunReport): string {
  const perTest = (g: GateResult): boolean => g.evidence.tests?.cases !== undefined;
  const gateCases = report.gates.filter((g) => !perTest(g) || effectiveStatus(g) !== 'passed');
  const count = (gates: GateResult[], statuses: string[]): number =>
    gates.filter((g) => statuses.includes(effectiveStatus(g))).length;
  const failures = count(gateCases, ['failed']);
  const errors = count(gateCases, ['error', 'timeout', 'interrupted']);
  const skipped = count(gateCases, ['skipped']);
  const totalMs = gateCases.reduce((n, g) => n + (g.status === 'cached' ? 0 : g.durationMs), 0);
  const suites: string[] = [
    `  <testsuite name="${xmlAttr(`gatehouse: ${report.pipeline}`)}" tests="${gateCases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(totalMs)}" timestamp="${xmlAttr(report.startedAt)}">`,
    `    <properties>`,
    `      <property name="runId" value="${xmlAttr(report.runId)}"/>`,
    `      <property name="verdict" value="${xmlAttr(report.verdict.status)}"/>`,
    `      <property name="commit" value="${xmlAttr(report.git.commit ?? '')}"/>`,
    `      <property name="configSha256" value="${xmlAttr(report.configSha256)}"/>`,
    `    </properties>`,
    ...gateCases.map(gateCase),
    `  </testsuite>`,
  ];
  let tests = gateCases.length;
  let failed = failures;
  let skippedAll = skipped;
  let timeMs = totalMs;
  for (const g of report.gates) {
    const t = g.evidence.tests;
    if (!t) continue;
    if (t.cases) {
      const ms = t.cases.reduce((n, c) => n + (c.durationMs ?? 0), 0);
      const f = t.cases.filter((c) => c.status === 'failed').length;
      const sk = t.cases.filter((c) => c.status === 'skipped').length;
      suites.push(
        `  <testsuite name="${xmlAttr(`${g.id}: tests`)}" tests="${t.cases.length}" failures="${f}" errors="0" skipped="${sk}" time="${secs(ms)}">`,
        ...t.cases.map((c) => testCase(g, c)),
        `  </testsuite>`,
      );
      tests += t.cases.length;
      failed += f;
      skippedAll += sk;
      timeMs += ms;
      continue;
    }
    suites.push(
      `  <testsuite name="${xmlAttr(`${g.id}: tests`)}" tests="${t.failures.length}" failures="${t.failures.length}" errors="0" skipped="0" time="${secs(g.durationMs)}">`,
      ...t.failures.map(
        (f) =>
          `    <testcase classname="${xmlAttr(classOf(g, f.suite))}" name="${xmlAttr(f.name || UNNAMED)}"><failure message="${xmlAttr(f.message ?? 'failed')}"/></testcase>`,
      ),
      `  </testsuite>`,
    );
    tests += t.failures.length;
    failed += t.failures.length;
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttr(`gatehouse ${report.pipeline} ${report.runId}`)}" tests="${tests}" failures="${failed}" errors="${errors}" skipped="${skippedAll}" time="${secs(timeMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

/** Name of a test its tool gave none: JUnit readers need one. */
const UNNAMED = '(unnamed)';

/** `classname` of a gate's test: the gate, then its suite path (Jenkins splits it at dots). */
function classOf(g: GateResult, suite: string | undefined): string {
  return `${g.id}${suite ? `.${suite}` : ''}`;
}

function testCase(g: GateResult, c: TestCaseResult): string {
  const open = `    <testcase classname="${xmlAttr(classOf(g, c.suite))}" name="${xmlAttr(c.name || UNNAMED)}" time="${secs(c.durationMs ?? 0)}"`;
  if (c.status === 'failed')
    return `${open}><failure message="${xmlAttr(c.message ?? 'failed')}"/></testcase>`;
  if (c.status === 'skipped') return `${open}><skipped/></testcase>`;
  return `${open}/>`;
}

function gateCase(g: GateResult): string {
  const s = effectiveStatus(g);
  const open = `    <testcase classname="${xmlAttr(`gatehouse.${g.kind}`)}" name="${xmlAttr(g.id)}" time="${secs(g.status === 'cached' ? 0 : g.durationMs)}">`;
  const out = `      <system-out>${xmlText(`${g.mode} ${g.kind} gate · ${g.status === 'cached' ? `cached (${s}) · ` : ''}${evidenceLine(g)}${g.reason ? `\n${g.reason}` : ''}`)}</system-out>`;
  const reason = g.reason ?? s;
  let child = '';
  if (s === 'failed')
    child = `      <failure message="${xmlAttr(reason)}" type="${xmlAttr(g.mode)}">${xmlText(failureBody(g))}</failure>`;
  else if (s === 'error' || s === 'timeout' || s === 'interrupted')
    child = `      <error message="${xmlAttr(reason)}" type="${s}">${xmlText(failureBody(g))}</error>`;
  else if (s === 'skipped') child = `      <skipped message="${xmlAttr(reason)}"/>`;
  return [open, ...(child ? [child] : []), out, '    </testcase>'].join('\n');
}

function failureBody(g: GateResult): string {
  const lines = g.thresholds
    .filter((t) => !t.ok)
    .map((t) => `${t.name}: measured ${String(t.measured)}, limit ${String(t.limit)}`);
  if (g.logTail) lines.push('--- log tail ---', g.logTail);
  return lines.join('\n');
}
