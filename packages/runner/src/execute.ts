import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import {
  newRunId,
  projectStateKey,
  runDirOf,
  unmetCondition,
  type StateKeyResult,
} from '@gatehouse-ci/core';
import type {
  ExecuteOptions,
  GateResult,
  ResolvedGate,
  ResolvedPipeline,
  RunEvent,
  RunReport,
  SetupRecord,
} from '@gatehouse-ci/core';
import { GateCache } from './cache.js';
import { allSecretNames, baseEnv, checkSecrets, secretValues } from './env.js';
import { missReasons, type GateExplanation } from './explain.js';
import { gateKeys } from './keys.js';
import { matchFiles } from './glob.js';
import { HashIndex, hashIndexPath } from './hash-index.js';
import { acquireRunLock } from './lock.js';
import { publishLatest } from './latest.js';
import { LogSink, type LogStreamFactory } from './log-sink.js';
import { textRedactor } from './redact.js';
import { manifestKey, setupManifest, type GateManifest } from './manifest.js';
import { runProcess, type ProcessOutcome } from './proc.js';
import {
  checkSandbox,
  diagnoseSandboxFailure,
  GateSandbox,
  readLogForNames,
  type PreparedSandbox,
} from './sandbox.js';
import {
  appendLedger,
  buildReport,
  cachedResult,
  judge,
  skippedResult,
  writeReport,
  type GateOutcome,
} from './results.js';
import { lastDurations, remainingPaths, SlotQueue } from './schedule.js';
import { selectRunGates } from './select.js';

/** Executor name written into results and reports. */
export const EXECUTOR = 'local';

/** Defaults of {@link LocalExecuteOptions}. */
export const DEFAULTS = {
  killGraceMs: 5_000,
  logCapBytes: 50 * 1024 * 1024,
  cacheMaxBytes: 500 * 1024 * 1024,
  lockWaitMs: 0,
} as const;

/** In an `--only` run, cache entries used this recently are never evicted (a sibling run may be restoring them). */
const SHARED_EVICT_SPARE_MS = 60 * 60 * 1000;

/** Output of one gate sent as `gate-output` events at most; the log file has all of it. */
const OUTPUT_EVENT_CAP = 1024 * 1024;

/** Options of the local executor: the common {@link ExecuteOptions} plus its own. */
export interface LocalExecuteOptions extends ExecuteOptions {
  /**
   * Run exactly these gates: no setup and no needs (a CI job did those). Takes precedence
   * over `gates`.
   */
  only?: string[];
  /** @default a sortable id from the start time plus random bits */
  runId?: string;
  /** Time between TERM and KILL when stopping a gate's process tree. @default 5000 */
  killGraceMs?: number;
  /** Bytes of each log kept on disk; the rest is hashed but not written. @default 50 MiB */
  logCapBytes?: number;
  /** Cache size above which least recently used entries are evicted. @default 500 MiB */
  cacheMaxBytes?: number;
  /** How long to wait for another run's lock. @default 0 (refuse at once) */
  lockWaitMs?: number;
  /** Opens log files; inject to simulate write failures. */
  createLogStream?: LogStreamFactory;
  /** Emit `gate-output` events (redacted; the first 1 MiB of each gate's output). @default true */
  emitOutput?: boolean;
  /** Version written into the report. @default the report package's version */
  gatehouseVersion?: string;
  /** Receives, per gate, whether it ran or came from the cache and why. */
  onExplain?: (e: GateExplanation) => void;
  /**
   * Run each gate in a bubblewrap sandbox that shows only what its key covers (see
   * `sandbox.ts`). Throws `GH_SANDBOX_UNAVAILABLE` before anything runs when bwrap is missing
   * or cannot make a sandbox. @default false
   */
  sandbox?: boolean;
  /** With `sandbox`: at most this many sandboxed reruns to find a failing gate's missing files. @default 16 */
  sandboxProbeRuns?: number;
}

/** Where one run's files live. */
export function runPaths(stateDir: string, runId: string) {
  const runDir = runDirOf(stateDir, runId);
  return {
    runDir,
    logsDir: join(runDir, 'logs'),
    outDir: join(runDir, 'out'),
    gateLog: (id: string) => join(runDir, 'logs', `${id}.log`),
    gateOut: (id: string) => join(runDir, 'out', id),
    // Not in logs/, where any gate id (`setup` too) names a log.
    setupLog: join(runDir, 'setup.log'),
    reportDir: join(stateDir, 'report'),
  };
}

const nowIso = () => new Date().toISOString();

/** A need lets its dependants run when it passed (or its cached result passed), or is advisory. */
function needOk(gate: ResolvedGate, r: GateResult): boolean {
  if (gate.mode === 'advisory') return true;
  return r.status === 'passed' || (r.status === 'cached' && r.cached?.status === 'passed');
}

/** A blocking gate whose result stops a fail-fast run. */
function failsRun(gate: ResolvedGate, r: GateResult): boolean {
  if (gate.mode === 'advisory') return false;
  return !(
    r.status === 'passed' ||
    r.status === 'skipped' ||
    (r.status === 'cached' && r.cached?.status === 'passed')
  );
}

/**
 * Run the pipeline's gates as local processes and return the unified report (also written
 * to `<stateDir>/runs/<runId>/` and copied to `<stateDir>/report/`).
 *
 * Throws before anything runs when a gate is unknown (`GH_UNKNOWN_GATE`), a secret is
 * missing (`GH_SECRETS_MISSING`, all of them listed) or a conflicting run holds the lock
 * (`GH_LOCKED`): a full run needs the project to itself, `--only` runs of different gates
 * share it. Everything that goes wrong once gates run ends up in the report instead.
 */
export async function execute(
  pipeline: ResolvedPipeline,
  options: Partial<LocalExecuteOptions> = {},
): Promise<RunReport> {
  const rootDir = pipeline.rootDir;
  const stateDir = options.stateDir ?? join(rootDir, '.gatehouse');
  const env = options.env ?? process.env;
  const only = options.only ?? [];
  const noCache = options.noCache ?? false;
  const failFast = options.failFast ?? false;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism()));
  const killGraceMs = options.killGraceMs ?? DEFAULTS.killGraceMs;
  const logCapBytes = options.logCapBytes ?? DEFAULTS.logCapBytes;
  const emitOutput = options.emitOutput ?? true;
  const userSignal = options.signal ?? new AbortController().signal;
  const emit = (e: RunEvent) => {
    try {
      options.onEvent?.(e);
    } catch {
      // A broken progress sink must not break the run.
    }
  };

  const selected = selectRunGates(pipeline, options.gates ?? [], only);
  const setup = only.length === 0 ? pipeline.setup : null;
  // A gate whose `when` does not hold is skipped, and its secrets are not required.
  const unmet = new Map<string, string>();
  for (const g of selected) {
    const why = unmetCondition(g, env);
    if (why !== null) unmet.set(g.id, why);
  }
  checkSecrets(
    selected.filter((g) => !unmet.has(g.id)),
    setup,
    env,
  );
  const bwrap = options.sandbox ? await checkSandbox(env.PATH) : null;

  const runId = options.runId ?? newRunId();
  // `--only` runs (no setup) share the workspace; a full run has it to itself.
  const lock = await acquireRunLock(stateDir, {
    runId,
    waitMs: options.lockWaitMs ?? DEFAULTS.lockWaitMs,
    sharedGates: only.length > 0 ? selected.map((g) => g.id) : [],
  });
  try {
    const paths = runPaths(stateDir, runId);
    await mkdir(paths.logsDir, { recursive: true });
    await mkdir(paths.outDir, { recursive: true });
    const startedAt = nowIso();
    emit({ type: 'run-start', at: startedAt, gates: selected.map((g) => g.id) });

    const secretNames = allSecretNames(pipeline);
    const redact = secretValues(secretNames, env);
    // Evidence, log tails and reasons enter the results (report, cache, CI shards) redacted.
    const redactString = textRedactor(redact);
    const inherited = baseEnv(env, secretNames);
    const stateKey = await projectStateKey(rootDir);
    const cache = new GateCache(stateDir, stateKey.key);
    const hashIndex = await HashIndex.load(hashIndexPath(stateDir), stateKey.key, !noCache);
    if (stateKey.problem !== null && !noCache)
      emit({
        type: 'message',
        at: nowIso(),
        level: 'warn',
        text: `the cache is not used: ${stateKey.problem}`,
      });
    const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
    const inRun = new Set(selected.map((g) => g.id));

    // A single controller stops every running process: user abort or fail-fast.
    const stopAll = new AbortController();
    let stopReason: string | null = null;
    const onUserAbort = () => {
      stopReason ??= 'run interrupted';
      stopAll.abort();
    };
    if (userSignal.aborted) onUserAbort();
    else userSignal.addEventListener('abort', onUserAbort, { once: true });

    const sinkFor = (path: string) =>
      new LogSink(path, logCapBytes, redact, options.createLogStream);

    // ---- setup -------------------------------------------------------------
    let setupKey: string | null = null;
    if (pipeline.setup)
      setupKey = manifestKey(await setupManifest(pipeline.setup, rootDir, hashIndex));
    let setupFailure: string | null = null;
    let setupRecord: SetupRecord | undefined;
    if (setup && stopReason === null) {
      const t0 = Date.now();
      const setupStartedAt = nowIso();
      const record = (status: SetupRecord['status']): SetupRecord => ({
        status,
        startedAt: setupStartedAt,
        finishedAt: nowIso(),
        durationMs: Date.now() - t0,
      });
      emit({ type: 'setup-start', at: setupStartedAt });
      if (!noCache && (await cache.readSetupKey()) === setupKey) {
        setupRecord = record('cached');
        emit({
          type: 'setup-end',
          at: nowIso(),
          ok: true,
          durationMs: Date.now() - t0,
          cached: true,
        });
      } else {
        const sink = sinkFor(paths.setupLog);
        const out = await runProcess({
          command: setup.run,
          runToken: lock.token,
          cwd: rootDir,
          env: {
            ...inherited,
            ...setup.env,
            ...pick(env, setup.secrets),
            GATEHOUSE_RUN_ID: runId,
          },
          timeoutMs: setup.timeoutMs,
          killGraceMs,
          signal: stopAll.signal,
          sink,
        });
        await sink.close();
        const ok =
          out.exitCode === 0 && !out.interrupted && !out.timedOut && out.spawnError === null;
        if (ok && setupKey !== null) await cache.writeSetupKey(setupKey).catch(() => undefined);
        if (!ok && !out.interrupted)
          setupFailure = `setup ${describeFailure(out)}; see ${relative(rootDir, paths.setupLog)}`;
        setupRecord = record(ok ? 'passed' : 'failed');
        emit({ type: 'setup-end', at: nowIso(), ok, durationMs: Date.now() - t0, cached: false });
      }
    }

    // ---- keys ----------------------------------------------------------------
    const keys = gateKeys(pipeline, setupKey, { sandbox: bwrap !== null, hashIndex });
    // After setup: what setup made is part of what every sandbox shows.
    const sandbox =
      bwrap === null
        ? null
        : await GateSandbox.open({
            bwrap,
            rootDir,
            workDir: join(paths.runDir, 'sandbox'),
            env: inherited,
          });

    // ---- process slots: only running processes count against `concurrency` ---------------
    // Critical path first: a free slot goes to the ready gate with the longest path left.
    const slots = new SlotQueue(concurrency);
    const priority = remainingPaths(selected, await lastDurations(stateDir));
    let stored = 0;

    // ---- one gate ------------------------------------------------------------
    const runGate = async (gate: ResolvedGate): Promise<GateResult> => {
      slots.preparing();
      let prepared: Awaited<ReturnType<typeof prepareGate>>;
      try {
        prepared = await prepareGate(gate);
      } catch (err) {
        slots.prepared();
        throw err;
      }
      if (prepared.result) {
        slots.prepared();
        return prepared.result;
      }
      await slots.ready(priority.get(gate.id) ?? 0);
      try {
        return await runProcessGate(gate, prepared.keyed);
      } finally {
        slots.release();
      }
    };

    /** Key a gate and look it up: its cached result, or the key it runs under (null: not cacheable). */
    const prepareGate = async (
      gate: ResolvedGate,
    ): Promise<
      | { result: GateResult; keyed?: undefined }
      | { result?: undefined; keyed: { key: string; manifest: GateManifest } | null }
    > => {
      const logPath = paths.gateLog(gate.id);
      const outDir = paths.gateOut(gate.id);
      const notCacheable = await keys.notCacheable(gate);
      let keyed: { key: string; manifest: GateManifest } | null = null;
      if (notCacheable === null) {
        keyed = await keys.keyOf(gate.id);
        let reasons: string[];
        if (noCache) reasons = ['--no-cache'];
        else if (!cache.enabled) reasons = [`cache not used (${stateKey.problem})`];
        else {
          const found = await cache.lookup(keyed.key);
          let unrestored: string | null = null;
          if (found.kind === 'hit') {
            await rm(outDir, { recursive: true, force: true });
            try {
              await cache.restore(found.dir, found.entry, {
                logPath,
                evidenceDir: outDir,
                rootDir,
              });
            } catch (err) {
              unrestored = (err as Error).message;
            }
          }
          if (found.kind === 'hit' && unrestored === null) {
            await cache.writeIndex(gate.id, keyed.key, keyed.manifest).catch(() => undefined);
            options.onExplain?.({
              id: gate.id,
              action: 'cached',
              key: keyed.key,
              reasons: [`unchanged since run ${found.entry.runId}`],
            });
            const r = cachedResult(found.entry.result, keyed.key, found.entry.runId);
            return { result: { ...r, log: { ...r.log, path: logPath } } };
          }
          if (unrestored !== null) {
            emit({
              type: 'message',
              at: nowIso(),
              level: 'warn',
              text: `cache entry ${keyed.key.slice(0, 12)} of gate ${gate.id} cannot be restored (${unrestored}); running the gate`,
            });
            reasons = [`cache entry not restored (${unrestored})`];
          } else if (found.kind === 'corrupt') {
            emit({
              type: 'message',
              at: nowIso(),
              level: 'warn',
              text: `cache entry ${keyed.key.slice(0, 12)} of gate ${gate.id} is damaged (${found.reason}); ignored and removed, running the gate`,
            });
            reasons = [`cache entry damaged (${found.reason})`];
          } else reasons = await missReasons(cache, gate.id, keyed.key, keyed.manifest);
        }
        options.onExplain?.({ id: gate.id, action: 'run', key: keyed.key, reasons });
      } else {
        options.onExplain?.({ id: gate.id, action: 'run', key: null, reasons: [notCacheable] });
      }

      return { keyed };
    };

    /** Runs a gate's command (in its sandbox when `boxed`), timed from its start. */
    const startGate = async (
      gate: ResolvedGate,
      outDir: string,
      sink: ReturnType<typeof sinkFor>,
      boxed: PreparedSandbox | null,
      output?: Parameters<typeof runProcess>[0]['onOutput'],
    ) => {
      const t0 = Date.now();
      const startedAt = nowIso();
      const proc = await runProcess({
        command: gate.run,
        runToken: lock.token,
        cwd: rootDir,
        env: gateEnv(gate, outDir),
        timeoutMs: gate.timeoutMs,
        killGraceMs,
        signal: stopAll.signal,
        sink,
        onOutput: output,
        ...(boxed ? { wrap: boxed.wrap } : {}),
      });
      return { proc, t0, startedAt };
    };

    /** What a gate's process did, for judging; `log` is its closed log. */
    const outcomeOf = (
      gate: ResolvedGate,
      { proc, t0, startedAt }: Awaited<ReturnType<typeof startGate>>,
      outDir: string,
      logPath: string,
      log: Awaited<ReturnType<ReturnType<typeof sinkFor>['close']>>,
    ): GateOutcome => ({
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
    });

    const runProcessGate = async (
      gate: ResolvedGate,
      keyed: { key: string; manifest: GateManifest } | null,
    ): Promise<GateResult> => {
      const logPath = paths.gateLog(gate.id);
      const outDir = paths.gateOut(gate.id);
      if (stopAll.signal.aborted)
        return skippedResult(gate, stopReason ?? 'run interrupted', EXECUTOR);
      await rm(outDir, { recursive: true, force: true });
      await mkdir(outDir, { recursive: true });
      emit({ type: 'gate-start', at: nowIso(), id: gate.id });
      const sink = sinkFor(logPath);
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
        ? await sandbox.visibleFiles(gate, keyed?.manifest.inputs.map((i) => i.path) ?? null, byId)
        : [];
      const boxed = sandbox ? await sandbox.prepare(gate.id, visible, outDir) : null;
      const started = await startGate(gate, outDir, sink, boxed, emitOutput ? onOutput : undefined);
      // The output is over: what the redactor held back (it could have begun a secret) is final.
      const rest = sink.end();
      if (emitOutput) {
        if (rest.redacted.length > 0) onOutput(rest.stream, rest.redacted);
        if (eventBytes < OUTPUT_EVENT_CAP) sendOutput(rest.stream, decoder.end());
      }
      const log = await sink.close();
      const outcome = outcomeOf(gate, started, outDir, logPath, log);
      const toolEnv = gateEnv(gate, outDir);
      let result = await judge(gate, outcome, rootDir, log.writeError, redactString, toolEnv);
      if (sandbox && boxed) result = await settleSandboxed(gate, result, boxed, visible);
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
          await cache.store({
            key: keyed.key,
            runId,
            manifest: keyed.manifest,
            result,
            logPath,
            evidenceDir: outDir,
            rootDir,
            outputs,
          });
          stored++;
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
    };

    const gateEnv = (gate: ResolvedGate, outDir: string): Record<string, string> => ({
      ...inherited,
      ...gate.env,
      ...pick(env, gate.secrets),
      GATEHOUSE_OUT: outDir,
      GATEHOUSE_GATE: gate.id,
      GATEHOUSE_RUN_ID: runId,
    });

    /**
     * One more run of a gate, outside the sandbox or in one showing `extra` files too, with its
     * own log and `$GATEHOUSE_OUT` under the run's `sandbox/` directory: judged, never reported.
     */
    const rerun = async (
      gate: ResolvedGate,
      how: { sandboxed: false } | { sandboxed: true; files: string[] },
      name: string,
    ): Promise<{ result: GateResult; logPath: string }> => {
      const dir = join(paths.runDir, 'sandbox', 'reruns', gate.id);
      const outDir = join(dir, `${name}-out`);
      const logPath = join(dir, `${name}.log`);
      await rm(outDir, { recursive: true, force: true });
      await mkdir(outDir, { recursive: true });
      const boxed: PreparedSandbox | null = how.sandboxed
        ? await sandbox!.prepare(gate.id, how.files, outDir)
        : null;
      try {
        const sink = sinkFor(logPath);
        const started = await startGate(gate, outDir, sink, boxed);
        sink.end();
        const log = await sink.close();
        const outcome = outcomeOf(gate, started, outDir, logPath, log);
        return {
          result: await judge(gate, outcome, rootDir, log.writeError, redactString),
          logPath,
        };
      } finally {
        await boxed?.dispose();
      }
    };

    /**
     * A sandboxed gate's result, final: a pass has its outputs copied into the project; a gate
     * that did not pass is run again outside the sandbox, and when it passes there, it is an
     * `error` naming the files it is missing.
     */
    const settleSandboxed = async (
      gate: ResolvedGate,
      result: GateResult,
      boxed: PreparedSandbox,
      visible: string[],
    ): Promise<GateResult> => {
      try {
        const marked: GateResult = { ...result, sandbox: true };
        if (result.status === 'passed') {
          const problems = await sandbox!.copyOutputs(boxed, gate.outputs);
          if (problems.length === 0) return marked;
          return {
            ...marked,
            status: 'error',
            reason: redactString(
              `outputs could not be copied out of the sandbox: ${problems.slice(0, 5).join('; ')}`,
            ),
          };
        }
        // A timeout, an interruption or a gate that never started says nothing about inputs.
        if (
          (result.status !== 'failed' && result.status !== 'error') ||
          stopAll.signal.aborted ||
          result.exitCode === null
        )
          return marked;
        const outside = await rerun(gate, { sandboxed: false }, 'outside');
        if (stopAll.signal.aborted) return marked;
        const shownLog = relative(rootDir, outside.logPath);
        if (outside.result.status !== 'passed') {
          const note = `fails outside the sandbox too (${outside.result.status}; log ${shownLog})`;
          return { ...marked, reason: marked.reason ? `${marked.reason}; ${note}` : note };
        }
        const reason = await diagnoseSandboxFailure({
          sandbox: sandbox!,
          gate,
          gates: pipeline.gates,
          visible,
          logPath: result.log.path,
          maxRuns: options.sandboxProbeRuns ?? 16,
          probe: async (extra, n) => {
            if (stopAll.signal.aborted) return { passed: false, log: '' };
            const name = `try-${n}`;
            const r = await rerun(gate, { sandboxed: true, files: [...visible, ...extra] }, name);
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
          reason: redactString(`${reason} (outside the sandbox it passes: log ${shownLog})`),
        };
      } finally {
        await boxed.dispose();
      }
    };

    // ---- scheduling ----------------------------------------------------------
    const results = new Map<string, GateResult>();
    const finish = (gate: ResolvedGate, r: GateResult) => {
      results.set(gate.id, r);
      emit({ type: 'gate-end', at: nowIso(), id: gate.id, result: r });
    };
    const pending = [...selected];
    let running = 0;
    await new Promise<void>((done) => {
      const pump = () => {
        let progressed = true;
        while (progressed) {
          progressed = false;
          for (let i = 0; i < pending.length; i++) {
            const gate = pending[i]!;
            let skip: string | null = null;
            if (setupFailure !== null) skip = setupFailure;
            else if (stopReason !== null) skip = stopReason;
            else if (unmet.has(gate.id)) skip = unmet.get(gate.id)!;
            else {
              const needs = gate.needs.filter((n) => inRun.has(n));
              if (!needs.every((n) => results.has(n))) continue;
              const blocker = needs.find((n) => !needOk(byId.get(n)!, results.get(n)!));
              if (blocker !== undefined) {
                const st = results.get(blocker)!.status;
                skip =
                  st === 'skipped'
                    ? `needs ${blocker} which was skipped`
                    : `needs ${blocker} which ${st === 'failed' ? 'failed' : `ended ${st}`}`;
              }
            }
            pending.splice(i, 1);
            i--;
            progressed = true;
            if (skip !== null) {
              finish(gate, skippedResult(gate, skip, EXECUTOR));
              continue;
            }
            running++;
            void runGate(gate)
              .catch((err: unknown): GateResult => ({
                ...skippedResult(gate, `internal error: ${(err as Error).message}`, EXECUTOR),
                status: 'error',
              }))
              .then((r) => {
                running--;
                finish(gate, r);
                if (failFast && stopReason === null && failsRun(gate, r)) {
                  stopReason = `fail-fast: ${gate.id} ${r.status}`;
                  stopAll.abort();
                }
                pump();
              });
          }
        }
        slots.dispatch();
        if (pending.length === 0 && running === 0) done();
      };
      pump();
    });
    userSignal.removeEventListener('abort', onUserAbort);
    // Only hints for the next run's hashing: failing to save costs it a rehash.
    await hashIndex.save().catch(() => undefined);

    // ---- report ----------------------------------------------------------------
    const gates = selected.map((g) => results.get(g.id)!);
    const report = await buildReport({
      pipeline,
      gates,
      executor: EXECUTOR,
      startedAt,
      finishedAt: nowIso(),
      runId,
      rootDir,
      env,
      ...(options.gatehouseVersion ? { gatehouseVersion: options.gatehouseVersion } : {}),
      ...(setupRecord ? { setup: setupRecord } : {}),
    });
    // A run that stopped early never passes, even when no blocking gate got to fail.
    const runProblem = userSignal.aborted ? 'run interrupted' : setupFailure;
    if (runProblem !== null) {
      report.verdict = {
        ...report.verdict,
        status: 'failed',
        reasons: [
          runProblem,
          ...report.verdict.reasons.filter(
            (r) => !r.startsWith('every blocking gate') && r !== 'no blocking gates',
          ),
        ],
      };
    }
    const written = await writeReport(report, paths.runDir);
    await publishLatest(
      paths.reportDir,
      [
        written.htmlPath,
        written.mdPath,
        written.junitPath,
        written.sarifPath,
        written.dssePath,
        written.vsaPath,
        written.jsonPath,
      ].filter((p): p is string => p !== null),
    );
    if (resolve(stateDir) === resolve(rootDir, '.gatehouse') && written.report.integrity) {
      await appendLedger(rootDir, { runId, reportDigest: written.report.integrity.digest });
    }
    try {
      // Only new entries can push the cache over its cap.
      // Runs sharing the workspace may be restoring entries right now: spare recently used ones.
      if (stored > 0)
        await cache.evict(
          options.cacheMaxBytes ?? DEFAULTS.cacheMaxBytes,
          only.length > 0 ? { spareUsedWithinMs: SHARED_EVICT_SPARE_MS } : {},
        );
    } catch (err) {
      emit({
        type: 'message',
        at: nowIso(),
        level: 'warn',
        text: `cache eviction failed: ${(err as Error).message}`,
      });
    }
    emit({ type: 'run-end', at: nowIso(), report: written.report });
    return written.report;
  } finally {
    await lock.release();
  }
}

function pick(
  env: Record<string, string | undefined>,
  names: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = env[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

function describeFailure(p: ProcessOutcome): string {
  if (p.interrupted) return 'was interrupted';
  if (p.timedOut) return 'timed out';
  if (p.spawnError) return `could not start (${p.spawnError})`;
  if (p.exitCode !== null) return `exited with code ${p.exitCode}`;
  return `was killed by ${p.signal ?? 'a signal'}`;
}

/**
 * For each selected gate, whether a run now would use the cache and why, without running
 * anything.
 */
export async function explain(
  pipeline: ResolvedPipeline,
  options: {
    gates?: string[];
    only?: string[];
    noCache?: boolean;
    stateDir?: string;
    /** Environment `when` conditions are checked against. @default process.env */
    env?: Record<string, string | undefined>;
  } = {},
): Promise<GateExplanation[]> {
  const rootDir = pipeline.rootDir;
  const stateKey = await projectStateKey(rootDir);
  const stateDir = options.stateDir ?? join(rootDir, '.gatehouse');
  const cache = new GateCache(stateDir, stateKey.key);
  const hashIndex = await HashIndex.load(hashIndexPath(stateDir), stateKey.key, !options.noCache);
  try {
    return await explainWith(pipeline, options, { rootDir, stateKey, cache, hashIndex });
  } finally {
    await hashIndex.save().catch(() => undefined);
  }
}

async function explainWith(
  pipeline: ResolvedPipeline,
  options: Parameters<typeof explain>[1] & object,
  ctx: { rootDir: string; stateKey: StateKeyResult; cache: GateCache; hashIndex: HashIndex },
): Promise<GateExplanation[]> {
  const { rootDir, stateKey, cache, hashIndex } = ctx;
  const selected = selectRunGates(pipeline, options.gates ?? [], options.only ?? []);
  const setupKey = pipeline.setup
    ? manifestKey(await setupManifest(pipeline.setup, rootDir, hashIndex))
    : null;
  const keys = gateKeys(pipeline, setupKey, { hashIndex });
  const out: GateExplanation[] = [];
  const env = options.env ?? process.env;
  for (const g of selected) {
    const why = unmetCondition(g, env);
    if (why !== null) {
      out.push({ id: g.id, action: 'skip', key: null, reasons: [why] });
      continue;
    }
    const notCacheable = await keys.notCacheable(g);
    if (notCacheable !== null) {
      out.push({ id: g.id, action: 'run', key: null, reasons: [notCacheable] });
      continue;
    }
    const { key, manifest } = await keys.keyOf(g.id);
    if (options.noCache) out.push({ id: g.id, action: 'run', key, reasons: ['--no-cache'] });
    else if (!cache.enabled)
      out.push({ id: g.id, action: 'run', key, reasons: [`cache not used (${stateKey.problem})`] });
    else if (await cache.has(key))
      out.push({
        id: g.id,
        action: 'cached',
        key,
        reasons: ['inputs, command, env and needs unchanged'],
      });
    else
      out.push({
        id: g.id,
        action: 'run',
        key,
        reasons: await missReasons(cache, g.id, key, manifest),
      });
  }
  return out;
}
