/**
 * What every step of one local run shares: its paths, its environment, its cache and its stop
 * switch. `execute.ts` builds it once; setup, the cache lookup, the gate runner and the report
 * read it.
 */
import type { ResolvedPipeline, RunEvent, RunPaths, StateKeyResult } from '@gatehouse-ci/core';
import type { GateCache } from './cache.js';
import type { SharedCache } from './remote-cache.js';
import type { GateExplanation } from './explain.js';
import type { LogSink } from './log-sink.js';
import type { SupervisorPool } from './proc.js';

/** Executor name written into results and reports. */
export const EXECUTOR = 'local';

export const nowIso = () => new Date().toISOString();

/**
 * Stops every running process of a run, once: on the user's abort or on fail-fast. The first
 * reason given is the one skipped gates are given.
 */
export class RunStop {
  readonly #controller = new AbortController();
  #reason: string | null = null;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the run stops, or null while it does not. */
  get reason(): string | null {
    return this.#reason;
  }

  stop(reason: string): void {
    this.#reason ??= reason;
    this.#controller.abort();
  }
}

export interface RunContext {
  pipeline: ResolvedPipeline;
  rootDir: string;
  runId: string;
  /** The run lock's token, handed to every process so a later run can find strays. */
  runToken: string;
  /** Gate supervisors started ahead of the gates that will need them. */
  supervisors: SupervisorPool;
  paths: RunPaths;
  /** The caller's environment: secrets are read from it by name. */
  env: Record<string, string | undefined>;
  /** What every process inherits: `env` without secrets. */
  inherited: Record<string, string>;
  noCache: boolean;
  killGraceMs: number;
  cache: GateCache;
  /** The local cache with the remote one (when configured) behind it: lookups and uploads. */
  shared: SharedCache;
  stateKey: StateKeyResult;
  stop: RunStop;
  /** Sends a progress event; a broken sink never breaks the run. */
  emit(event: RunEvent): void;
  onExplain?: ((e: GateExplanation) => void) | undefined;
  /** Opens a redacting, capped log at `path`. */
  sinkFor(path: string): LogSink;
  /** Redacts the run's secret values from a string. */
  redactString(text: string): string;
}

/** The values of the variables `names` that `env` has. */
export function pick(
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
