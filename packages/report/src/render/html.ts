import type { GateResult, GitInfo, RunReport, ThresholdCheck } from '@gatehouse-ci/core';
import { effectiveStatus } from '../build.js';
import { esc, formatDuration } from '../util.js';
import { evidenceLine, statusCounts, statusLabel } from './common.js';
import { sourceLink } from '../source-links.js';
import { renderTimelineSection } from './timeline.js';

/** Options of the HTML renderer. */
export interface HtmlOptions {
  /** Findings listed per gate (the rest are counted). @default 200 */
  maxFindingsPerGate?: number;
}

const CSS = `
:root{--fg:#1a1a1a;--muted:#4a4a4a;--line:#c8c8c8;--bg:#fff;--soft:#f3f4f6;--pass:#0b6b2e;--fail:#a4111b;--warn:#7a4b00;--skip:#3d4852}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.1rem;margin:0}h4{font-size:.95rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft)}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
.digest{word-break:break-all}
pre.cmd{margin:0;max-height:12em}
pre{background:var(--soft);border:1px solid var(--line);padding:8px;white-space:pre-wrap;word-break:break-word;max-height:30em;overflow:auto}
.verdict{border:3px solid;padding:12px 16px;margin:1rem 0;border-radius:6px}
.verdict.passed{border-color:var(--pass)}.verdict.failed{border-color:var(--fail)}
.verdict p.big{font-size:1.35rem;font-weight:700;margin:0}
.s{display:inline-block;font-weight:700;padding:0 6px;border-radius:3px;border:1px solid currentColor;white-space:nowrap}
.s-passed{color:var(--pass)}.s-failed,.s-timeout,.s-interrupted{color:var(--fail)}.s-error{color:var(--warn)}.s-skipped{color:var(--skip)}
.ok{color:var(--pass);font-weight:700}.nok{color:var(--fail);font-weight:700}
section.gate{border:1px solid var(--line);border-radius:6px;padding:10px 14px;margin:1rem 0;break-inside:avoid-page}
section.gate header{display:flex;gap:12px;align-items:baseline;flex-wrap:wrap}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:.4rem 0}dl.meta dt{font-weight:600;color:var(--muted)}dl.meta dd{margin:0}
.muted{color:var(--muted)}
a{color:#0645ad}
figure.timeline{margin:.4rem 0}svg.timeline{display:block;max-width:100%;height:auto;-webkit-print-color-adjust:exact;print-color-adjust:exact}
ul.legend{list-style:none;padding:0;display:flex;gap:6px 18px;flex-wrap:wrap;margin:.3rem 0}
.key{display:inline-block;width:22px;height:12px;border:1px solid var(--fg);vertical-align:middle;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.key-run{background:var(--pass)}.key-queued{background:#fff;border:1.5px dashed var(--fg)}.key-cached{border:0;width:auto;height:auto;line-height:1}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
@media print{body{max-width:none;padding:0;font-size:11pt}pre{max-height:none;overflow:visible}a{color:inherit;text-decoration:none}
section.gate,figure.timeline{break-inside:avoid}h2{break-after:avoid}nav{display:none}}
`;

function badge(g: GateResult): string {
  const s = effectiveStatus(g);
  return `<span class="s s-${esc(s)}">${esc(statusLabel(g))}</span>`;
}

function row(cells: string[], header = false): string {
  const tag = header ? 'th' : 'td';
  return `<tr>${cells.map((c) => `<${tag}${header ? ' scope="col"' : ''}>${c}</${tag}>`).join('')}</tr>`;
}

function metaList(items: Array<[string, string]>): string {
  return `<dl class="meta">${items.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

const code = (s: string | null | undefined, cls = ''): string =>
  s === null || s === undefined || s === ''
    ? '<span class="muted">—</span>'
    : `<code${cls ? ` class="${cls}"` : ''}>${esc(s)}</code>`;

/**
 * One self-contained HTML page for people and auditors: verdict first, then the gate table,
 * every gate's evidence, thresholds, findings and log tail, the run metadata and the
 * integrity seal. No scripts, no external assets; every value from the report is escaped.
 */
export function renderHtml(report: RunReport, opts: HtmlOptions = {}): string {
  const maxFindings = opts.maxFindingsPerGate ?? 200;
  const v = report.verdict;
  const counts = statusCounts(report);
  const title = `Gatehouse report: ${report.pipeline} — ${v.status}`;
  const parts: string[] = [];
  parts.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="gatehouse ${esc(report.gatehouseVersion)}">`,
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>Gatehouse report: ${esc(report.pipeline)}</h1>`,
    `<p class="muted">Run <code>${esc(report.runId)}</code> · ${esc(report.startedAt)} → ${esc(report.finishedAt)} (UTC)</p>`,
    '</header>',
    '<main>',
    `<section class="verdict ${v.status === 'passed' ? 'passed' : 'failed'}" aria-labelledby="verdict-h">`,
    `<h2 id="verdict-h" style="border:0;margin-top:0">Verdict</h2>`,
    `<p class="big"><span class="${v.status === 'passed' ? 'ok' : 'nok'}">${v.status === 'passed' ? 'PASSED' : 'FAILED'}</span> <span class="muted">(policy: ${esc(v.policy)})</span></p>`,
    `<p>${Object.entries(counts)
      .map(([s, n]) => `${n} ${esc(s)}`)
      .join(' · ')} of ${report.gates.length} gate${report.gates.length === 1 ? '' : 's'}</p>`,
    `<ul>${v.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`,
    '</section>',
    '<section aria-labelledby="gates-h">',
    '<h2 id="gates-h">Gates</h2>',
    '<table>',
    '<caption class="muted" style="text-align:left">Every gate of the run, in pipeline order</caption>',
    row(['Gate', 'Kind', 'Mode', 'Status', 'Duration', 'Evidence'], true),
    ...report.gates.map((g) =>
      row([
        `<a href="#gate-${esc(g.id)}">${esc(g.id)}</a>`,
        esc(g.kind),
        esc(g.mode),
        badge(g),
        `<span class="mono">${esc(formatDuration(g.durationMs))}</span>`,
        esc(evidenceLine(g)),
      ]),
    ),
    '</table>',
    '</section>',
    renderTimelineSection(report),
  );
  parts.push('<section aria-labelledby="details-h">', '<h2 id="details-h">Gate details</h2>');
  for (const g of report.gates) parts.push(gateSection(g, maxFindings, report.git));
  parts.push('</section>');

  const ctx = report.context;
  parts.push(
    '<section aria-labelledby="run-h">',
    '<h2 id="run-h">Run</h2>',
    metaList([
      ['Run id', code(report.runId)],
      ['Pipeline', esc(report.pipeline)],
      ['Gatehouse version', code(report.gatehouseVersion)],
      ['Config sha256', code(report.configSha256, 'digest')],
      ...(report.presets ?? []).map((p): [string, string] => [
        'Preset',
        `${code(p.name)}${p.version ? ` ${code(p.version)}` : ''} sha256 ${code(p.sha256, 'digest')}`,
      ]),
      ['Commit', code(report.git.commit, 'digest')],
      ['Branch', code(report.git.branch)],
      [
        'Working tree',
        report.git.dirty === null
          ? '<span class="muted">unknown</span>'
          : report.git.dirty
            ? 'dirty (uncommitted changes)'
            : 'clean',
      ],
      [
        'CI',
        ctx.ci
          ? `${esc(ctx.ci.provider)}${ctx.ci.runId ? ` run ${code(ctx.ci.runId)}` : ''}${ctx.ci.buildUrl ? ` · <a href="${esc(safeUrl(ctx.ci.buildUrl))}">${esc(ctx.ci.buildUrl)}</a>` : ''}`
          : 'none (local run)',
      ],
      ['User', esc(ctx.user ?? '—')],
      ['Host', esc(ctx.host ?? '—')],
      ['Started (UTC)', esc(report.startedAt)],
      ['Finished (UTC)', esc(report.finishedAt)],
      ['Executor', esc(report.executor)],
      ...environmentItems(report),
      ['Schema version', String(report.schemaVersion)],
    ]),
    '</section>',
    '<section aria-labelledby="integrity-h">',
    '<h2 id="integrity-h">Integrity</h2>',
  );
  if (report.integrity) {
    const sig = report.integrity.signature;
    parts.push(
      metaList([
        ['Algorithm', esc(report.integrity.algorithm)],
        ['Report digest', code(report.integrity.digest, 'digest')],
        [
          'Signature',
          sig
            ? `${esc(sig.format)} envelope ${code(sig.envelope)}, key id ${code(sig.keyid, 'digest')}`
            : 'not signed',
        ],
      ]),
      '<p>The digest is sha256 over the canonical JSON of <code>report.json</code> without its <code>integrity</code> member. Check it with <code>gatehouse report verify report.json</code>; this page is a rendering and is not itself sealed.</p>',
    );
  } else {
    parts.push('<p>This report is not sealed (no digest recorded).</p>');
  }
  parts.push(
    '</section>',
    '</main>',
    `<footer>Generated by gatehouse ${esc(report.gatehouseVersion)} from run ${esc(report.runId)}.</footer>`,
    '</body>',
    '</html>',
    '',
  );
  return parts.join('\n');
}

function environmentItems(report: RunReport): Array<[string, string]> {
  const items: Array<[string, string]> = [];
  const e = report.environment;
  if (e) {
    items.push(
      ['Operating system', code(e.os)],
      ['Node', code(e.node)],
      [
        'Package manager',
        e.packageManager
          ? `${esc(e.packageManager.name)} ${e.packageManager.version ? code(e.packageManager.version) : '<span class="muted">(version unknown)</span>'}`
          : '<span class="muted">none found</span>',
      ],
    );
  }
  if (report.setup) {
    const st = report.setup;
    items.push([
      'Setup',
      `${esc(st.status)} · ${esc(formatDuration(st.durationMs))} · started ${esc(st.startedAt)}`,
    ]);
  }
  return items;
}

/** What ran, as a definition list: command text (redacted), directory, variable names, tools. */
function commandItems(g: GateResult): Array<[string, string]> {
  const items: Array<[string, string]> = [];
  const c = g.command;
  if (c) {
    items.push(
      [
        'Command',
        `<pre class="cmd" tabindex="0" aria-label="Command of gate ${esc(g.id)}">${esc(c.text)}</pre>${c.redacted ? '<span class="muted">Secret values in the command are shown as <code>***</code>.</span>' : ''}`,
      ],
      ['Working directory', code(c.cwd)],
      [
        'Environment',
        c.env.length
          ? c.env.map((n) => code(n)).join(' ')
          : '<span class="muted">none set by the config</span>',
      ],
      [
        'Secrets',
        c.secrets.length
          ? `${c.secrets.map((n) => code(n)).join(' ')} <span class="muted">(names only)</span>`
          : '<span class="muted">none</span>',
      ],
    );
  }
  if (g.needs?.length)
    items.push(['Needs', g.needs.map((n) => `<a href="#gate-${esc(n)}">${esc(n)}</a>`).join(', ')]);
  if (g.tools?.length)
    items.push([
      'Tools',
      g.tools
        .map(
          (t) =>
            `${esc(t.name)} ${code(t.version)} <span class="muted">(${TOOL_SOURCE[t.source] ?? esc(String(t.source))})</span>`,
        )
        .join('<br>'),
    ]);
  return items;
}

/** How the HTML names where a tool's version comes from. */
const TOOL_SOURCE: Record<string, string> = {
  runtime: 'on the PATH it ran with',
  evidence: 'from its evidence',
  installed: 'installed in node_modules',
  config: 'declared in the config',
};

function safeUrl(u: string): string {
  return /^https?:\/\//i.test(u) ? u : '#';
}

function thresholdRow(t: ThresholdCheck): string {
  const op = t.name.startsWith('min_') ? '≥' : t.name === 'sonar_quality_gate' ? '=' : '≤';
  return row([
    `<code>${esc(t.name)}</code>`,
    `${op} ${esc(String(t.limit))}`,
    t.measured === null
      ? '<span class="nok">not measured</span>'
      : esc(String(t.measured)) +
        (t.unknownImpact
          ? ` <span class="muted">(${t.unknownImpact} of unknown impact)</span>`
          : ''),
    t.ok ? '<span class="ok">ok</span>' : '<span class="nok">not met</span>',
    t.excludedByBaseline !== undefined ? String(t.excludedByBaseline) : '—',
  ]);
}

/** `file:line:col`, linked to the file at the run's commit on its forge when known. */
function whereLink(git: GitInfo, file: string, line?: number, column?: number): string {
  const text = `<code>${esc(`${file}${line ? `:${line}` : ''}${column ? `:${column}` : ''}`)}</code>`;
  const href = sourceLink(git, file, line);
  return href ? `<a href="${esc(href)}">${text}</a>` : text;
}

function gateSection(g: GateResult, maxFindings: number, git: GitInfo): string {
  const e = g.evidence;
  const out: string[] = [];
  out.push(
    `<section class="gate" id="gate-${esc(g.id)}" aria-labelledby="gate-${esc(g.id)}-h">`,
    `<header><h3 id="gate-${esc(g.id)}-h">${esc(g.id)}</h3>${badge(g)}<span class="muted">${esc(g.kind)} · ${esc(g.mode)}</span></header>`,
  );
  if (g.reason) out.push(`<p><strong>Reason:</strong> ${esc(g.reason)}</p>`);
  out.push(
    metaList([
      ['Exit code', g.exitCode === null ? '—' : String(g.exitCode)],
      ['Duration', esc(formatDuration(g.durationMs))],
      ['Started (UTC)', esc(g.startedAt)],
      ['Executor', esc(g.executor)],
      ...commandItems(g),
      ['Command sha256', code(g.commandSha256, 'digest')],
      [
        'Image',
        g.image
          ? `${code(g.image.ref)}${g.image.digest ? ` @ ${code(g.image.digest, 'digest')}` : ' (digest unknown)'}`
          : '—',
      ],
      ...(g.cached
        ? ([
            [
              'Cached',
              `result of run ${code(g.cached.runId)} (status ${esc(g.cached.status)}), key ${code(g.cached.key, 'digest')}${g.cached.from === 'remote' ? ', from the remote cache' : ''}`,
            ],
          ] as Array<[string, string]>)
        : []),
    ]),
  );
  if (g.thresholds.length) {
    out.push(
      '<h4>Thresholds</h4>',
      '<table>',
      row(['Policy', 'Limit', 'Measured', 'Result', 'In baseline'], true),
      ...g.thresholds.map(thresholdRow),
      '</table>',
    );
  }
  const ev: string[] = [];
  if (e.lint) {
    ev.push(
      `<p>Lint: ${e.lint.errors} errors, ${e.lint.warnings} warnings in ${e.lint.files} files${e.lint.checked !== undefined ? ` (${e.lint.checked} checked)` : ''}.${e.lint.rules.length ? ` Top rules: ${e.lint.rules.map((r) => `<code>${esc(r.rule)}</code> (${r.count})`).join(', ')}.` : ''}</p>`,
    );
  }
  if (e.tests) {
    ev.push(
      `<p>Tests: ${e.tests.total} total, ${e.tests.passed} passed, ${e.tests.failed} failed, ${e.tests.skipped} skipped.</p>`,
    );
    if (e.tests.failures.length) {
      ev.push(
        '<table>',
        row(['Suite', 'Test', 'Message'], true),
        ...e.tests.failures.map((f) =>
          row([esc(f.suite ?? ''), esc(f.name), esc(f.message ?? '')]),
        ),
        '</table>',
      );
    }
  }
  if (e.coverage) {
    const c = e.coverage;
    ev.push(
      '<table>',
      row(['Coverage', 'Percent'], true),
      ...(['lines', 'branches', 'functions', 'statements'] as const)
        .filter((k) => c[k] !== undefined)
        .map((k) => row([k, `${c[k]}%`])),
      '</table>',
    );
  }
  if (e.a11y) {
    const b = e.a11y.byImpact;
    ev.push(
      `<p>Accessibility: ${e.a11y.violations} violations on ${e.a11y.pages} pages — critical ${b.critical}, serious ${b.serious}, moderate ${b.moderate}, minor ${b.minor}, unknown impact ${b.unknown}.</p>`,
    );
  }
  if (e.sonar) {
    ev.push(
      `<p>SonarQube quality gate: <strong>${esc(e.sonar.status)}</strong>${e.sonar.dashboardUrl ? ` · <a href="${esc(safeUrl(e.sonar.dashboardUrl))}">dashboard</a>` : ''}</p>`,
    );
    if (e.sonar.conditions.length) {
      ev.push(
        '<table>',
        row(['Metric', 'Status', 'Actual', 'Threshold'], true),
        ...e.sonar.conditions.map((c) =>
          row([esc(c.metric), esc(c.status), esc(c.actual ?? ''), esc(c.threshold ?? '')]),
        ),
        '</table>',
      );
    }
  }
  if (e.findings.length) {
    const shown = e.findings.slice(0, maxFindings);
    ev.push(
      `<h4>Findings (${e.findingsTotal}${shown.length < e.findingsTotal ? `, ${shown.length} shown` : ''})</h4>`,
      '<table>',
      row(['Level', 'Rule', 'Where', 'Message'], true),
      ...shown.map((f) =>
        row([
          esc(f.level + (f.impact ? ` (${f.impact})` : '')),
          `<code>${esc(f.rule)}</code>`,
          f.file
            ? whereLink(git, f.file, f.line, f.column)
            : `${esc(f.page ?? '')} <code>${esc(f.selector ?? '')}</code>`,
          esc(f.message),
        ]),
      ),
      '</table>',
    );
  }
  if (e.files.length) {
    ev.push(
      '<table>',
      row(['Evidence file', 'Format', 'sha256'], true),
      ...e.files.map((f) =>
        row([
          f.path ? `<code>${esc(f.path)}</code>` : '(exit code)',
          esc(f.format),
          code(f.sha256, 'digest'),
        ]),
      ),
      '</table>',
    );
  }
  if (ev.length) out.push('<h4>Evidence</h4>', ...ev);
  out.push(
    '<h4>Log</h4>',
    metaList([
      ['Location', code(g.log.path)],
      ['sha256', code(g.log.sha256, 'digest')],
      ['Size', `${g.log.bytes} bytes${g.log.truncated ? ' (truncated when recorded)' : ''}`],
    ]),
  );
  if (g.logTail)
    out.push(
      `<pre aria-label="Last lines of the log of ${esc(g.id)}" tabindex="0">${esc(g.logTail)}</pre>`,
    );
  out.push('</section>');
  return out.join('\n');
}
