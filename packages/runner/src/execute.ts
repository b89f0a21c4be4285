/**
 * The local executor's run: checks that need nothing to run (unknown gates, missing secrets,
 * the sandbox), the run lock, then setup, the gates in order and the report. Each step lives
 * in its own module: `setup.ts`, `lookup.ts` (cache keys and lookups), `run-gate.ts` (one
 * gate's process), `schedule.ts` (the order and the process slots) and `report.ts`.
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { newRunId, projectStateKey, runPaths, unmetCondition } from '@gatehouse-ci/core';
import type {
  ExecuteOptions,
  GateResult,
  ResolvedPipeline,
  RunEvent,
  RunReport,
} from '@gatehouse-ci/core';
import { GateCache } from './cache.js';
import { remoteCacheConfig, SharedCache, type RemoteCacheConfig } from './remote-cache.js';
import { nowIso, RunStop, type RunContext } from './context.js';
import { allSecretNames, baseEnv, checkSecrets, secretValues } from './env.js';
import { workspaceOfPackage } from './glob.js';
import { gateKeys, type GateKeys } from './keys.js';
import { HashIndex, hashIndexPath } from './hash-index.js';
import { acquireRunLock } from './lock.js';
import { SupervisorPool } from './proc.js';
import { LogSink, type LogStreamFactory } from './log-sink.js';
import { lookupAll, lookupGate } from './lookup.js';
import { manifestKey, setupManifest } from './manifest.js';
import { textRedactor } from './redact.js';
import { reportRun } from './report.js';
import { GateRunner } from './run-gate.js';
import { checkSandbox, GateSandbox } from './sandbox.js';
import { failsRun, lastDurations, remainingPaths, runScheduled } from './schedule.js';
import { selectRunGates } from './select.js';
import { runSetup, setupUnneeded, type SetupDone } from './setup.js';

export { EXECUTOR } from './context.js';

/** Defaults of {@link LocalExecuteOptions}. */
export const DEFAULTS = {
  killGraceMs: 5_000,
  logCapBytes: 50 * 1024 * 1024,
  cacheMaxBytes: 500 * 1024 * 1024,
  lockWaitMs: 0,
} as const;

/** In an `--only` run, cache entries used this recently are never evicted (a sibling run may be restoring them). */
const SHARED_EVICT_SPARE_MS = 60 * 60 * 1000;

/** Options of the local executor: the common {@link ExecuteOptions} plus its own. */
export interface LocalExecuteOptions extends ExecuteOptions {
  /** Time between TERM and KILL when stopping a gate's process tree. @default 5000 */
  killGraceMs?: number;
  /** Bytes of each log kept on disk; the rest is hashed but not written. @default 50 MiB */
  logCapBytes?: number;
  /** Cache size above which least recently used entries are evicted. @default 500 MiB */
  cacheMaxBytes?: number;
  /** Opens log files; inject to simulate write failures. */
  createLogStream?: LogStreamFactory;
  /** With `sandbox`: at most this many sandboxed reruns to find a failing gate's missing files. @default 16 */
  sandboxProbeRuns?: number;
  /**
   * The remote cache (Turborepo Remote Cache API) behind the local one; null for none.
   * @default from the `GATEHOUSE_REMOTE_CACHE_*` variables of `env`
   */
  remoteCache?: RemoteCacheConfig | null;
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
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism()));
  const logCapBytes = options.logCapBytes ?? DEFAULTS.logCapBytes;
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
  // Every process of the run carries the lock's token, supervisors started ahead included.
  const supervisors = new SupervisorPool(lock.token);
  try {
    const paths = runPaths(stateDir, runId);
    await mkdir(paths.logsDir, { recursive: true });
    await mkdir(paths.outDir, { recursive: true });
    const startedAt = nowIso();
    emit({ type: 'run-start', at: startedAt, gates: selected.map((g) => g.id) });

    const secretNames = allSecretNames(pipeline);
    const redact = secretValues(secretNames, env);
    const stateKey = await projectStateKey(rootDir);
    const hashIndex = await HashIndex.load(hashIndexPath(stateDir), stateKey.key, !noCache);
    const cache = new GateCache(stateDir, stateKey.key, hashIndex);
    if (stateKey.problem !== null && !noCache)
      emit({
        type: 'message',
        at: nowIso(),
        level: 'warn',
        text: `the cache is not used: ${stateKey.problem}`,
      });
    const warn = (text: string) => emit({ type: 'message', at: nowIso(), level: 'warn', text });
    const remote =
      options.remoteCache !== undefined
        ? { config: options.remoteCache, problem: null }
        : remoteCacheConfig(env);
    if (remote.problem !== null) warn(`the remote cache is not used: ${remote.problem}`);
    const shared = new SharedCache(cache, remote.config, warn, redact);

    // A single switch stops every running process: user abort or fail-fast.
    const stop = new RunStop();
    const onUserAbort = () => stop.stop('run interrupted');
    if (userSignal.aborted) onUserAbort();
    else userSignal.addEventListener('abort', onUserAbort, { once: true });

    const ctx: RunContext = {
      pipeline,
      rootDir,
      runId,
      runToken: lock.token,
      supervisors,
      paths,
      env,
      inherited: baseEnv(env, secretNames),
      noCache,
      killGraceMs: options.killGraceMs ?? DEFAULTS.killGraceMs,
      cache,
      shared,
      stateKey,
      stop,
      emit,
      onExplain: options.onExplain,
      sinkFor: (path) => new LogSink(path, logCapBytes, redact, options.createLogStream),
      // Evidence, log tails and reasons enter the results (report, cache, CI shards) redacted.
      redactString: textRedactor(redact),
    };

    const setupKey = pipeline.setup
      ? manifestKey(await setupManifest(pipeline.setup, rootDir, hashIndex, pipeline.workspaceRoot))
      : null;
    const keyGates = () =>
      gateKeys(pipeline, setupKey, { sandbox: bwrap !== null, hashIndex, env });
    let setupDone: SetupDone | null = null;
    let keys: GateKeys | null = null;
    // Results found before setup: every gate that can run, when all of them are cached.
    let stored: Map<string, GateResult> | null = null;
    if (setup && stop.reason === null) {
      // Setup that would run (its key is not the last that passed here) is left out when every
      // gate that can run is in the cache: a fresh clone whose results the remote cache holds.
      const runnable = selected.filter((g) => !unmet.has(g.id));
      if (
        runnable.length > 0 &&
        !noCache &&
        cache.enabled &&
        (await cache.readSetupKey()) !== setupKey
      ) {
        const before = keyGates();
        stored = await lookupAll(ctx, before, runnable);
        if (stored) keys = before;
      }
      setupDone = stored
        ? setupUnneeded(ctx, runnable.length)
        : await runSetup(ctx, setup, setupKey);
    }
    const setupFailure = setupDone?.failure ?? null;
    // Keyed after setup when it ran: what it wrote may be among the gates' inputs.
    keys ??= keyGates();
    // After setup: what setup made is part of what every sandbox shows.
    const sandbox =
      bwrap === null
        ? null
        : await GateSandbox.open({
            bwrap,
            rootDir,
            // A package's gates without inputs are keyed on the root's shared files: shown too.
            ...withWorkspaceRoot(pipeline),
            workDir: join(paths.runDir, 'sandbox'),
            env: ctx.inherited,
          });
    const runner = new GateRunner(ctx, {
      sandbox,
      emitOutput: options.emitOutput ?? true,
      sandboxProbeRuns: options.sandboxProbeRuns ?? 16,
    });

    const results = await runScheduled({
      gates: selected,
      byId: new Map(pipeline.gates.map((g) => [g.id, g])),
      concurrency,
      priority: remainingPaths(selected, await lastDurations(stateDir)),
      skipReason: (gate) => setupFailure ?? stop.reason ?? unmet.get(gate.id) ?? null,
      prepare: async (gate) => {
        const before = stored?.get(gate.id);
        if (before) return { result: before };
        const found = await lookupGate(ctx, keys, gate);
        if (found.result) return { result: found.result };
        return { run: () => runner.run(gate, found.keyed) };
      },
      ended: (gate, result) => emit({ type: 'gate-end', at: nowIso(), id: gate.id, result }),
      ran: (gate, r) => {
        if (options.failFast && stop.reason === null && failsRun(gate, r))
          stop.stop(`fail-fast: ${gate.id} ${r.status}`);
      },
      warm: (n) => ctx.supervisors.keep(n),
    });
    await ctx.supervisors.close();
    userSignal.removeEventListener('abort', onUserAbort);
    await shared.flush();
    // Only hints for the next run's hashing: failing to save costs it a rehash.
    await hashIndex.save().catch(() => undefined);

    const report = await reportRun(ctx, {
      gates: selected.map((g) => results.get(g.id)!),
      startedAt,
      setup: setupDone?.record,
      // A run that stopped early never passes, even when no blocking gate got to fail.
      problem: userSignal.aborted ? 'run interrupted' : setupFailure,
      stateDir,
      gatehouseVersion: options.gatehouseVersion,
    });
    try {
      // Only new entries can push the cache over its cap.
      // Runs sharing the workspace may be restoring entries right now: spare recently used ones.
      if (runner.stored > 0)
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
    emit({ type: 'run-end', at: nowIso(), report });
    return report;
  } finally {
    await supervisors.close();
    await lock.release();
  }
}

/**
 * The workspace root a sandbox shows `//` files of: the config's (`//` inputs), else, for a
 * package of a workspace, its root (the default key of a gate without inputs covers the root's
 * shared files).
 */
function withWorkspaceRoot(pipeline: ResolvedPipeline): { workspaceRoot?: string } {
  const root = pipeline.workspaceRoot ?? workspaceOfPackage(pipeline.rootDir)?.dir;
  return root ? { workspaceRoot: root } : {};
}
