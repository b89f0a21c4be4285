import type { GateResult, RunReport } from '@gatehouse/core';
import { effectiveStatus } from '../build.js';
import { formatDuration } from '../util.js';
import { evidenceLine, STATUS_ICON, statusCounts, statusLabel } from './common.js';

/** GitHub's job-summary limit (1 MiB per step); Buildkite annotations allow the same. */
export const MARKDOWN_MAX_BYTES = 1024 * 1024;

/** Options of the Markdown renderer. */
export interface MarkdownOptions {
  /** Size limit in bytes. @default MARKDOWN_MAX_BYTES */
  maxBytes?: number;
  /** Link or path to the full report, named when details had to be dropped. @default '.gatehouse/report/report.html' */
  fullReport?: string;
}

/**
 * Escape text for Markdown *and* the HTML GitHub/Buildkite accept inside it: inline markup
 * characters are backslash-escaped, `<`/`>`/`&` become entities, line breaks become spaces
 * (a table cell cannot hold one), and a leading block marker (`#`, `-`, `1.`) is neutralised.
 */
export function mdText(s: string): string {
  return s
    .replace(/\r\n|[\r\n\u0085\u2028\u2029]/g, ' ')
    .replace(/[\\`*_{}[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/^(\s*)([#+=-])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

/** Inline code span that survives backticks inside (CommonMark: a longer fence). */
function mdCode(s: string): string {
  const clean = s.replace(/\r\n|[\r\n]/g, ' ');
  const runs = clean.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

/** Text inside an HTML element of the Markdown (where Markdown escapes are not processed). */
function htmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[\r\n]/g, ' ');
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * Markdown for CI summaries, at most `maxBytes`. When the full text is too big it degrades
 * step by step — first per-finding details go, then per-gate details, then the gate table
 * is cut — and says so, pointing to the full report. It never cuts mid-element.
 */
export function renderMarkdown(report: RunReport, opts: MarkdownOptions = {}): string {
  const max = opts.maxBytes ?? MARKDOWN_MAX_BYTES;
  const full = opts.fullReport ?? '.gatehouse/report/report.html';
  for (const level of [0, 1, 2] as const) {
    const text = compose(report, level, full, Infinity);
    if (bytes(text) <= max) return text;
  }
  // Still too big: as many table rows as fit.
  let lo = 0;
  let hi = report.gates.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (bytes(compose(report, 3, full, mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  const text = compose(report, 3, full, lo);
  if (bytes(text) <= max) return text;
  const minimal = `# Gatehouse: ${report.verdict.status}\n\nThe summary does not fit in ${max} bytes. Full report: ${mdText(full)}\n`;
  return bytes(minimal) <= max ? minimal : Buffer.from(minimal).subarray(0, max).toString('utf8').replace(/\uFFFD$/, '');
}

function compose(report: RunReport, level: 0 | 1 | 2 | 3, full: string, maxRows: number): string {
  const out: string[] = [];
  const v = report.verdict;
  out.push(`# ${v.status === 'passed' ? '✅' : '❌'} Gatehouse ${mdText(report.pipeline)}: ${v.status.toUpperCase()}`, '');
  const counts = statusCounts(report);
  out.push(
    Object.entries(counts)
      .map(([s, n]) => `${STATUS_ICON[s] ?? ''} ${n} ${s}`)
      .join(' · '),
    '',
  );
  for (const r of v.reasons) out.push(`- ${mdText(r)}`);
  out.push('');
  const meta = [
    `run ${mdCode(report.runId)}`,
    report.git.commit ? `commit ${mdCode(report.git.commit.slice(0, 12))}${report.git.dirty ? ' (dirty)' : ''}` : 'no commit',
    report.git.branch ? `branch ${mdCode(report.git.branch)}` : null,
    `config sha256 ${mdCode(report.configSha256.slice(0, 12))}`,
    `executor ${mdText(report.executor)}`,
    report.integrity ? `digest ${mdCode(`sha256:${report.integrity.digest.slice(0, 16)}`)}` : null,
  ].filter(Boolean);
  out.push(`<sub>${meta.join(' · ')}</sub>`, '');

  const rows = report.gates.slice(0, maxRows);
  out.push('| gate | mode | status | duration | evidence | reason |', '|---|---|---|---|---|---|');
  for (const g of rows) {
    out.push(
      `| ${mdText(g.id)} | ${g.mode} | ${STATUS_ICON[effectiveStatus(g)] ?? ''} ${mdText(statusLabel(g))} | ${formatDuration(g.durationMs)} | ${mdText(evidenceLine(g))} | ${mdText(g.reason ?? '')} |`,
    );
  }
  if (rows.length < report.gates.length) out.push('', `_${report.gates.length - rows.length} more gates not shown._`);
  out.push('');

  if (level <= 1) {
    for (const g of report.gates) {
      const detail = gateDetails(g, level === 0);
      if (detail) out.push(detail, '');
    }
  }
  if (level > 0) {
    const dropped = level === 1 ? 'per-finding details' : level === 2 ? 'per-finding and per-gate details' : 'details and some gates';
    out.push(`> The summary was shortened to fit (${dropped} left out). Full report: ${mdText(full)}`, '');
  } else {
    out.push(`Full report: ${mdText(full)}`, '');
  }
  return out.join('\n');
}

function gateDetails(g: GateResult, withFindings: boolean): string | null {
  const lines: string[] = [];
  const failed = g.thresholds.filter((t) => !t.ok);
  for (const t of g.thresholds) {
    lines.push(`- ${t.ok ? '✅' : '❌'} ${mdText(t.name)}: measured ${mdText(String(t.measured))}, limit ${mdText(String(t.limit))}${t.excludedByBaseline ? ` (${t.excludedByBaseline} in baseline)` : ''}`);
  }
  const tests = g.evidence.tests;
  if (tests?.failures.length) {
    lines.push('', '**Failed tests**', '');
    for (const f of tests.failures) lines.push(`- ${mdText(f.suite ? `${f.suite} › ${f.name}` : f.name)}${f.message ? `: ${mdText(f.message)}` : ''}`);
  }
  if (withFindings && g.evidence.findings.length) {
    lines.push('', `**Findings** (${g.evidence.findingsTotal})`, '');
    for (const f of g.evidence.findings.slice(0, 50)) {
      const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}${f.column ? `:${f.column}` : ''}` : `${f.page ?? ''} ${f.selector ?? ''}`.trim();
      lines.push(`- ${f.level} ${mdCode(f.rule)} ${mdText(where)}: ${mdText(f.message)}`);
    }
    if (g.evidence.findingsTotal > 50) lines.push(`- … ${g.evidence.findingsTotal - 50} more`);
  }
  if (!lines.length && !failed.length) return null;
  return `<details><summary>${htmlText(g.id)}: ${htmlText(statusLabel(g))}</summary>\n\n${lines.join('\n')}\n\n</details>`;
}
