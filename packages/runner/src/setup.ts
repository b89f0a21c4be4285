/** The pipeline's `setup` command: run once before every gate, or skipped when its key is cached. */
import { relative } from 'node:path';
import type { SetupRecord, ResolvedSetup } from '@gatehouse-ci/core';
import { nowIso, pick, type RunContext } from './context.js';
import { runProcess, type ProcessOutcome } from './proc.js';

export interface SetupDone {
  /** Why every gate is skipped (setup failed), or null. */
  failure: string | null;
  record: SetupRecord;
}

/** Run `setup` unless its key `setupKey` is the one that last passed. */
export async function runSetup(
  ctx: RunContext,
  setup: ResolvedSetup,
  setupKey: string | null,
): Promise<SetupDone> {
  const { emit, cache, rootDir, paths } = ctx;
  const t0 = Date.now();
  const setupStartedAt = nowIso();
  const record = (status: SetupRecord['status']): SetupRecord => ({
    status,
    startedAt: setupStartedAt,
    finishedAt: nowIso(),
    durationMs: Date.now() - t0,
  });
  emit({ type: 'setup-start', at: setupStartedAt });
  if (!ctx.noCache && (await cache.readSetupKey()) === setupKey) {
    const done = { failure: null, record: record('cached') };
    emit({
      type: 'setup-end',
      at: nowIso(),
      ok: true,
      durationMs: Date.now() - t0,
      cached: true,
    });
    return done;
  }
  const sink = ctx.sinkFor(paths.setupLog);
  const out = await runProcess({
    command: setup.run,
    runToken: ctx.runToken,
    cwd: rootDir,
    env: {
      ...ctx.inherited,
      ...setup.env,
      ...pick(ctx.env, setup.secrets),
      GATEHOUSE_RUN_ID: ctx.runId,
    },
    timeoutMs: setup.timeoutMs,
    killGraceMs: ctx.killGraceMs,
    signal: ctx.stop.signal,
    sink,
  });
  await sink.close();
  const ok = out.exitCode === 0 && !out.interrupted && !out.timedOut && out.spawnError === null;
  if (ok && setupKey !== null) await cache.writeSetupKey(setupKey).catch(() => undefined);
  const failure =
    !ok && !out.interrupted
      ? `setup ${describeFailure(out)}; see ${relative(rootDir, paths.setupLog)}`
      : null;
  const done = { failure, record: record(ok ? 'passed' : 'failed') };
  emit({ type: 'setup-end', at: nowIso(), ok, durationMs: Date.now() - t0, cached: false });
  return done;
}

/**
 * Setup left out because every gate of the run is in the cache (local, or the remote one): none
 * of them will run, so nothing needs what setup installs. Said in the progress and the report.
 */
export function setupUnneeded(ctx: RunContext, gates: number): SetupDone {
  const at = nowIso();
  ctx.emit({
    type: 'message',
    at,
    level: 'info',
    text: `setup not run: the result${gates === 1 ? ' of the gate is' : `s of ${gates === 2 ? 'both' : `all ${gates}`} gates are`} in the cache`,
  });
  return {
    failure: null,
    record: { status: 'unneeded', startedAt: at, finishedAt: at, durationMs: 0 },
  };
}

function describeFailure(p: ProcessOutcome): string {
  if (p.interrupted) return 'was interrupted';
  if (p.timedOut) return 'timed out';
  if (p.spawnError) return `could not start (${p.spawnError})`;
  if (p.exitCode !== null) return `exited with code ${p.exitCode}`;
  return `was killed by ${p.signal ?? 'a signal'}`;
}
