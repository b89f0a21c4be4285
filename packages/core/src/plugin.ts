/**
 * The plugin contract. A plugin is a plain object; `definePlugin` only gives it a type.
 *
 * - A **target** turns the resolved pipeline into files (a Dockerfile, a workflow…).
 *   It is a pure function: same pipeline and options, same bytes.
 * - An **executor** runs gates somewhere (local processes, Docker, …) and returns one
 *   `GateResult` per gate, in the same report model whatever it ran on.
 * - A **gate kind** preset supplies defaults for gates of that kind.
 */
import type { Diagnostic } from './errors.js';
import type {
  GateKind,
  GateMode,
  GateResult,
  Policy,
  ResolvedEvidence,
  ResolvedPipeline,
  RunEvent,
  RunReport,
  TargetOptions,
} from './model.js';

/** A file a target wants written, relative to the pipeline's `rootDir`. */
export interface EmittedFile {
  /** POSIX relative path, e.g. `.github/workflows/gatehouse.yml`. */
  path: string;
  contents: string;
  /** File mode, e.g. 0o755 for scripts. @default 0o644 */
  mode?: number;
}

/** What a target receives besides the pipeline. */
export interface TargetContext {
  /** Gatehouse version, for headers. */
  gatehouseVersion: string;
  /** The config file name as the user knows it (relative to rootDir), for headers. */
  configFile: string;
}

/** A target: resolved pipeline -> files. */
export interface TargetDefinition {
  /** One line for `gatehouse compile --help`. */
  description: string;
  /**
   * Check this target's options (from `targets.<name>`). Return diagnostics with
   * `path` relative to the options object (e.g. `mode`); the driver prefixes and locates them.
   */
  validateOptions?(options: TargetOptions): Diagnostic[];
  /**
   * Produce the files. Must be deterministic. Throw `GatehouseError` with diagnostics for
   * input this target cannot represent safely (the driver locates them in the config).
   */
  emit(pipeline: ResolvedPipeline, options: TargetOptions, ctx: TargetContext): EmittedFile[];
}

/** Options every executor understands. */
export interface ExecuteOptions {
  /** Gate ids to run (with their needs); empty = all. */
  gates: string[];
  concurrency: number;
  failFast: boolean;
  noCache: boolean;
  /** Environment the gates see; secrets are read from here by name. */
  env: Record<string, string | undefined>;
  /** Aborted on Ctrl-C: executors stop every process and still return results. */
  signal: AbortSignal;
  /** Progress sink. */
  onEvent(event: RunEvent): void;
  /** Where run artefacts go (logs, evidence, report). */
  stateDir: string;
}

/** An executor: runs gates, returns the unified report. */
export interface ExecutorDefinition {
  description: string;
  execute(pipeline: ResolvedPipeline, options: ExecuteOptions): Promise<RunReport>;
}

/** Defaults for gates of one kind (a preset). */
export interface GateKindPreset {
  description: string;
  defaults: {
    timeout?: string;
    mode?: GateMode;
    evidence?: ResolvedEvidence[];
    policy?: Policy;
  };
}

/** A Gatehouse plugin: any mix of targets, executors and gate-kind presets. */
export interface GatehousePlugin {
  /** Unique name, usually the npm package name. */
  name: string;
  targets?: Record<string, TargetDefinition>;
  executors?: Record<string, ExecutorDefinition>;
  gateKinds?: Record<GateKind, GateKindPreset>;
}

/** Identity function that types a plugin object. */
export function definePlugin<T extends GatehousePlugin>(plugin: T): T {
  return plugin;
}

export type { GateResult };
