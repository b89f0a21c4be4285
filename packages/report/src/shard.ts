/**
 * Judging a gate result that comes from elsewhere — a CI job's `--result-file`, a gate of a
 * report being merged — against the config. Such a result is evidence, never instructions:
 * its id must be a gate of the config, its command hash the config's command's, and its
 * status must be what its exit code and evidence give under the config's policy. Mode, kind
 * and thresholds are always the config's.
 */
import { sha256 } from '@gatehouse-ci/core';
import type {
  GateResult,
  GateStatus,
  ResolvedGate,
  ResolvedPipeline,
  RunReport,
} from '@gatehouse-ci/core';
import { gateCommand, judgeRun, toolsOf, type Judgement } from './evaluate.js';
import { a11ySummaryOf, lintSummaryOf, IMPACTS, type ParsedEvidence } from './evidence/types.js';

/** Options of {@link judgeShard}. */
export interface ShardOptions {
  /** Where `policy.baseline` is read from. @default the pipeline's rootDir */
  rootDir?: string;
  /** An earlier report to compare findings with, as `evaluateGate` takes it. */
  baseline?: RunReport;
  /**
   * The commit being merged. A result must name it (`git.commit`, written by `run
   * --result-file`): one of another commit, or naming none, is rejected. Unset: not checked.
   */
  commit?: string | null;
}

/** What {@link judgeShard} decided. */
export interface JudgedShard {
  /** The result as the merged report holds it. */
  result: GateResult;
  /**
   * Why the result cannot be trusted (it contradicts the config or itself), or null. A
   * rejected result is an `error`, and fails the verdict whatever the gate's mode.
   */
  rejected: string | null;
}

/**
 * The command a result from elsewhere records, checked against the config's: the config's
 * names of variables and secrets, and the result's text only when it is the config's command
 * with some parts replaced by `***` (the job's redaction, which this process cannot repeat
 * without the secrets). Anything else is left out rather than shown as what ran.
 */
function shardCommand(
  gate: ResolvedGate,
  given: GateResult['command'] | undefined,
): GateResult['command'] | undefined {
  if (!given || typeof given.text !== 'string') return undefined;
  const own = gateCommand(gate, (t) => t);
  if (given.text === gate.run) return own;
  return redactionOf(gate.run, given.text)
    ? { ...own, text: given.text, redacted: true }
    : undefined;
}

/**
 * Whether `redacted` is `text` with one or more non-empty parts replaced by `***`. Linear:
 * each literal piece is taken at its first place after the previous one (a glob match), so
 * a hostile result with many `***` cannot make it slow.
 */
export function redactionOf(text: string, redacted: string): boolean {
  const pieces = redacted.split(REDACTED);
  if (pieces.length < 2) return false;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (!text.startsWith(first)) return false;
  let pos = first.length;
  for (const piece of pieces.slice(1, -1)) {
    const at = text.indexOf(piece, pos + 1);
    if (at < 0) return false;
    pos = at + piece.length;
  }
  return text.length - last.length >= pos + 1 && text.endsWith(last);
}

/** What the runner's redaction writes in place of a secret value. */
const REDACTED = '***';

const BAD: ReadonlySet<GateStatus> = new Set(['failed', 'error', 'timeout', 'interrupted']);

/**
 * Judge one result against `pipeline`. A gate the config does not have, a `commandSha256`
 * other than the config's command's, a summary that disagrees with its own findings, or a
 * status better than its exit code and evidence give under the config's policy (judged by the
 * same rules as `evaluateGate`) rejects it: it becomes `error` with a reason that says which.
 * A status worse than the evidence shows is kept (a result may know of a problem its summary
 * cannot show, such as a command that could not start).
 */
export async function judgeShard(
  pipeline: ResolvedPipeline,
  shard: GateResult,
  opts: ShardOptions = {},
): Promise<JudgedShard> {
  const gate = pipeline.gates.find((g) => g.id === shard.id);
  if (!gate) {
    const reason = `not a gate of pipeline ${pipeline.name} in the config; a result cannot add a gate`;
    return {
      result: {
        ...shard,
        // Nothing in the config says what this gate is: it counts as blocking.
        mode: 'blocking',
        status: 'error',
        reason,
        cached: null,
        thresholds: [],
      },
      rejected: reason,
    };
  }
  const ownStatus: GateStatus | undefined =
    shard.status === 'cached' ? shard.cached?.status : shard.status;
  const rest: GateResult = { ...shard };
  delete rest.command;
  delete rest.tools;
  const command = shardCommand(gate, shard.command);
  const base: GateResult = {
    ...rest,
    id: gate.id,
    kind: gate.kind,
    mode: gate.mode,
    ...(command ? { command } : {}),
    needs: [...gate.needs],
    // What the job saw (its runtime, its evidence, its node_modules) is kept as the job said
    // it; what the config declares comes from the config.
    ...toolsOf(
      gate,
      (shard.tools ?? [])
        .filter((t) => t.source === 'evidence')
        .map(({ name, version }) => ({ name, version })),
      (shard.tools ?? []).filter((t) => t.source === 'runtime' || t.source === 'installed'),
    ),
  };
  const contradictions: string[] = [];
  const commandSha256 = sha256(gate.run);
  if (shard.commandSha256 !== commandSha256)
    contradictions.push(
      `its commandSha256 ${shard.commandSha256} is not the sha256 of the config's command (${commandSha256})`,
    );
  if (ownStatus === undefined || ownStatus === 'cached')
    contradictions.push('it says cached, but not what the cached run was');
  contradictions.push(...summaryContradictions(shard));
  if (opts.commit) contradictions.push(...commitContradictions(shard, opts.commit));

  let judged: Judgement | null = null;
  let status: GateStatus = ownStatus ?? 'error';
  let reason = shard.reason;
  if (ownStatus === 'skipped') {
    if (shard.exitCode !== null)
      contradictions.push(`it says skipped, but has exit code ${shard.exitCode}`);
  } else if (ownStatus !== undefined && ownStatus !== 'cached') {
    judged = await judgeRun(
      gate,
      {
        exitCode: shard.exitCode,
        signal: null,
        timedOut: ownStatus === 'timeout',
        interrupted: ownStatus === 'interrupted',
        spawnError: null,
        refusals: [],
        evidenceProblems: evidenceProblems(gate.evidence, shard),
        parsed: parsedOf(shard),
      },
      {
        rootDir: opts.rootDir ?? pipeline.rootDir,
        ...(opts.baseline ? { baseline: opts.baseline } : {}),
      },
    );
    if (ownStatus === 'passed' && judged.status !== 'passed') {
      contradictions.push(
        `the result says passed, but judged by the config it is ${judged.status} (${judged.reason ?? 'no reason'})`,
      );
    } else if (ownStatus === 'passed' || (ownStatus !== 'error' && BAD.has(judged.status))) {
      // The config's own words for a pass, a failure, a timeout or an interrupt.
      status = judged.status;
      reason = judged.reason;
    }
  }
  const thresholds = judged?.thresholds ?? [];
  if (contradictions.length) {
    const why = contradictions.join('; ');
    return {
      result: { ...base, status: 'error', reason: why, cached: null, thresholds },
      rejected: why,
    };
  }
  const result: GateResult =
    shard.status === 'cached'
      ? { ...base, reason, thresholds, cached: { ...shard.cached!, status } }
      : { ...base, status, reason, thresholds };
  return { result, rejected: null };
}

/**
 * Why a result cannot count for the commit being merged: it names another commit, or none. A
 * result left from an earlier build (a kept workspace, a cached or re-used artifact) must not
 * stand for this one.
 */
function commitContradictions(shard: GateResult, commit: string): string[] {
  const short = (c: string): string => c.slice(0, 12);
  const own = shard.git?.commit;
  if (own === undefined)
    return [`it names no commit, and this merge is of commit ${short(commit)}`];
  if (own === null)
    return [`it was not run in a git checkout, and this merge is of commit ${short(commit)}`];
  if (own !== commit)
    return [`it is a result of commit ${short(own)}, not of commit ${short(commit)} being merged`];
  return [];
}

/** The evidence the config asks for that the result does not vouch for. */
function evidenceProblems(
  expected: ResolvedPipeline['gates'][number]['evidence'],
  shard: GateResult,
): string[] {
  const problems: string[] = [];
  for (const ev of expected) {
    if (ev.format === 'exitcode' || ev.path === null) continue;
    const file = shard.evidence.files.find((f) => f.format === ev.format && f.path === ev.path);
    if (!file) problems.push(`evidence ${ev.path} (${ev.format}): not in the result`);
    else if (file.sha256 === null)
      problems.push(
        `evidence ${ev.path} (${ev.format}): the result has no digest of it (not read)`,
      );
  }
  return problems;
}

function parsedOf(shard: GateResult): ParsedEvidence {
  const e = shard.evidence;
  return {
    ...(e.lint ? { lint: e.lint } : {}),
    ...(e.tests ? { tests: e.tests } : {}),
    ...(e.coverage ? { coverage: e.coverage } : {}),
    ...(e.a11y ? { a11y: e.a11y } : {}),
    ...(e.sonar ? { sonar: e.sonar } : {}),
    findings: e.findings,
  };
}

/**
 * Summaries are computed from every finding, and the result lists the first findings (errors
 * first): counts below what the listed findings show, or different from them when all are
 * listed, were edited.
 */
function summaryContradictions(shard: GateResult): string[] {
  const e = shard.evidence;
  const out: string[] = [];
  const all = e.findings.length === e.findingsTotal;
  if (e.findings.length > e.findingsTotal)
    out.push(`it lists ${e.findings.length} findings but says there are ${e.findingsTotal}`);
  const agrees = (claimed: number, listed: number): boolean =>
    all ? claimed === listed : claimed >= listed;
  const lint = lintSummaryOf(e.findings.filter((f) => f.fingerprint.startsWith('lint:')));
  if (
    e.lint
      ? !agrees(e.lint.errors, lint.errors) || !agrees(e.lint.warnings, lint.warnings)
      : lint.errors + lint.warnings > 0
  )
    out.push(
      `its lint summary (${e.lint?.errors ?? 0} errors, ${e.lint?.warnings ?? 0} warnings) does not match its findings (${lint.errors} errors, ${lint.warnings} warnings)`,
    );
  const a11y = a11ySummaryOf(
    e.findings.filter((f) => f.fingerprint.startsWith('a11y:')),
    e.a11y?.pages ?? 0,
  );
  const impacts = [...IMPACTS, 'unknown'] as const;
  if (
    e.a11y
      ? !agrees(e.a11y.violations, a11y.violations) ||
        impacts.some((i) => !agrees(e.a11y!.byImpact[i], a11y.byImpact[i]))
      : a11y.violations > 0
  )
    out.push(
      `its accessibility summary (${e.a11y?.violations ?? 0} violations) does not match its findings (${a11y.violations} violations)`,
    );
  return out;
}
