/**
 * Running one gate's process: its log and `$GATEHOUSE_OUT`, its output events, its judged
 * result, a pass stored in the cache, and in a sandbox the reruns that name what it missed.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { shellQuote, type GateResult, type ResolvedGate } from '@gatehouse-ci/core';
import { EXECUTOR, nowIso, pick, type RunContext } from './context.js';
import { directScript } from './direct-script.js';
import { matchFiles } from './glob.js';
import type { LogSink, LogSummary } from './log-sink.js';
import type { Keyed } from './lookup.js';
import { runProcess, type ProcessOutcome } from './proc.js';
import { judge, skippedResult, type GateOutcome } from './results.js';
import {
  diagnoseSandboxFailure,
  readLogForNames,
  type GateSandbox,
  type PreparedSandbox,
} from './sandbox.js';

/** Output of one gate sent as `gate-output` events at most; the log file has all of it. */
const OUTPUT_EVENT_CAP = 1024 * 1024;

/** A started gate process, timed from its start. */
interface Started {
  proc: ProcessOutcome;
  t0: number;
  startedAt: string;
  /** The package's script was started without its package manager (`packages.direct`). */
  direct: boolean;
}

export interface GateRunnerOptions {
  /** Run gates in this sandbox (null: as plain processes). */
  sandbox: GateSandbox | null;
  /** Send `gate-output` events. */
  emitOutput: boolean;
  /** With a sandbox: at most this many reruns to find a failing gate's missing files. */
  sandboxProbeRuns: number;
}

/** Runs the gates of one run, one call of {@link run} a gate. */
export class GateRunner {
  /** How many passes were stored in the cache (only new entries can push it over its cap). */
  stored = 0;
  readonly #ctx: RunContext;
  readonly #opts: GateRunnerOptions;
  readonly #byId: Map<string, ResolvedGate>;

  constructor(ctx: RunContext, opts: GateRunnerOptions) {
    this.#ctx = ctx;
    this.#opts = opts;
    this.#byId = new Map(ctx.pipeline.gates.map((g) => [g.id, g]));
  }

  /** Run `gate` under its cache key `keyed` (null: not cacheable) and return its result. */
  async run(gate: ResolvedGate, keyed: Keyed): Promise<GateResult> {
    const ctx = this.#ctx;
    const { emit, cache, rootDir, stop } = ctx;
    const { sandbox, emitOutput } = this.#opts;
    const logPath = ctx.paths.gateLog(gate.id);
    const outDir = ctx.paths.gateOut(gate.id);
    if (stop.signal.aborted) return skippedResult(gate, stop.reason ?? 'run interrupted', EXECUTOR);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    emit({ type: 'gate-start', at: nowIso(), id: gate.id });
    const sink = ctx.sinkFor(logPath);
    // One decoder: the sink redacts stdout and stderr as one byte stream, so a character
    // can begin in bytes released for one stream and end in bytes released for the other.
    const decoder = new StringDecoder('utf8');
    let eventBytes = 0;
    const sendOutput = (stream: 'stdout' | 'stderr', text: string) => {
      if (text) emit({ type: 'gate-output', at: nowIso(), id: gate.id, stream, text });
    };
    const onOutput = (stream: 'stdout' | 'stderr', bytes: Buffer) => {
      if (eventBytes >= OUTPUT_EVENT_CAP) return;
      eventBytes += bytes.length;
      sendOutput(stream, decoder.write(bytes));
      if (eventBytes >= OUTPUT_EVENT_CAP) {
        emit({
          type: 'message',
          at: nowIso(),
          level: 'info',
          text: `output of gate ${gate.id} beyond ${OUTPUT_EVENT_CAP / 1024 / 1024} MiB is not sent as events; it is in ${relative(rootDir, logPath)}`,
        });
      }
    };
    const visible = sandbox
      ? await sandbox.visibleFiles(
          gate,
          keyed?.manifest.inputs.map((i) => i.path) ?? null,
          this.#byId,
        )
      : [];
    const boxed = sandbox ? await sandbox.prepare(gate.id, visible, outDir) : null;
    const started = await this.#start(gate, outDir, sink, boxed, emitOutput ? onOutput : undefined);
    // The output is over: what the redactor held back (it could have begun a secret) is final.
    const rest = sink.end();
    if (emitOutput) {
      if (rest.redacted.length > 0) onOutput(rest.stream, rest.redacted);
      if (eventBytes < OUTPUT_EVENT_CAP) sendOutput(rest.stream, decoder.end());
    }
    const log = await sink.close();
    const outcome = outcomeOf(gate, started, outDir, logPath, log);
    // The environment tells which node and package manager the gate ran with (the report's tools).
    let result = await judge(
      gate,
      outcome,
      rootDir,
      log.writeError,
      ctx.redactString,
      this.#env(gate, outDir),
      ctx.pipeline.setup?.run ?? null,
    );
    if (started.direct) result = { ...result, direct: true };
    if (sandbox && boxed) result = await this.#settleSandboxed(gate, result, boxed, visible);
    // Only a pass is stored: a failure may come from the environment (a missing tool,
    // a flaky service) and must run again once that is fixed, as turbo and nx do.
    if (
      keyed !== null &&
      result.status === 'passed' &&
      result.exitCode !== null &&
      !log.truncated
    ) {
      try {
        const outputs = await matchFiles(rootDir, gate.outputs);
        const entry = await cache.store({
          key: keyed.key,
          runId: ctx.runId,
          manifest: keyed.manifest,
          result,
          logPath,
          evidenceDir: outDir,
          rootDir,
          outputs,
        });
        this.stored++;
        await ctx.shared.stored(entry, result.durationMs);
      } catch (err) {
        emit({
          type: 'message',
          at: nowIso(),
          level: 'warn',
          text: `could not store gate ${gate.id} in the cache: ${(err as Error).message}`,
        });
      }
    }
    if (keyed !== null)
      await cache.writeIndex(gate.id, keyed.key, keyed.manifest).catch(() => undefined);
    return result;
  }

  /** Runs a gate's command (in its sandbox when `boxed`), timed from its start. */
  async #start(
    gate: ResolvedGate,
    outDir: string,
    sink: LogSink,
    boxed: PreparedSandbox | null,
    output?: Parameters<typeof runProcess>[0]['onOutput'],
  ): Promise<Started> {
    const ctx = this.#ctx;
    let command = gate.run;
    let env = this.#env(gate, outDir);
    const direct = directScript(gate, ctx.rootDir, env);
    if (typeof direct === 'string') {
      ctx.emit({
        type: 'message',
        at: nowIso(),
        level: 'info',
        text: `gate ${gate.id} runs through ${gate.package!.direct!.manager}, not directly: ${direct}`,
      });
    } else if (direct !== null) {
      command = `printf '%s' ${shellQuote(direct.banner)}\n${direct.command}`;
      env = direct.env;
    }
    const t0 = Date.now();
    const startedAt = nowIso();
    const proc = await runProcess({
      command,
      runToken: ctx.runToken,
      supervisors: ctx.supervisors,
      cwd: ctx.rootDir,
      env,
      timeoutMs: gate.timeoutMs,
      killGraceMs: ctx.killGraceMs,
      signal: ctx.stop.signal,
      sink,
      onOutput: output,
      ...(boxed ? { wrap: boxed.wrap } : {}),
    });
    return { proc, t0, startedAt, direct: direct !== null && typeof direct !== 'string' };
  }

  /** A gate's environment: the inherited one, its own variables and secrets, and Gatehouse's. */
  #env(gate: ResolvedGate, outDir: string): Record<string, string> {
    const ctx = this.#ctx;
    return {
      ...ctx.inherited,
      ...gate.env,
      ...pick(ctx.env, gate.secrets),
      GATEHOUSE_OUT: outDir,
      GATEHOUSE_GATE: gate.id,
      GATEHOUSE_RUN_ID: ctx.runId,
    };
  }

  /**
   * One more run of a gate, outside the sandbox or in one showing `extra` files too, with its
   * own log and `$GATEHOUSE_OUT` under the run's `sandbox/` directory: judged, never reported.
   */
  async #rerun(
    gate: ResolvedGate,
    how: { sandboxed: false } | { sandboxed: true; files: string[] },
    name: string,
  ): Promise<{ result: GateResult; logPath: string }> {
    const ctx = this.#ctx;
    const dir = join(ctx.paths.runDir, 'sandbox', 'reruns', gate.id);
    const outDir = join(dir, `${name}-out`);
    const logPath = join(dir, `${name}.log`);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const boxed: PreparedSandbox | null = how.sandboxed
      ? await this.#opts.sandbox!.prepare(gate.id, how.files, outDir)
      : null;
    try {
      const sink = ctx.sinkFor(logPath);
      const started = await this.#start(gate, outDir, sink, boxed);
      sink.end();
      const log = await sink.close();
      const outcome = outcomeOf(gate, started, outDir, logPath, log);
      return {
        result: await judge(gate, outcome, ctx.rootDir, log.writeError, ctx.redactString),
        logPath,
      };
    } finally {
      await boxed?.dispose();
    }
  }

  /**
   * A sandboxed gate's result, final: a pass has its outputs copied into the project; a gate
   * that did not pass is run again outside the sandbox, and when it passes there, it is an
   * `error` naming the files it is missing.
   */
  async #settleSandboxed(
    gate: ResolvedGate,
    result: GateResult,
    boxed: PreparedSandbox,
    visible: string[],
  ): Promise<GateResult> {
    const ctx = this.#ctx;
    const sandbox = this.#opts.sandbox!;
    const aborted = () => ctx.stop.signal.aborted;
    try {
      const marked: GateResult = { ...result, sandbox: true };
      if (result.status === 'passed') {
        const problems = await sandbox.copyOutputs(boxed, gate.outputs);
        if (problems.length === 0) return marked;
        return {
          ...marked,
          status: 'error',
          reason: ctx.redactString(
            `outputs could not be copied out of the sandbox: ${problems.slice(0, 5).join('; ')}`,
          ),
        };
      }
      // A timeout, an interruption or a gate that never started says nothing about inputs.
      if (
        (result.status !== 'failed' && result.status !== 'error') ||
        aborted() ||
        result.exitCode === null
      )
        return marked;
      const outside = await this.#rerun(gate, { sandboxed: false }, 'outside');
      if (aborted()) return marked;
      const shownLog = relative(ctx.rootDir, outside.logPath);
      if (outside.result.status !== 'passed') {
        const note = `fails outside the sandbox too (${outside.result.status}; log ${shownLog})`;
        return { ...marked, reason: marked.reason ? `${marked.reason}; ${note}` : note };
      }
      const reason = await diagnoseSandboxFailure({
        sandbox,
        gate,
        gates: ctx.pipeline.gates,
        visible,
        logPath: result.log.path,
        maxRuns: this.#opts.sandboxProbeRuns,
        probe: async (extra, n) => {
          if (aborted()) return { passed: false, log: '' };
          const name = `try-${n}`;
          const r = await this.#rerun(
            gate,
            { sandboxed: true, files: [...visible, ...extra] },
            name,
          );
          const log = await readLogForNames(r.logPath);
          // Only the verdict of a probe and the names in its log matter; nothing is kept.
          await rm(r.logPath, { force: true });
          await rm(join(dirname(r.logPath), `${name}-out`), { recursive: true, force: true });
          return { passed: r.result.status === 'passed', log };
        },
      });
      return {
        ...marked,
        status: 'error',
        reason: ctx.redactString(`${reason} (outside the sandbox it passes: log ${shownLog})`),
      };
    } finally {
      await boxed.dispose();
    }
  }
}

/** What a gate's process did, for judging; `log` is its closed log. */
function outcomeOf(
  gate: ResolvedGate,
  { proc, t0, startedAt }: Started,
  outDir: string,
  logPath: string,
  log: LogSummary,
): GateOutcome {
  return {
    id: gate.id,
    exitCode: proc.exitCode,
    signal: proc.signal,
    timedOut: proc.timedOut,
    interrupted: proc.interrupted,
    spawnError: proc.spawnError,
    startedAt,
    finishedAt: nowIso(),
    durationMs: Date.now() - t0,
    outDir,
    log: { path: logPath, sha256: log.sha256, bytes: log.bytes, truncated: log.truncated },
    executor: EXECUTOR,
    image: null,
  };
}
