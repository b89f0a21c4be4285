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

/** A file a target wants written, relative to the pipeline's `rootDir` (or the checkout's top, see `at`). */
export interface EmittedFile {
  /** POSIX relative path, e.g. `.github/workflows/gatehouse.yml`. */
  path: string;
  /**
   * `checkout`: `path` is relative to the top of the checkout (the git work tree) instead of the
   * config directory, for a file the CI reads only there (GitHub's `.github/workflows/`) when
   * the config is in a subdirectory ({@link TargetContext.checkoutDir}).
   * @default 'config'
   */
  at?: 'config' | 'checkout';
  contents: string;
  /** File mode, e.g. 0o755 for scripts. @default 0o644 */
  mode?: number;
  /**
   * Set when the file belongs to the user and the target owns only some of its keys (turbo's
   * `turbo.json`, a `package.json`'s `scripts`): `contents` is then a JSON document holding
   * only those keys, and `compile` replaces them in the file on disk and keeps the rest;
   * `check` compares only them. @see docs/decisions/0013-turbo-tasks.md
   */
  merge?: JsonMerge;
}

/** How an emitted JSON document is merged into the file on disk. */
export interface JsonMerge {
  format: 'json';
  /**
   * The objects whose keys the target owns. In each, the keys the emitted document holds are
   * written, and any other key matching `keys` (one the target wrote before) is removed.
   */
  owns: Array<{
    /** Key path of the object from the top of the document, e.g. `['tasks']`; made when absent. */
    object: string[];
    /** The keys of that object the target owns, emitted or stale. */
    keys: RegExp;
  }>;
  /** A missing file is created with `contents`, or is an error (`GH_TARGET_MERGE`). */
  ifMissing: 'create' | 'error';
}

/** What a target receives besides the pipeline. */
export interface TargetContext {
  /** Gatehouse version, for headers. */
  gatehouseVersion: string;
  /** The config file name as the user knows it (relative to rootDir), for headers. */
  configFile: string;
  /**
   * The config directory relative to the top of the repository a CI job checks out (the git
   * work tree), POSIX: `packages/web`, or `''` when the config is at the top or outside git.
   * CI targets run their jobs there. @default ''
   */
  checkoutDir?: string;
}

/** What a target's `resolveOptions` returns: its options with defaults applied, and every problem. */
export interface ResolvedOptions<O> {
  /** The options `emit` receives. Used only when `diagnostics` holds no error. */
  value: O;
  /**
   * Problems with `targets.<name>`, each with `path` relative to the options object (e.g.
   * `mode`); the driver prefixes them with `targets.<name>.` and locates them in the config.
   * A diagnostic without a `code` gets `GH_TARGET_OPTIONS`.
   */
  diagnostics: Diagnostic[];
}

/**
 * A target: resolved pipeline -> files. `O` is the target's own options type: the driver
 * calls `resolveOptions` once on what the user wrote under `targets.<name>`, and calls `emit`
 * with its `value` only when there was no error.
 */
export interface TargetDefinition<O = unknown> {
  /** One line for `gatehouse compile --help`. */
  description: string;
  /** Check `targets.<name>` and apply defaults. Pure: no disk, clock or environment. */
  resolveOptions(raw: TargetOptions): ResolvedOptions<O>;
  /**
   * Produce the files. Must be deterministic. Throw `GatehouseError` with diagnostics for
   * input this target cannot represent safely (the driver locates them in the config).
   */
  emit(pipeline: ResolvedPipeline, options: O, ctx: TargetContext): EmittedFile[];
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
  /**
   * Run exactly these gates, without setup and without their needs (a CI job whose needs ran
   * in other jobs: `gatehouse run --only`). An executor that cannot run a gate without its
   * needs (a Docker stage builds its parents) runs them too. Takes precedence over `gates`.
   */
  only?: string[];
  /**
   * The run's id, chosen by the caller so it knows where the run's files go
   * (`runDirOf(stateDir, runId)`). @default a new `newRunId()`
   */
  runId?: string;
  /** Gatehouse version written into the report. @default the report package's version */
  gatehouseVersion?: string;
  /**
   * How long to wait for another run's lock of the same project, in ms, where the executor
   * takes one. @default 0 (refuse at once)
   */
  lockWaitMs?: number;
  /** Send `gate-output` events (redacted), where the executor streams output. @default true */
  emitOutput?: boolean;
  /**
   * Receives, per gate, whether it ran or came from the cache and why, from executors that
   * keep a cache (`run --explain`).
   */
  onExplain?: (e: GateExplanation) => void;
  /**
   * Run each gate in a sandbox that shows only what its key covers. An executor that has no
   * sandbox refuses the option; the local one throws `GH_SANDBOX_UNAVAILABLE` before anything
   * runs when it cannot make one. @default false
   */
  sandbox?: boolean;
  /**
   * When the verdict passed and the pipeline has a `release`, also build the release image
   * with this tag (executors that build images). @default no release build
   */
  releaseTag?: string;
  /**
   * After the run, save the build cache of its stages into this directory, for another
   * machine's `cacheFrom` (executors that build with BuildKit). A failed export is a warning.
   * @see docs/docker-executor.md#sharing-the-build-cache-between-machines
   */
  cacheTo?: string;
  /**
   * Before the run, load a build cache that `cacheTo` saved from this directory and let the
   * builds match their steps against it. A missing or damaged cache is a warning.
   */
  cacheFrom?: string;
}

/** Whether a gate runs or comes from the cache, and why. */
export interface GateExplanation {
  id: string;
  /**
   * `cached`: a verified entry exists for its key (for `explain`, an entry exists);
   * `skip`: its `when` condition does not hold.
   */
  action: 'run' | 'cached' | 'skip';
  /** Cache key, or null when the gate is not cacheable. */
  key: string | null;
  /** Human reasons, e.g. `input src/app.js changed (sha …→ …)`, `env NODE_ENV changed`. */
  reasons: string[];
}

/** An executor: runs gates, returns the unified report. */
export interface ExecutorDefinition {
  description: string;
  /**
   * True when `execute` writes the report itself: `report.json` and the rendered files in
   * `runDirOf(stateDir, runId)`, the latest copy and the ledger line. Otherwise the caller
   * builds the report from the results it returns and writes it. @default false
   */
  writesReport?: boolean;
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
  /** Each target has its own options type; write them with {@link defineTarget} to keep it. */
  targets?: Record<string, TargetDefinition>;
  executors?: Record<string, ExecutorDefinition>;
  gateKinds?: Record<GateKind, GateKindPreset>;
}

/**
 * Identity function that types a target: `O` is inferred from `resolveOptions`, so `emit`
 * receives the resolved options type, not the raw mapping.
 */
export function defineTarget<O>(target: TargetDefinition<O>): TargetDefinition<O> {
  return target;
}

/** Identity function that types a plugin object. */
export function definePlugin<T extends GatehousePlugin>(plugin: T): T {
  return plugin;
}

export type { GateResult };
