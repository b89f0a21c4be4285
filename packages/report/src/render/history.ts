/**
 * The history page: trends over the runs of a ledger — verdicts, each gate's duration and
 * finding count — as inline SVG charts with a table of the same numbers.
 */
import type { RunReport } from '@gatehouse-ci/core';
import { effectiveStatus } from '../verdict.js';
import { esc, formatDuration } from '../util.js';

/** One ledger line and what its run folder holds. */
export interface HistoryRun {
  runId: string;
  /** When the ledger line was appended (ISO-8601). */
  at: string;
  reportDigest: string;
  /** The run's report when it is there and matches the ledger's digest; otherwise null. */
  report: RunReport | null;
  /** Why there is no report (`report missing`, `REPORT DIGEST DIFFERS FROM LEDGER`, …), or null. */
  problem: string | null;
}

/** Options of {@link renderHistoryHtml}. */
export interface HistoryOptions {
  /** The project's name shown in the title. */
  title?: string;
  /** Lines saying whether the ledger is intact (the `history` command's findings). */
  ledgerStatus: string[];
  /** True when the ledger and its head are intact. */
  intact: boolean;
}

const CSS = `
:root{--fg:#1a1a1a;--muted:#4a4a4a;--line:#c8c8c8;--soft:#f3f4f6;--pass:#0b6b2e;--fail:#a4111b}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:#fff;margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
h3{font-size:1rem;margin:1rem 0 .2rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid var(--line);padding:3px 6px;text-align:left;vertical-align:top}
th{background:var(--soft)}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
.muted{color:var(--muted)}.ok{color:var(--pass);font-weight:700}.nok{color:var(--fail);font-weight:700}
.status{border:3px solid;padding:8px 14px;border-radius:6px}.status.ok-b{border-color:var(--pass)}.status.nok-b{border-color:var(--fail)}
svg.chart{display:block;max-width:100%;height:auto;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:8px 20px}
figure{margin:0;break-inside:avoid}figcaption{font-size:.9rem}
.scroll{overflow-x:auto}
@media print{body{max-width:none;padding:0;font-size:10pt}.scroll{overflow:visible}h2{break-after:avoid}}
`;

/** The runs' verdicts as a strip of squares: filled for passed, crossed for failed, dashed for unknown. */
function verdictStrip(runs: HistoryRun[]): string {
  const size = 18;
  const gap = 4;
  const w = Math.max(1, runs.length) * (size + gap) + 2;
  const cells = runs.map((r, i) => {
    const x = 1 + i * (size + gap);
    const v = r.report?.verdict.status ?? null;
    const label = `${r.runId}: ${v ?? r.problem ?? 'unknown'}`;
    const shape =
      v === 'passed'
        ? `<rect x="${x}" y="1" width="${size}" height="${size}" fill="#0b6b2e" stroke="#1a1a1a"/>`
        : v === 'failed'
          ? `<rect x="${x}" y="1" width="${size}" height="${size}" fill="#fff" stroke="#a4111b" stroke-width="2"/><path d="M${x + 4} 5l10 10M${x + 14} 5l-10 10" stroke="#a4111b" stroke-width="2.5"/>`
          : `<rect x="${x}" y="1" width="${size}" height="${size}" fill="#fff" stroke="#4a4a4a" stroke-dasharray="3 2"/>`;
    return `<g><title>${esc(label)}</title>${shape}</g>`;
  });
  const passed = runs.filter((r) => r.report?.verdict.status === 'passed').length;
  const failed = runs.filter((r) => r.report?.verdict.status === 'failed').length;
  return `<svg class="chart" role="img" aria-label="${esc(`Verdicts of ${runs.length} runs, oldest first: ${passed} passed, ${failed} failed, ${runs.length - passed - failed} without a report`)}" viewBox="0 0 ${w} ${size + 2}" width="${w}" xmlns="http://www.w3.org/2000/svg">${cells.join('')}</svg>`;
}

/**
 * A small line chart of one series over the runs (null: no value, the line breaks there).
 * Points are marked, the last value and the maximum are written, so it reads without colour.
 */
function lineChart(
  label: string,
  values: Array<number | null>,
  fmt: (v: number) => string,
): string {
  const W = 320;
  const H = 90;
  const left = 8;
  const right = 70;
  const top = 18;
  const bottom = 8;
  const present = values.filter((v): v is number => v !== null);
  const max = Math.max(1, ...present);
  const n = values.length;
  const x = (i: number): number => left + (n <= 1 ? 0 : (i / (n - 1)) * (W - left - right));
  const y = (v: number): number => top + (1 - v / max) * (H - top - bottom);
  const segments: string[] = [];
  let cur: string[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (cur.length) segments.push(cur.join(' '));
      cur = [];
    } else cur.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (cur.length) segments.push(cur.join(' '));
  const last = [...values].reverse().find((v): v is number => v !== null);
  const summary =
    present.length === 0
      ? `${label}: no values`
      : `${label}: last ${fmt(last!)}, highest ${fmt(Math.max(...present))}, lowest ${fmt(Math.min(...present))} over ${present.length} runs`;
  const parts = [
    `<svg class="chart" role="img" aria-label="${esc(summary)}" viewBox="0 0 ${W} ${H}" width="100%" xmlns="http://www.w3.org/2000/svg">`,
    `<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#c8c8c8"/>`,
    `<line x1="${left}" y1="${top}" x2="${W - right}" y2="${top}" stroke="#c8c8c8" stroke-dasharray="2 3"/>`,
    `<text x="${left}" y="${top - 6}" font-size="10" fill="#4a4a4a">max ${esc(fmt(max))}</text>`,
    ...segments.map(
      (pts) => `<polyline points="${pts}" fill="none" stroke="#1a1a1a" stroke-width="1.5"/>`,
    ),
    ...values.map((v, i) =>
      v === null
        ? ''
        : `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="#1a1a1a"><title>${esc(fmt(v))}</title></circle>`,
    ),
    last !== undefined
      ? `<text x="${W - right + 4}" y="${(y(last) + 4).toFixed(1)}" font-size="11" fill="#1a1a1a">${esc(fmt(last))}</text>`
      : '',
    '</svg>',
  ];
  return `<figure>${parts.join('')}<figcaption>${esc(label)}</figcaption></figure>`;
}

/** Gate ids over all runs, in the order of the newest report that has them. */
function gateIds(runs: HistoryRun[]): string[] {
  const ids: string[] = [];
  for (const r of [...runs].reverse())
    for (const g of r.report?.gates ?? []) if (!ids.includes(g.id)) ids.push(g.id);
  return ids;
}

/**
 * One self-contained page of trends from the ledger: verdicts, per-gate durations and
 * finding counts, oldest run first, and a table of the same numbers. No scripts, no
 * external assets; every value escaped.
 */
export function renderHistoryHtml(runs: HistoryRun[], opts: HistoryOptions): string {
  const ids = gateIds(runs);
  const title = `Gatehouse history${opts.title ? `: ${opts.title}` : ''}`;
  const gateOf = (r: HistoryRun, id: string) => r.report?.gates.find((g) => g.id === id);
  // A duration only counts when the gate ran in that run (a cached one has the old run's).
  const duration = (r: HistoryRun, id: string): number | null => {
    const g = gateOf(r, id);
    return g && g.status !== 'skipped' && g.status !== 'cached' ? g.durationMs : null;
  };
  const findings = (r: HistoryRun, id: string): number | null => {
    const g = gateOf(r, id);
    return g && g.status !== 'skipped' && g.evidence.files.some((f) => f.sha256 !== null)
      ? g.evidence.findingsTotal
      : null;
  };
  const withFindings = ids.filter((id) => runs.some((r) => (findings(r, id) ?? 0) > 0));
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${esc(title)}</h1>`,
    `<p class="muted">${runs.length} run${runs.length === 1 ? '' : 's'} from <code>.gatehouse/ledger.jsonl</code>, oldest first${runs.length ? ` (${esc(runs[0]!.at)} → ${esc(runs.at(-1)!.at)})` : ''}.</p>`,
    '</header>',
    '<main>',
    `<section class="status ${opts.intact ? 'ok-b' : 'nok-b'}" aria-labelledby="ledger-h">`,
    `<h2 id="ledger-h" style="border:0;margin:0">Ledger: <span class="${opts.intact ? 'ok' : 'nok'}">${opts.intact ? 'intact' : 'NOT intact'}</span></h2>`,
    `<ul>${opts.ledgerStatus.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`,
    '<p class="muted">Only reports that match their ledger line are charted; the others are listed with the reason.</p>',
    '</section>',
    '<section aria-labelledby="verdicts-h">',
    '<h2 id="verdicts-h">Verdicts</h2>',
    verdictStrip(runs),
    '<p class="muted">Filled square: passed; crossed square: failed; dashed: no report to read.</p>',
    '</section>',
    '<section aria-labelledby="durations-h">',
    '<h2 id="durations-h">Duration per gate</h2>',
    '<div class="charts">',
    ...ids.map((id) =>
      lineChart(
        id,
        runs.map((r) => duration(r, id)),
        formatDuration,
      ),
    ),
    '</div>',
    '<p class="muted">A cached or skipped gate has no point in that run.</p>',
    '</section>',
    '<section aria-labelledby="findings-h">',
    '<h2 id="findings-h">Findings per gate</h2>',
  ];
  if (withFindings.length)
    out.push(
      '<div class="charts">',
      ...withFindings.map((id) =>
        lineChart(
          id,
          runs.map((r) => findings(r, id)),
          (v) => String(v),
        ),
      ),
      '</div>',
    );
  else out.push('<p>No gate had findings in these runs.</p>');
  out.push(
    '</section>',
    '<section aria-labelledby="runs-h">',
    '<h2 id="runs-h">Runs</h2>',
    '<div class="scroll" tabindex="0" role="region" aria-label="Table of runs">',
    '<table>',
    '<caption class="muted" style="text-align:left">Each run: verdict, then each gate’s status, duration and findings</caption>',
    `<tr><th scope="col">Appended (UTC)</th><th scope="col">Run</th><th scope="col">Verdict</th>${ids.map((id) => `<th scope="col">${esc(id)}</th>`).join('')}</tr>`,
  );
  for (const r of [...runs].reverse()) {
    const v = r.report?.verdict.status;
    out.push(
      `<tr><td>${esc(r.at)}</td><td><code>${esc(r.runId)}</code></td><td>${v ? `<span class="${v === 'passed' ? 'ok' : 'nok'}">${esc(v)}</span>` : `<span class="muted">${esc(r.problem ?? 'no report')}</span>`}</td>${ids
        .map((id) => {
          const g = gateOf(r, id);
          if (!g) return '<td class="muted">—</td>';
          const d = duration(r, id);
          const f = findings(r, id);
          return `<td>${esc(effectiveStatus(g))}${g.status === 'cached' ? ' (cached)' : ''}${d !== null ? ` · ${esc(formatDuration(d))}` : ''}${f !== null ? ` · ${f} finding${f === 1 ? '' : 's'}` : ''}</td>`;
        })
        .join('')}</tr>`,
    );
  }
  out.push('</table>', '</div>', '</section>', '</main>', '</body>', '</html>', '');
  return out.join('\n');
}
