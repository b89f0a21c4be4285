import type { GateResult, RunReport } from '@gatehouse-ci/core';
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
 * JUnit XML for CI test views (Jenkins `junit`, GitHub/Buildkite test annotations): one
 * `<testcase>` per gate in a `gatehouse` suite (failed → `<failure>`, error/timeout/
 * interrupted → `<error>`, skipped → `<skipped>`), then, for each gate with test evidence,
 * a `<testsuite>` named `<gate>: tests` carrying its counts and the failures the report kept.
 * Passed test cases of the gates are counted, not itemised: the report keeps only summaries.
 */
export function renderJunit(report: RunReport): string {
  const cases = report.gates.map(gateCase);
  const failures = report.gates.filter((g) => effectiveStatus(g) === 'failed').length;
  const errors = report.gates.filter((g) =>
    ['error', 'timeout', 'interrupted'].includes(effectiveStatus(g)),
  ).length;
  const skipped = report.gates.filter((g) => effectiveStatus(g) === 'skipped').length;
  const totalMs = report.gates.reduce((n, g) => n + (g.status === 'cached' ? 0 : g.durationMs), 0);
  const suites: string[] = [
    `  <testsuite name="${xmlAttr(`gatehouse: ${report.pipeline}`)}" tests="${report.gates.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(totalMs)}" timestamp="${xmlAttr(report.startedAt)}">`,
    `    <properties>`,
    `      <property name="runId" value="${xmlAttr(report.runId)}"/>`,
    `      <property name="verdict" value="${xmlAttr(report.verdict.status)}"/>`,
    `      <property name="commit" value="${xmlAttr(report.git.commit ?? '')}"/>`,
    `      <property name="configSha256" value="${xmlAttr(report.configSha256)}"/>`,
    `    </properties>`,
    ...cases,
    `  </testsuite>`,
  ];
  for (const g of report.gates) {
    const t = g.evidence.tests;
    if (!t) continue;
    suites.push(
      `  <testsuite name="${xmlAttr(`${g.id}: tests`)}" tests="${t.total}" failures="${t.failed}" errors="0" skipped="${t.skipped}" time="${secs(g.durationMs)}">`,
      ...t.failures.map(
        (f) =>
          `    <testcase classname="${xmlAttr(`${g.id}${f.suite ? `.${f.suite}` : ''}`)}" name="${xmlAttr(f.name)}"><failure message="${xmlAttr(f.message ?? 'failed')}"/></testcase>`,
      ),
      `  </testsuite>`,
    );
  }
  const allTests =
    report.gates.length +
    report.gates.reduce((n, g) => n + (g.evidence.tests?.failures.length ?? 0), 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttr(`gatehouse ${report.pipeline} ${report.runId}`)}" tests="${allTests}" failures="${failures + report.gates.reduce((n, g) => n + (g.evidence.tests?.failures.length ?? 0), 0)}" errors="${errors}" time="${secs(totalMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
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
