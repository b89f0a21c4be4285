import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { sha256 } from '@gatehouse-ci/core';
import type {
  EvidenceSummary,
  Finding,
  GateCommand,
  GateResult,
  GateStatus,
  ResolvedGate,
  RunReport,
  ThresholdCheck,
  ToolVersion,
} from '@gatehouse-ci/core';
import { readConfined } from './confined.js';
import { mergeEvidence, parseEvidence } from './evidence/dispatch.js';
import { EvidenceError, type EvidenceTool, type ParsedEvidence } from './evidence/types.js';
import { EMPTY_SHA256, type GateOutcome } from './outcome.js';
import { baselineFingerprints, checkPolicy, describeCheck, effectivePolicy } from './policy.js';
import { installedVersion, runtimeTools, type GateToolchain } from './toolchain.js';

/** Most findings a gate result keeps; `findingsTotal` holds the real count. */
export const MAX_FINDINGS = 1000;
/** Bytes of the log's end kept in `GateResult.logTail`. */
export const LOG_TAIL_BYTES = 4096;
/** Evidence files larger than this are refused rather than read into memory. */
export const MAX_EVIDENCE_BYTES = 256 * 1024 * 1024;

/** Options of {@link evaluateGate}. */
export interface EvaluateOptions {
  /** Project root: `policy.baseline` is relative to it, and tool paths are made relative to it. */
  rootDir: string;
  /** An earlier report to compare findings with. @default the report at `gate.policy.baseline`, if set */
  baseline?: RunReport;
  /** More absolute directories tool paths are relative to, e.g. the container's workdir. */
  sourceRoots?: string[];
  /**
   * Applied to every string taken from the gate's output (evidence text, log tail, reason)
   * before it enters the result, e.g. the executor's secret redaction. Evidence files can
   * carry a secret a tool printed (a test failure message), and logs are not the only way out.
   */
  redact?: (text: string) => string;
  /**
   * Where the gate ran, when it ran on this machine in the project's directory (the local
   * executor): its `tools` then record the Node and package manager on its `PATH`, and the
   * installed version of each tool its evidence names without one. Omitted for a gate that
   * ran elsewhere (a Docker image), whose tools this machine cannot tell.
   */
  toolchain?: GateToolchain;
}

const LEVEL_ORDER: Record<Finding['level'], number> = { error: 0, warning: 1, note: 2 };

/**
 * Judge one gate: read its evidence files from `outcome.outDir`, measure them against its
 * policy, and decide its status. Never throws for bad evidence: a missing or malformed file
 * makes the gate `error` with a reason naming the file.
 *
 * Status, first rule that applies: `error` when the executor refused some of the gate's
 * output (`outcome.refusals`); `interrupted`; `timeout`; `error` (could not start, or
 * evidence missing/malformed/refused, or a threshold nothing measured); `failed` (non-zero
 * exit, killed by a signal, or a threshold not met); else `passed`. Evidence files are read
 * confined to `outcome.outDir`: one that is, or is reached through, a symbolic link leading
 * out of it is refused and never read.
 */
export async function evaluateGate(
  gate: ResolvedGate,
  outcome: GateOutcome,
  opts: EvaluateOptions = { rootDir: process.cwd() },
): Promise<GateResult> {
  const base = {
    id: gate.id,
    kind: gate.kind,
    mode: gate.mode,
    exitCode: outcome.exitCode,
    commandSha256: sha256(gate.run),
    image: outcome.image ?? null,
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
    durationMs: Math.max(0, Math.round(outcome.durationMs)),
    executor: outcome.executor,
    cached: null,
    log: outcome.log,
  };
  const logTail =
    outcome.logTail !== undefined ? outcome.logTail : await readLogTail(outcome.log.path);
  const redact = opts.redact ?? ((t: string) => t);
  const command = gateCommand(gate, redact);
  const finish = (
    status: GateStatus,
    reason: string | null,
    evidence: EvidenceSummary,
    thresholds: ThresholdCheck[],
  ): GateResult => ({
    ...base,
    status,
    reason: reason === null ? null : redact(reason),
    ...(logTail !== undefined ? { logTail: redact(logTail) } : {}),
    evidence: opts.redact ? redactDeep(evidence, opts.redact) : evidence,
    thresholds,
    command,
    needs: [...gate.needs],
    ...toolsOf(gate, opts.redact ? redactDeep(parsedTools, opts.redact) : parsedTools, found),
  });

  const problems: string[] = [];
  const parts: ParsedEvidence[] = [];
  const files: EvidenceSummary['files'] = [];
  const ctx = { sourceRoots: [opts.rootDir, ...(opts.sourceRoots ?? [])].map((r) => resolve(r)) };
  for (const ev of gate.evidence) {
    if (ev.format === 'exitcode' || ev.path === null) {
      files.push({ format: ev.format, path: null, sha256: null });
      continue;
    }
    const read = await readEvidence(outcome.outDir, ev.path);
    files.push({ format: ev.format, path: ev.path, sha256: read.ok ? sha256(read.bytes) : null });
    if (!read.ok) {
      problems.push(`evidence ${ev.path} (${ev.format}): ${read.reason}`);
      continue;
    }
    try {
      parts.push(parseEvidence(ev.format, read.bytes.toString('utf8'), ctx));
    } catch (err) {
      if (!(err instanceof EvidenceError)) throw err;
      problems.push(`evidence ${ev.path} (${ev.format}): ${err.message}`);
    }
  }
  const parsed: ParsedEvidence = parts.length ? mergeEvidence(parts) : { findings: [] };
  const evidence = summarise(parsed, files);
  const parsedTools = parsed.tools ?? [];
  const found = opts.toolchain ? toolchainTools(opts.toolchain, parsed) : [];

  const judged = await judgeRun(
    gate,
    {
      exitCode: outcome.exitCode,
      signal: outcome.signal,
      timedOut: outcome.timedOut,
      interrupted: outcome.interrupted,
      spawnError: outcome.spawnError,
      refusals: outcome.refusals ?? [],
      evidenceProblems: problems,
      parsed,
    },
    opts,
  );
  return finish(judged.status, judged.reason, evidence, judged.thresholds);
}

/**
 * The gate's command as the report records it: its text through the executor's redaction
 * (a secret value written into the config's command is replaced as it is in the log), and
 * the names, never the values, of its variables and secrets.
 */
export function gateCommand(gate: ResolvedGate, redact: (text: string) => string): GateCommand {
  const text = redact(gate.run);
  return {
    text,
    redacted: text !== gate.run,
    // Gates run in the config's directory (locally) or the image's workdir holding it (Docker).
    cwd: '.',
    env: Object.keys(gate.env).sort(),
    secrets: [...gate.secrets].sort(),
  };
}

/**
 * `tools` of a result, in this order: the runtime (`node`, the package manager), what the
 * evidence said, the installed versions of tools the evidence names without one (unless it
 * also gave one), then what the config's `tools:` declares.
 */
export function toolsOf(
  gate: Pick<ResolvedGate, 'tools'>,
  fromEvidence: EvidenceTool[],
  found: ToolVersion[] = [],
): { tools?: ToolVersion[] } {
  const said = new Set(fromEvidence.map((t) => t.name));
  const tools: ToolVersion[] = [
    ...found.filter((t) => t.source === 'runtime'),
    ...fromEvidence.map((t) => ({ ...t, source: 'evidence' as const })),
    ...found.filter((t) => t.source === 'installed' && !said.has(t.name)),
    ...Object.entries(gate.tools ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, version]) => ({ name, version, source: 'config' as const })),
  ];
  return tools.length ? { tools } : {};
}

/** The runtime of a gate that ran here, and the installed version of each producer of its evidence. */
function toolchainTools(t: GateToolchain, parsed: ParsedEvidence): ToolVersion[] {
  const installed: ToolVersion[] = [];
  for (const name of parsed.producers ?? []) {
    const version = installedVersion(t.cwd, name);
    if (version) installed.push({ name, version, source: 'installed' });
  }
  return [...runtimeTools(t), ...installed];
}

/** What a gate is judged on once its evidence is read: by {@link evaluateGate}, or from a result file when merging. */
export interface RunFacts {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  interrupted: boolean;
  spawnError: string | null;
  /** Output the executor refused to read (see `GateOutcome.refusals`). */
  refusals: string[];
  /** Evidence files missing, malformed or refused, one sentence each naming the file. */
  evidenceProblems: string[];
  /** The gate's evidence, all files together. */
  parsed: ParsedEvidence;
}

/** A gate's status, the reason for it, and its thresholds as measured. */
export interface Judgement {
  status: GateStatus;
  reason: string | null;
  thresholds: ThresholdCheck[];
}

/**
 * The rules of {@link evaluateGate}, on facts already gathered: the gate's policy (from the
 * config, with its kind's defaults) measured against the evidence, and the status decided.
 */
export async function judgeRun(
  gate: ResolvedGate,
  facts: RunFacts,
  opts: Pick<EvaluateOptions, 'rootDir' | 'baseline'>,
): Promise<Judgement> {
  const judged = (
    status: GateStatus,
    reason: string | null,
    thresholds: ThresholdCheck[] = [],
  ) => ({
    status,
    reason,
    thresholds,
  });
  // Output that tried to lead the reader elsewhere says nothing reliable, not even a timeout.
  if (facts.refusals.length)
    return judged('error', [...facts.refusals, ...facts.evidenceProblems].join('; '));
  if (facts.interrupted) return judged('interrupted', 'interrupted before it finished');
  if (facts.timedOut) return judged('timeout', `timed out after ${formatMs(gate.timeoutMs)}`);
  if (facts.spawnError !== null) return judged('error', `could not start: ${facts.spawnError}`);
  if (facts.evidenceProblems.length) return judged('error', facts.evidenceProblems.join('; '));
  const nothing = checkedNothing(facts.parsed);
  if (nothing) return judged('error', nothing);

  let baseline: Set<string> | null = null;
  if (opts.baseline || gate.policy.baseline) {
    try {
      const report = opts.baseline ?? (await loadBaseline(opts.rootDir, gate.policy.baseline!));
      baseline = baselineFingerprints(report.gates.find((g) => g.id === gate.id));
    } catch (err) {
      return judged('error', `baseline ${gate.policy.baseline}: ${(err as Error).message}`);
    }
  }
  const parsed = facts.parsed;
  const thresholds = checkPolicy(effectivePolicy(gate, parsed), parsed, baseline);
  const unmeasured = thresholds.filter((c) => c.measured === null);
  if (unmeasured.length)
    return judged('error', unmeasured.map(describeCheck).join('; '), thresholds);

  const reasons: string[] = [];
  if (facts.exitCode === null)
    reasons.push(facts.signal ? `killed by ${facts.signal}` : 'ended without an exit code');
  else if (facts.exitCode !== 0) reasons.push(`exited with code ${facts.exitCode}`);
  reasons.push(...thresholds.filter((c) => !c.ok).map(describeCheck));
  return judged(
    reasons.length ? 'failed' : 'passed',
    reasons.length ? reasons.join('; ') : null,
    thresholds,
  );
}

/**
 * Why the evidence shows that the gate checked nothing, or null. A lint run over no file,
 * a test run of no test or an accessibility scan of no page passes nothing: it is an
 * error, never a green gate.
 */
export function checkedNothing(parsed: ParsedEvidence): string | null {
  if (parsed.lint?.checked === 0)
    return 'the linter checked no files (its report lists none): check its file patterns';
  if (parsed.tests && parsed.tests.total === 0)
    return 'no test ran (the test report holds no test case)';
  if (parsed.a11y && parsed.a11y.pages === 0) return 'no page was scanned for accessibility';
  return null;
}

function redactDeep<T>(value: T, redact: (t: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)]),
    ) as T;
  }
  return value;
}

function summarise(parsed: ParsedEvidence, files: EvidenceSummary['files']): EvidenceSummary {
  const sorted = [...parsed.findings].sort((a, b) => LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level]);
  return {
    files,
    ...(parsed.lint ? { lint: parsed.lint } : {}),
    ...(parsed.tests ? { tests: parsed.tests } : {}),
    ...(parsed.coverage ? { coverage: parsed.coverage } : {}),
    ...(parsed.a11y ? { a11y: parsed.a11y } : {}),
    ...(parsed.sonar ? { sonar: parsed.sonar } : {}),
    findings: sorted.slice(0, MAX_FINDINGS),
    findingsTotal: parsed.findings.length,
  };
}

type ReadResult = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/**
 * Read one evidence file, confined to `$GATEHOUSE_OUT`: the gate wrote that directory, so a
 * link in it that leads elsewhere (a host file, a device) is refused, never followed.
 */
async function readEvidence(outDir: string, path: string): Promise<ReadResult> {
  const read = await readConfined(outDir, path, '$GATEHOUSE_OUT', MAX_EVIDENCE_BYTES);
  if (read.ok) {
    if (read.bytes.length === 0) return { ok: false, reason: 'file is empty' };
    return read;
  }
  if (read.kind === 'missing')
    return { ok: false, reason: 'file missing (the gate did not write it)' };
  return { ok: false, reason: read.reason };
}

/**
 * The end of a log as `GateResult.logTail` holds it: at most {@link LOG_TAIL_BYTES} bytes of
 * `end` (the last bytes of the log), starting at a line boundary unless `end` is the whole log.
 */
export function logTailOf(end: Buffer, wholeLog: boolean): string {
  const len = Math.min(end.length, LOG_TAIL_BYTES);
  let text = end.subarray(end.length - len).toString('utf8');
  // Starting mid-file: drop the partial first line (and any split UTF-8 sequence with it).
  if (!wholeLog || len < end.length) text = text.slice(text.indexOf('\n') + 1);
  return text;
}

async function readLogTail(path: string | null): Promise<string | undefined> {
  if (path === null) return undefined;
  let fh;
  try {
    // The executor wrote this file; still, a link or a FIFO put in its place is not read.
    fh = await open(
      path,
      constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0),
    );
    const st = await fh.stat();
    if (!st.isFile()) return undefined;
    const len = Math.min(st.size, LOG_TAIL_BYTES);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, st.size - len);
    return logTailOf(buf, st.size === len);
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/** Load a report JSON used as baseline. */
export async function loadBaseline(rootDir: string, path: string): Promise<RunReport> {
  const text = await readFile(resolve(rootDir, path), 'utf8');
  const data = JSON.parse(text) as RunReport;
  if (!data || !Array.isArray(data.gates)) throw new Error('not a gatehouse report (no gates)');
  return data;
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** A gate that did not run. */
export function skippedResult(gate: ResolvedGate, reason: string, executor: string): GateResult {
  const now = new Date().toISOString();
  return {
    id: gate.id,
    kind: gate.kind,
    mode: gate.mode,
    status: 'skipped',
    reason,
    exitCode: null,
    commandSha256: sha256(gate.run),
    image: null,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
    executor,
    cached: null,
    log: { path: null, sha256: EMPTY_SHA256, bytes: 0, truncated: false },
    evidence: { files: [], findings: [], findingsTotal: 0 },
    thresholds: [],
    needs: [...gate.needs],
    ...toolsOf(gate, []),
  };
}

/**
 * A gate not run now because an identical earlier run is cached: the earlier result, with
 * status `cached` and `cached.status` holding what it was.
 */
export function cachedResult(previous: GateResult, key: string, runId: string | null): GateResult {
  const original =
    previous.status === 'cached' && previous.cached
      ? previous.cached
      : { status: previous.status, runId };
  return {
    ...previous,
    status: 'cached',
    cached: { status: original.status, key, runId: original.runId ?? runId },
  };
}
