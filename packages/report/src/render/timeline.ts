import type { GateResult, RunReport } from '@gatehouse-ci/core';
import { esc, formatDuration } from '../util.js';

/** One row of the timeline: setup or a gate, with what the run spent on it. */
export interface TimelineRow {
  /** `setup`, or the gate's id. */
  label: string;
  kind: 'setup' | 'gate';
  /** `passed`, `failed`, `cached`, `skipped`, …: what the bar says about the outcome. */
  status: string;
  /** Milliseconds from the start of the timeline; null when it did not run in this run. */
  readyAt: number | null;
  startAt: number | null;
  endAt: number | null;
  /** Reused from an earlier run: drawn as a mark, not a bar. */
  cached: boolean;
  /** On the chain of waits that decided when the run ended. */
  critical: boolean;
}

/** What the timeline draws, computed from a report alone (so a merged report draws too). */
export interface Timeline {
  /** ISO-8601 of the timeline's zero. */
  origin: string;
  totalMs: number;
  rows: TimelineRow[];
  /** Labels on the critical path, first to last. */
  criticalPath: string[];
}

const ms = (iso: string): number => Date.parse(iso);

/** Setup's key among gate ids: a gate id cannot hold `:` (a gate may be called `setup`). */
const SETUP_KEY = ':setup';

/** True when a gate ran in this run (its times are this run's). */
function ranNow(g: GateResult): boolean {
  return g.status !== 'skipped' && g.status !== 'cached';
}

/**
 * The run as rows: setup, then each gate in report order. A gate was ready when setup and
 * every gate it needs had finished; from then until it started it was queued (waiting for a
 * slot). The critical path starts at the gate that finished last and walks back through what
 * it waited for: the need that finished last, or setup.
 */
export function timelineOf(report: RunReport): Timeline {
  const runStart = ms(report.startedAt);
  const setup = report.setup;
  const times = [runStart, ...(setup ? [ms(setup.startedAt)] : [])];
  for (const g of report.gates) if (ranNow(g)) times.push(ms(g.startedAt));
  const origin = Math.min(...times.filter(Number.isFinite));
  const rel = (t: number): number => Math.max(0, t - origin);
  const setupEnd = setup ? ms(setup.finishedAt) : null;
  const byId = new Map(report.gates.map((g) => [g.id, g]));

  const rows: TimelineRow[] = [];
  if (setup) {
    rows.push({
      label: 'setup',
      kind: 'setup',
      status: setup.status,
      readyAt: rel(ms(setup.startedAt)),
      startAt: rel(ms(setup.startedAt)),
      endAt: rel(ms(setup.finishedAt)),
      cached: setup.status === 'cached' || setup.status === 'unneeded',
      critical: false,
    });
  }
  /** What a gate waited for last before it was ready: a need, setup, or nothing. */
  const waitedFor = new Map<string, string | null>();
  for (const g of report.gates) {
    let ready = setupEnd ?? runStart;
    let last: string | null = setup ? SETUP_KEY : null;
    for (const n of g.needs ?? []) {
      const need = byId.get(n);
      if (!need || !ranNow(need)) continue;
      const end = ms(need.finishedAt);
      if (end > ready) [ready, last] = [end, n];
    }
    waitedFor.set(g.id, last);
    const now = ranNow(g);
    rows.push({
      label: g.id,
      kind: 'gate',
      status: g.status === 'cached' ? 'cached' : g.status,
      readyAt: g.status === 'skipped' ? null : rel(Math.min(ready, now ? ms(g.startedAt) : ready)),
      startAt: now ? rel(ms(g.startedAt)) : null,
      endAt: now ? rel(ms(g.finishedAt)) : null,
      cached: g.status === 'cached',
      critical: false,
    });
  }

  const ran = report.gates.filter(ranNow);
  const path: string[] = [];
  if (ran.length) {
    let at: string | null = ran.reduce((a, b) => (ms(b.finishedAt) > ms(a.finishedAt) ? b : a)).id;
    const seen = new Set<string>();
    while (at !== null && !seen.has(at)) {
      seen.add(at);
      path.unshift(at);
      at = at === SETUP_KEY ? null : (waitedFor.get(at) ?? null);
    }
  } else if (setup) path.push(SETUP_KEY);
  for (const r of rows) r.critical = path.includes(r.kind === 'setup' ? SETUP_KEY : r.label);
  const criticalPath = path.map((k) => (k === SETUP_KEY ? 'setup' : k));
  const ends = rows.flatMap((r) => [r.endAt ?? 0, r.readyAt ?? 0]);
  const totalMs = Math.max(rel(ms(report.finishedAt)), ...ends, 1);
  return { origin: new Date(origin).toISOString(), totalMs, rows, criticalPath };
}

const WIDTH = 960;
const LABEL_W = 150;
const RIGHT_PAD = 110;
const ROW_H = 26;
const BAR_H = 14;
const AXIS_H = 28;

/** A round tick step giving about six ticks over `total` milliseconds. */
function tickStep(total: number): number {
  const steps = [
    100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
    900_000, 1_800_000, 3_600_000, 7_200_000,
  ];
  return steps.find((s) => total / s <= 8) ?? Math.ceil(total / 8 / 3_600_000) * 3_600_000;
}

/**
 * The timeline as inline SVG: one row per gate (setup first), a dashed outline while queued, a
 * solid bar while running, a diamond for a cached gate, and the critical path outlined thick
 * and named in the row's label. No script, no reference of any kind; outlines and shapes, not
 * colours alone, tell the parts apart, so it prints in black and white.
 */
export function renderTimelineSvg(report: RunReport): string {
  const t = timelineOf(report);
  const plotW = WIDTH - LABEL_W - RIGHT_PAD;
  const x = (v: number): number => LABEL_W + (v / t.totalMs) * plotW;
  const height = AXIS_H + t.rows.length * ROW_H + 8;
  const out: string[] = [];
  const summary = `${t.rows.length} rows over ${formatDuration(t.totalMs)}; critical path ${t.criticalPath.join(' → ') || 'none'}`;
  out.push(
    `<svg class="timeline" role="img" aria-labelledby="tl-title tl-desc" viewBox="0 0 ${WIDTH} ${height}" width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">`,
    `<title id="tl-title">Timeline of the run</title>`,
    `<desc id="tl-desc">${esc(summary)}</desc>`,
  );
  const step = tickStep(t.totalMs);
  for (let v = 0; v <= t.totalMs; v += step) {
    const px = x(v).toFixed(1);
    out.push(
      `<line x1="${px}" y1="${AXIS_H - 6}" x2="${px}" y2="${height - 4}" stroke="#c8c8c8" stroke-width="1"/>`,
      `<text x="${px}" y="${AXIS_H - 10}" font-size="11" text-anchor="middle" fill="#1a1a1a">${esc(formatDuration(v))}</text>`,
    );
  }
  t.rows.forEach((r, i) => {
    const y = AXIS_H + i * ROW_H;
    const mid = y + ROW_H / 2;
    const barY = (mid - BAR_H / 2).toFixed(1);
    const fill = BAR_FILL[r.status] ?? '#3d4852';
    out.push(
      `<g class="tl-row${r.critical ? ' tl-critical' : ''}">`,
      `<title>${esc(rowTitle(r))}</title>`,
      `<text x="${LABEL_W - 8}" y="${(mid + 4).toFixed(1)}" font-size="12" text-anchor="end" fill="#1a1a1a"${r.critical ? ' font-weight="700"' : ''}>${esc(r.label)}</text>`,
    );
    // A wait too short to see (under 3 px) is left out of the drawing; the row's title still says it.
    if (r.readyAt !== null && r.startAt !== null && x(r.startAt) - x(r.readyAt) >= 3) {
      out.push(
        `<rect x="${x(r.readyAt).toFixed(1)}" y="${barY}" width="${(x(r.startAt) - x(r.readyAt)).toFixed(1)}" height="${BAR_H}" fill="#fff" stroke="#1a1a1a" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      );
    }
    let note = '';
    if (r.cached && r.startAt === null && r.readyAt !== null) {
      const cx = x(r.readyAt);
      out.push(
        `<path d="M${cx.toFixed(1)} ${(mid - 7).toFixed(1)}l7 7l-7 7l-7 -7z" fill="#fff" stroke="#1a1a1a" stroke-width="2"/>`,
      );
      note = 'cached';
    } else if (r.startAt !== null && r.endAt !== null) {
      out.push(
        `<rect x="${x(r.startAt).toFixed(1)}" y="${barY}" width="${Math.max(2, x(r.endAt) - x(r.startAt)).toFixed(1)}" height="${BAR_H}" fill="${fill}"${r.cached ? ' fill-opacity="0.55"' : ''} stroke="#1a1a1a" stroke-width="${r.critical ? 3 : 1}"/>`,
      );
      note = `${formatDuration(r.endAt - r.startAt)}${r.cached ? ' cached' : ''}`;
    } else note = r.status;
    if (r.critical) note += ' · critical';
    const noteX =
      r.endAt !== null ? x(r.endAt) + 6 : r.readyAt !== null ? x(r.readyAt) + 12 : LABEL_W + 4;
    out.push(
      `<text x="${Math.min(noteX, WIDTH - RIGHT_PAD + 6).toFixed(1)}" y="${(mid + 4).toFixed(1)}" font-size="11" fill="#1a1a1a">${esc(note)}</text>`,
      '</g>',
    );
  });
  out.push('</svg>');
  return out.join('');
}

/** Dark enough for text-free shapes on white (≥ 3:1), one per outcome. */
const BAR_FILL: Record<string, string> = {
  passed: '#0b6b2e',
  failed: '#a4111b',
  timeout: '#a4111b',
  interrupted: '#a4111b',
  error: '#7a4b00',
  cached: '#3d4852',
};

function rowTitle(r: TimelineRow): string {
  const parts = [`${r.label}: ${r.status}`];
  if (r.readyAt !== null && r.startAt !== null && r.startAt > r.readyAt)
    parts.push(`queued ${formatDuration(r.startAt - r.readyAt)}`);
  if (r.startAt !== null && r.endAt !== null)
    parts.push(`ran ${formatDuration(r.endAt - r.startAt)}`);
  if (r.cached) parts.push('result reused from an earlier run');
  if (r.critical) parts.push('on the critical path');
  return parts.join(', ');
}

/** The timeline section of the HTML report: the SVG, a legend, and the critical path in words. */
export function renderTimelineSection(report: RunReport): string {
  const t = timelineOf(report);
  if (t.rows.length === 0) return '';
  return [
    '<section aria-labelledby="timeline-h">',
    '<h2 id="timeline-h">Timeline</h2>',
    '<figure class="timeline">',
    renderTimelineSvg(report),
    '<figcaption>',
    `<p>Critical path: <strong>${t.criticalPath.map(esc).join(' → ') || 'none'}</strong>, the chain of waits that decided when the run ended.</p>`,
    '<ul class="legend">',
    '<li><span class="key key-run"></span> running (colour by outcome; a thick outline marks the critical path)</li>',
    '<li><span class="key key-queued"></span> queued: ready (setup and needs done) but not yet started</li>',
    '<li><span class="key key-cached">◇</span> cached: the result of an earlier run, reused</li>',
    '</ul>',
    '</figcaption>',
    '</figure>',
    '</section>',
  ].join('\n');
}
