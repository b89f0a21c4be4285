import type { ResolvedGate } from '@gatehouse-ci/core';

/**
 * What an executor observed when it ran one gate, before any evidence is judged.
 * `evaluateGate` turns it into a `GateResult`.
 */
export interface GateOutcome {
  id: string;
  /** Exit code of the gate's command; `null` when it did not exit normally. */
  exitCode: number | null;
  /** Signal that ended the process, e.g. `SIGKILL`. */
  signal: string | null;
  /** Killed because it ran past the gate's timeout. */
  timedOut: boolean;
  /** Stopped by the user (Ctrl-C) or by the executor shutting down. */
  interrupted: boolean;
  /** Why the command could not be started at all, e.g. `spawn /bin/sh ENOENT`. */
  spawnError: string | null;
  /** ISO-8601 UTC. */
  startedAt: string;
  /** ISO-8601 UTC. */
  finishedAt: string;
  durationMs: number;
  /** The gate's `$GATEHOUSE_OUT`, absolute: evidence paths are relative to it. */
  outDir: string;
  /** The combined stdout+stderr log as recorded. */
  log: { path: string | null; sha256: string; bytes: number; truncated: boolean };
  /**
   * The end of the log (as `GateResult.logTail` holds it) when the executor already read it;
   * `evaluateGate` then does not open `log.path`.
   */
  logTail?: string;
  /**
   * Output of the gate the executor refused to read (a link leading out of its directory, a
   * file that is not a regular file), one sentence each. Any makes the gate `error`.
   */
  refusals?: string[];
  /** `local`, `docker`, `github`, … */
  executor: string;
  /** Image the gate ran in, when containerised. */
  image?: { ref: string; digest: string | null } | null;
}

/** Convenience for executors and tests: an outcome with defaults for what did not happen. */
export function outcome(
  gate: Pick<ResolvedGate, 'id'>,
  over: Partial<GateOutcome> & { outDir: string },
): GateOutcome {
  const now = new Date().toISOString();
  return {
    id: gate.id,
    exitCode: 0,
    signal: null,
    timedOut: false,
    interrupted: false,
    spawnError: null,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
    log: { path: null, sha256: EMPTY_SHA256, bytes: 0, truncated: false },
    executor: 'local',
    image: null,
    ...over,
  };
}

/** sha256 of zero bytes. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
