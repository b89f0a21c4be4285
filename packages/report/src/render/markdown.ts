import type { GateResult, RunReport } from '@gatehouse-ci/core';
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

/** Where a piece of user text lands in the Markdown. */
type MdPlace = 'cell' | 'line' | 'inline';

const LINE_BREAKS = /\r\n|[\r\n\u0085\u2028\u2029]/g;
const ASCII_PUNCT = /[!-/:-@[-`{-~]/;
const ALNUM = /[\p{L}\p{N}]/u;

/**
 * Escapes for `s[from, to)`, text outside code spans: only what would otherwise become
 * markup. Neighbours are read from the whole of `s` (a `\` before a code span escapes it).
 */
function mdPlain(s: string, from: number, to: number, place: MdPlace): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const c = s[i]!;
    const prev = s[i - 1] ?? '';
    const next = s[i + 1] ?? '';
    if (c === '\\') out += ASCII_PUNCT.test(next) ? '\\\\' : '\\';
    else if (c === '<') out += '&lt;';
    else if (c === '&')
      out += /^&(#\d{1,7}|#[xX][\da-fA-F]{1,6}|[A-Za-z][A-Za-z\d]{1,31});/.test(s.slice(i))
        ? '&amp;'
        : '&';
    else if (c === '|') out += place === 'cell' ? '\\|' : '|';
    // `[` opens links, images and footnotes; `*` and `~` emphasis and strikethrough.
    else if (c === '[' || c === '*' || c === '~') out += `\\${c}`;
    // `_` emphasises only at a word boundary (`max_errors` stays as written).
    else if (c === '_' && !(ALNUM.test(prev) && ALNUM.test(next))) out += '\\_';
    else if (c === '@' && !/[A-Za-z\d]/.test(prev) && /[A-Za-z\d]/.test(next)) {
      // A backslash does not stop a mention from pinging; a code span does. Only an ASCII
      // letter or digit before `@` keeps it from being one (`ࠀ@true` mentions `true`).
      const m = /^@[A-Za-z\d](?:[A-Za-z\d-]*)(?:\/[A-Za-z\d_.-]+)?/.exec(s.slice(i, to))![0];
      out += `\`${m}\``;
      i += m.length - 1;
    } else out += c;
  }
  return out;
}

/**
 * User text as Markdown that shows it as written and cannot add markup: no HTML, link,
 * image, emphasis, mention or (at the start of a line) block. Backticks in it make code
 * spans as the text meant (their content is shown literally); an unpaired backtick run is
 * escaped. Line breaks become spaces. `place`: `cell` also escapes `|` (a table cell),
 * `line` also neutralises a leading block marker (`#`, `-`, `+`, `>`, `1.`, indentation),
 * `inline` is text in the middle of a line.
 */
export function mdText(s: string, place: MdPlace = 'inline'): string {
  let text = s.replace(LINE_BREAKS, ' ');
  let lead = '';
  if (place === 'line') {
    text = text.replace(/^[ \t]+/, '');
    const block = /^(#|[-+>]|\d{1,9}[.)](?=[ \t]|$))/.exec(text);
    if (block) {
      // Escaping the marker's last character keeps `12.` from being a list item.
      lead = `${block[0].slice(0, -1)}\\${block[0].slice(-1)}`;
      text = text.slice(block[0].length);
    }
  }
  let out = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('`', i);
    if (open < 0) break;
    const run = /^`+/.exec(text.slice(open))![0];
    // CommonMark: a code span closes at the next backtick run of exactly the same length.
    let close = -1;
    for (let j = open + run.length; j < text.length;) {
      const k = text.indexOf('`', j);
      if (k < 0) break;
      const other = /^`+/.exec(text.slice(k))![0];
      if (other.length === run.length) {
        close = k;
        break;
      }
      j = k + other.length;
    }
    out += mdPlain(text, i, open, place);
    if (close < 0) {
      out += '\\`'.repeat(run.length);
      i = open + run.length;
    } else {
      const code = text.slice(open, close + run.length);
      // GFM splits table rows on `|` even inside code spans; `\|` there shows a plain `|`.
      out += place === 'cell' ? code.replace(/\|/g, '\\|') : code;
      i = close + run.length;
    }
  }
  return lead + out + mdPlain(text, i, text.length, place);
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
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\r\n]/g, ' ');
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
  return bytes(minimal) <= max
    ? minimal
    : Buffer.from(minimal)
        .subarray(0, max)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
}

function compose(report: RunReport, level: 0 | 1 | 2 | 3, full: string, maxRows: number): string {
  const out: string[] = [];
  const v = report.verdict;
  out.push(
    `# ${v.status === 'passed' ? '✅' : '❌'} Gatehouse ${mdText(report.pipeline)}: ${v.status.toUpperCase()}`,
    '',
  );
  const counts = statusCounts(report);
  out.push(
    Object.entries(counts)
      .map(([s, n]) => `${STATUS_ICON[s] ?? ''} ${n} ${s}`)
      .join(' · '),
    '',
  );
  for (const r of v.reasons) out.push(`- ${mdText(r, 'line')}`);
  out.push('');
  const meta = [
    `run ${mdCode(report.runId)}`,
    report.git.commit
      ? `commit ${mdCode(report.git.commit.slice(0, 12))}${report.git.dirty ? ' (dirty)' : ''}`
      : 'no commit',
    report.git.branch ? `branch ${mdCode(report.git.branch)}` : null,
    `config sha256 ${mdCode(report.configSha256.slice(0, 12))}`,
    ...(report.presets ?? []).map(
      (p) =>
        `preset ${mdCode(p.name)}${p.version ? ` ${mdCode(p.version)}` : ''} sha256 ${mdCode(p.sha256.slice(0, 12))}`,
    ),
    `executor ${mdText(report.executor)}`,
    report.integrity ? `digest ${mdCode(`sha256:${report.integrity.digest.slice(0, 16)}`)}` : null,
  ].filter(Boolean);
  out.push(`<sub>${meta.join(' · ')}</sub>`, '');

  const rows = report.gates.slice(0, maxRows);
  out.push('| gate | mode | status | duration | evidence | reason |', '|---|---|---|---|---|---|');
  for (const g of rows) {
    out.push(
      `| ${mdText(g.id, 'cell')} | ${g.mode} | ${STATUS_ICON[effectiveStatus(g)] ?? ''} ${mdText(statusLabel(g), 'cell')} | ${formatDuration(g.durationMs)} | ${mdText(evidenceLine(g), 'cell')} | ${mdText(g.reason ?? '', 'cell')} |`,
    );
  }
  if (rows.length < report.gates.length)
    out.push('', `_${report.gates.length - rows.length} more gates not shown._`);
  out.push('');

  if (level <= 1) {
    for (const g of report.gates) {
      const detail = gateDetails(g, level === 0);
      if (detail) out.push(detail, '');
    }
  }
  if (level > 0) {
    const dropped =
      level === 1
        ? 'per-finding details'
        : level === 2
          ? 'per-finding and per-gate details'
          : 'details and some gates';
    out.push(
      `> The summary was shortened to fit (${dropped} left out). Full report: ${mdText(full)}`,
      '',
    );
  } else {
    out.push(`Full report: ${mdText(full)}`, '');
  }
  return out.join('\n');
}

function gateDetails(g: GateResult, withFindings: boolean): string | null {
  const lines: string[] = [];
  const failed = g.thresholds.filter((t) => !t.ok);
  for (const t of g.thresholds) {
    lines.push(
      `- ${t.ok ? '✅' : '❌'} ${mdText(t.name)}: measured ${mdText(String(t.measured))}, limit ${mdText(String(t.limit))}${t.excludedByBaseline ? ` (${t.excludedByBaseline} in baseline)` : ''}${t.unknownImpact ? ` (${t.unknownImpact} of unknown impact, counted against each impact limit)` : ''}`,
    );
  }
  const tests = g.evidence.tests;
  if (tests?.failures.length) {
    lines.push('', '**Failed tests**', '');
    for (const f of tests.failures)
      lines.push(
        `- ${mdText(f.suite ? `${f.suite} › ${f.name}` : f.name, 'line')}${f.message ? `: ${mdText(f.message)}` : ''}`,
      );
  }
  if (withFindings && g.evidence.findings.length) {
    lines.push('', `**Findings** (${g.evidence.findingsTotal})`, '');
    for (const f of g.evidence.findings.slice(0, 50)) {
      const where = f.file
        ? `${f.file}${f.line ? `:${f.line}` : ''}${f.column ? `:${f.column}` : ''}`
        : `${f.page ?? ''} ${f.selector ?? ''}`.trim();
      lines.push(`- ${f.level} ${mdCode(f.rule)} ${mdText(where)}: ${mdText(f.message)}`);
    }
    if (g.evidence.findingsTotal > 50) lines.push(`- … ${g.evidence.findingsTotal - 50} more`);
  }
  if (!lines.length && !failed.length) return null;
  return `<details><summary>${htmlText(g.id)}: ${htmlText(statusLabel(g))}</summary>\n\n${lines.join('\n')}\n\n</details>`;
}
