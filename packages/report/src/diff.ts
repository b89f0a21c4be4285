/**
 * What changed between two reports: verdict, config, gates added or removed, statuses,
 * commands, threshold margins, tools, and findings new or fixed by fingerprint.
 */
import type {
  Finding,
  GateResult,
  GateStatus,
  RunReport,
  ThresholdCheck,
} from '@gatehouse-ci/core';
import { effectiveStatus } from './verdict.js';

/** One side of a diff: which run it is. */
export interface DiffSide {
  runId: string;
  digest: string | null;
  verdict: 'passed' | 'failed';
  commit: string | null;
  configSha256: string;
  startedAt: string;
}

/** A threshold whose limit, measurement or margin moved. */
export interface ThresholdMove {
  gate: string;
  name: string;
  limit: { from: ThresholdCheck['limit']; to: ThresholdCheck['limit'] };
  measured: { from: ThresholdCheck['measured']; to: ThresholdCheck['measured'] };
  /**
   * How far the measurement is inside the limit (positive) or past it (negative): `limit −
   * measured` for a maximum, `measured − limit` for a minimum; null when not numeric.
   */
  margin: { from: number | null; to: number | null };
  ok: { from: boolean; to: boolean };
}

/** Findings of one gate present in only one of the reports, matched by fingerprint. */
export interface FindingChanges {
  gate: string;
  new: Finding[];
  fixed: Finding[];
  /**
   * False when either report kept fewer findings than the gate had (`findingsTotal`): a
   * finding beyond the kept ones can look new or fixed when it is neither.
   */
  complete: boolean;
}

/** What changed from report `from` to report `to`. */
export interface ReportDiff {
  from: DiffSide;
  to: DiffSide;
  /** Null when both runs had the same verdict. */
  verdict: { from: 'passed' | 'failed'; to: 'passed' | 'failed' } | null;
  /** Null when both runs read the same config bytes. */
  config: { from: string; to: string } | null;
  gatesAdded: string[];
  gatesRemoved: string[];
  /** Gates whose status changed (a cached gate counts as the status it had). */
  status: Array<{ gate: string; from: GateStatus; to: GateStatus }>;
  /** Gates whose command changed; the text when both reports record it. */
  commands: Array<{ gate: string; from: string | null; to: string | null }>;
  /** Gates whose mode changed (blocking ↔ advisory). */
  modes: Array<{ gate: string; from: string; to: string }>;
  thresholds: ThresholdMove[];
  findings: FindingChanges[];
  /** Tool versions that changed, appeared or went away, per gate. */
  tools: Array<{ gate: string; name: string; from: string | null; to: string | null }>;
  /** The machine and toolchain (`os`, `node`, `packageManager`) where they differ. */
  environment: Array<{ field: string; from: string | null; to: string | null }>;
  /** True when nothing above changed. */
  same: boolean;
}

function side(r: RunReport): DiffSide {
  return {
    runId: r.runId,
    digest: r.integrity?.digest ?? null,
    verdict: r.verdict.status,
    commit: r.git.commit,
    configSha256: r.configSha256,
    startedAt: r.startedAt,
  };
}

/** The margin of a threshold: positive inside the limit, negative past it; null if not numbers. */
export function thresholdMargin(t: ThresholdCheck): number | null {
  if (typeof t.limit !== 'number' || typeof t.measured !== 'number') return null;
  const m = t.name.startsWith('min_') ? t.measured - t.limit : t.limit - t.measured;
  return Math.round(m * 100) / 100;
}

/** Compare two reports of the same pipeline (an earlier one first). */
export function diffReports(from: RunReport, to: RunReport): ReportDiff {
  const a = new Map(from.gates.map((g) => [g.id, g]));
  const b = new Map(to.gates.map((g) => [g.id, g]));
  const d: ReportDiff = {
    from: side(from),
    to: side(to),
    verdict:
      from.verdict.status !== to.verdict.status
        ? { from: from.verdict.status, to: to.verdict.status }
        : null,
    config:
      from.configSha256 !== to.configSha256
        ? { from: from.configSha256, to: to.configSha256 }
        : null,
    gatesAdded: to.gates.filter((g) => !a.has(g.id)).map((g) => g.id),
    gatesRemoved: from.gates.filter((g) => !b.has(g.id)).map((g) => g.id),
    status: [],
    commands: [],
    modes: [],
    thresholds: [],
    findings: [],
    tools: [],
    environment: [],
    same: false,
  };
  for (const g of to.gates) {
    const was = a.get(g.id);
    if (!was) continue;
    const [s0, s1] = [effectiveStatus(was), effectiveStatus(g)];
    if (s0 !== s1) d.status.push({ gate: g.id, from: s0, to: s1 });
    if (was.commandSha256 !== g.commandSha256)
      d.commands.push({
        gate: g.id,
        from: was.command?.text ?? null,
        to: g.command?.text ?? null,
      });
    if (was.mode !== g.mode) d.modes.push({ gate: g.id, from: was.mode, to: g.mode });
    d.thresholds.push(...thresholdMoves(g.id, was, g));
    // A gate that did not run now says nothing about its findings.
    if (ranWithEvidence(was) && ranWithEvidence(g)) {
      const f = findingChanges(g.id, was, g);
      if (f.new.length || f.fixed.length) d.findings.push(f);
    }
    d.tools.push(...toolChanges(g.id, was, g));
  }
  d.environment = environmentChanges(from, to);
  d.same =
    !d.verdict &&
    !d.config &&
    !d.gatesAdded.length &&
    !d.gatesRemoved.length &&
    !d.status.length &&
    !d.commands.length &&
    !d.modes.length &&
    !d.thresholds.length &&
    !d.findings.length &&
    !d.tools.length &&
    !d.environment.length;
  return d;
}

function ranWithEvidence(g: GateResult): boolean {
  return g.status !== 'skipped' && g.evidence.files.some((f) => f.sha256 !== null);
}

function thresholdMoves(gate: string, was: GateResult, now: GateResult): ThresholdMove[] {
  const before = new Map(was.thresholds.map((t) => [t.name, t]));
  const out: ThresholdMove[] = [];
  for (const t of now.thresholds) {
    const p = before.get(t.name);
    if (!p) continue;
    const move: ThresholdMove = {
      gate,
      name: t.name,
      limit: { from: p.limit, to: t.limit },
      measured: { from: p.measured, to: t.measured },
      margin: { from: thresholdMargin(p), to: thresholdMargin(t) },
      ok: { from: p.ok, to: t.ok },
    };
    if (
      move.limit.from !== move.limit.to ||
      move.measured.from !== move.measured.to ||
      move.margin.from !== move.margin.to ||
      move.ok.from !== move.ok.to
    )
      out.push(move);
  }
  return out;
}

function findingChanges(gate: string, was: GateResult, now: GateResult): FindingChanges {
  const before = new Set(was.evidence.findings.map((f) => f.fingerprint));
  const after = new Set(now.evidence.findings.map((f) => f.fingerprint));
  const unique = (list: Finding[]): Finding[] => {
    const seen = new Set<string>();
    return list.filter((f) => !seen.has(f.fingerprint) && seen.add(f.fingerprint));
  };
  return {
    gate,
    new: unique(now.evidence.findings.filter((f) => !before.has(f.fingerprint))),
    fixed: unique(was.evidence.findings.filter((f) => !after.has(f.fingerprint))),
    complete:
      was.evidence.findings.length >= was.evidence.findingsTotal &&
      now.evidence.findings.length >= now.evidence.findingsTotal,
  };
}

function toolChanges(gate: string, was: GateResult, now: GateResult): ReportDiff['tools'] {
  const map = (g: GateResult) =>
    new Map((g.tools ?? []).map((t) => [t.name, t.version] as [string, string]));
  const [m0, m1] = [map(was), map(now)];
  const names = [...new Set([...m0.keys(), ...m1.keys()])].sort();
  return names
    .filter((n) => m0.get(n) !== m1.get(n))
    .map((name) => ({ gate, name, from: m0.get(name) ?? null, to: m1.get(name) ?? null }));
}

function environmentChanges(from: RunReport, to: RunReport): ReportDiff['environment'] {
  const e0 = from.environment;
  const e1 = to.environment;
  if (!e0 || !e1) return [];
  const pm = (e: typeof e0): string | null =>
    e.packageManager ? `${e.packageManager.name} ${e.packageManager.version ?? '?'}` : null;
  const fields: Array<[string, string | null, string | null]> = [
    ['os', e0.os, e1.os],
    ['node', e0.node, e1.node],
    ['packageManager', pm(e0), pm(e1)],
  ];
  return fields.filter(([, x, y]) => x !== y).map(([field, x, y]) => ({ field, from: x, to: y }));
}

const short = (s: string | null): string => (s === null ? 'unknown' : s.slice(0, 12));

function where(f: Finding): string {
  if (f.file) return `${f.file}${f.line ? `:${f.line}` : ''}`;
  return `${f.page ?? ''} ${f.selector ?? ''}`.trim();
}

/** One line of text for a value from a report: control characters shown escaped. */
function oneLine(s: string): string {
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The diff for people: one section per kind of change, `+` for new and `-` for fixed findings. */
export function formatDiff(d: ReportDiff, opts: { maxFindings?: number } = {}): string {
  const max = opts.maxFindings ?? 20;
  const out: string[] = [
    `from run ${d.from.runId} (${d.from.verdict}, commit ${short(d.from.commit)}, ${d.from.startedAt})`,
    `  to run ${d.to.runId} (${d.to.verdict}, commit ${short(d.to.commit)}, ${d.to.startedAt})`,
  ];
  if (d.same) {
    out.push('', 'no changes in verdict, config, gates, commands, thresholds, findings or tools');
    return `${out.join('\n')}\n`;
  }
  if (d.verdict) out.push('', `verdict: ${d.verdict.from} → ${d.verdict.to}`);
  if (d.config)
    out.push('', `config changed: sha256 ${short(d.config.from)}… → ${short(d.config.to)}…`);
  if (d.gatesAdded.length || d.gatesRemoved.length) {
    out.push('', 'gates:');
    for (const g of d.gatesAdded) out.push(`  + ${g} (new gate)`);
    for (const g of d.gatesRemoved) out.push(`  - ${g} (gone)`);
  }
  if (d.status.length) {
    out.push('', 'status:');
    for (const s of d.status) out.push(`  ${s.gate}: ${s.from} → ${s.to}`);
  }
  if (d.modes.length) {
    out.push('', 'mode:');
    for (const m of d.modes) out.push(`  ${m.gate}: ${m.from} → ${m.to}`);
  }
  if (d.commands.length) {
    out.push('', 'commands:');
    for (const c of d.commands) {
      out.push(`  ${c.gate}:`);
      out.push(`    - ${c.from === null ? '(text not recorded)' : oneLine(c.from)}`);
      out.push(`    + ${c.to === null ? '(text not recorded)' : oneLine(c.to)}`);
    }
  }
  if (d.thresholds.length) {
    out.push('', 'thresholds:');
    for (const t of d.thresholds) {
      const parts = [
        ...(t.margin.from !== null || t.margin.to !== null
          ? [`margin ${t.margin.from ?? '—'} → ${t.margin.to ?? '—'}`]
          : []),
        `measured ${String(t.measured.from)} → ${String(t.measured.to)}`,
        t.limit.from === t.limit.to
          ? `limit ${String(t.limit.to)}`
          : `limit ${String(t.limit.from)} → ${String(t.limit.to)}`,
        ...(t.ok.from === t.ok.to ? [] : [t.ok.to ? 'now met' : 'now NOT met']),
      ];
      out.push(`  ${t.gate} ${t.name}: ${parts.join(', ')}`);
    }
  }
  if (d.findings.length) {
    out.push('', 'findings:');
    for (const f of d.findings) {
      out.push(
        `  ${f.gate}: ${f.new.length} new, ${f.fixed.length} fixed${f.complete ? '' : ' (a report kept only part of its findings: counts are of those kept)'}`,
      );
      const line = (sign: string, x: Finding) =>
        `    ${sign} ${x.level} ${oneLine(x.rule)} ${oneLine(where(x))} ${oneLine(x.message)}`;
      for (const x of f.new.slice(0, max)) out.push(line('+', x));
      if (f.new.length > max) out.push(`    … ${f.new.length - max} more new`);
      for (const x of f.fixed.slice(0, max)) out.push(line('-', x));
      if (f.fixed.length > max) out.push(`    … ${f.fixed.length - max} more fixed`);
    }
  }
  if (d.tools.length) {
    out.push('', 'tools:');
    for (const t of d.tools)
      out.push(`  ${t.gate} ${oneLine(t.name)}: ${t.from ?? 'none'} → ${t.to ?? 'none'}`);
  }
  if (d.environment.length) {
    out.push('', 'environment:');
    for (const e of d.environment)
      out.push(`  ${e.field}: ${e.from ?? 'unknown'} → ${e.to ?? 'unknown'}`);
  }
  return `${out.join('\n')}\n`;
}
