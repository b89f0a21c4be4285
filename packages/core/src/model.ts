/**
 * The Gatehouse data model.
 *
 * Two families of types live here, with different names on purpose:
 * - `User*` types describe what a person writes in `gatehouse.yml` (everything optional
 *   that has a default);
 * - `Resolved*` types are what every plugin, executor and renderer sees: defaults
 *   applied, ids checked, the gate graph verified acyclic. `resolveConfig()` is the one
 *   function between them.
 *
 * Gate results (`GateResult`, `RunReport`) are also defined here because every executor
 * (local runner, Docker, CI jobs) produces them and the report package renders them.
 */

/** Built-in gate kinds. A preset plugin may register more. */
export const GATE_KINDS = [
  'lint',
  'sonarqube',
  'unit-test',
  'a11y-test',
  'build',
  'custom',
] as const;
/** A gate kind: one of {@link GATE_KINDS} or a kind registered by a preset plugin. */
export type GateKind = (typeof GATE_KINDS)[number] | (string & {});

/** `blocking` gates decide the verdict; `advisory` gates are reported but never fail a run. */
export type GateMode = 'blocking' | 'advisory';

/** Evidence formats Gatehouse can parse. `exitcode` means "no file, the exit code is the evidence". */
export const EVIDENCE_FORMATS = [
  'eslint',
  'sarif',
  'junit',
  'istanbul',
  'lcov',
  'pa11y',
  'axe',
  'sonarqube',
  'ctrf',
  'cobertura',
  'exitcode',
] as const;
/** One of {@link EVIDENCE_FORMATS}. */
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

/** Thresholds a gate's evidence is measured against. Absent means "not checked". */
export interface Policy {
  /** Lint: maximum number of errors. */
  max_errors?: number;
  /** Lint: maximum number of warnings. */
  max_warnings?: number;
  /** Tests: maximum failed tests. @default 0 for unit-test gates */
  max_failed?: number;
  /** Coverage: minimum percentages (0-100). */
  min_coverage?: { lines?: number; branches?: number; functions?: number; statements?: number };
  /** Accessibility: maximum violations, in total or per impact. */
  max_violations?:
    number | { critical?: number; serious?: number; moderate?: number; minor?: number };
  /** SonarQube: the quality gate must be OK. @default true for sonarqube gates */
  sonar_quality_gate?: boolean;
  /** Path (relative to the config) of an earlier report: only findings new since then count. */
  baseline?: string;
}

// ---------------------------------------------------------------------------
// Input (what users write)
// ---------------------------------------------------------------------------

/** One evidence file a gate writes into `$GATEHOUSE_OUT`. */
export interface UserEvidence {
  format: EvidenceFormat;
  /** Path relative to the gate's `$GATEHOUSE_OUT`. Not needed for `exitcode`. */
  path?: string;
}

/** A gate as written in `gatehouse.yml`. */
export interface UserGate {
  /** @default 'custom' */
  kind?: GateKind;
  /**
   * Shell command, run by `/bin/sh -c` with `$GATEHOUSE_OUT` set. Required, except with
   * `packages.script` (then `<package manager> run <script>`).
   */
  run?: string;
  description?: string;
  /**
   * Gate ids that must finish before this one starts (and whose outputs it sees). In a gate
   * of `packages`, `^build` is the `build` of the package's workspace dependencies.
   */
  needs?: string[];
  /** Runtime image when run in containers. @default the top-level `image` */
  image?: string;
  /** Plain (non-secret) environment variables. */
  env?: Record<string, string>;
  /** Names of secrets this gate needs. Values come from the environment at run time. */
  secrets?: string[];
  /** Globs (relative to the config dir) whose content decides the cache key. */
  inputs?: string[];
  /** Globs this gate produces, visible to gates that need it and to `release`. */
  outputs?: string[];
  /** `90s`, `10m`, `1h` or a number of seconds. @default per kind, see presets */
  timeout?: string | number;
  /** @default 'blocking' */
  mode?: GateMode;
  evidence?: UserEvidence[];
  policy?: Policy;
  /** Tool versions that belong to the cache key, e.g. `{ eslint: "9.39.0" }`. */
  tools?: Record<string, string>;
  /** Run only when these hold; otherwise the gate is `skipped` with the reason. */
  when?: UserGateCondition;
  /** Declare the gate once for many workspace packages: one gate per package. */
  packages?: UserGatePackages;
}

/** `gates.<id>.packages`: which workspace packages a gate is declared for. */
export interface UserGatePackages {
  /**
   * Only packages whose package.json has this script (nx projects: this target); also the
   * default `run`.
   */
  script?: string;
  /** Package names or directories (globs, `!` excludes, last match wins). */
  match?: string[];
  /**
   * `gatehouse run` starts the script's command directly, as the package manager would, instead of
   * starting the package manager for every package (with `script`, not on nx projects).
   */
  direct?: boolean;
  /** Per package name: gate keys that differ for it. */
  overrides?: Record<string, Omit<UserGate, 'packages'>>;
}

/** Conditions under which a gate runs. */
export interface UserGateCondition {
  /** Environment variables that must be set and non-empty, e.g. `[SONAR_HOST_URL]`. */
  env?: string[];
}

/** The shared install step ("builder"), run once before every gate. */
export interface UserSetup {
  run: string;
  inputs?: string[];
  env?: Record<string, string>;
  secrets?: string[];
  /** @default '30m' */
  timeout?: string | number;
}

/** The release image, built from a gate's stage once every blocking gate passed. */
export interface UserRelease {
  /** Gate whose result (outputs) the image is made from, usually the build gate. */
  from: string;
  /** Files/dirs (relative to the config dir) copied into the image. */
  copy: string[];
  /** Exec-form command. */
  cmd: string[];
  /** Runtime image. @default the top-level `image` */
  image?: string;
  /** Ports to document with `EXPOSE`. */
  expose?: number[];
  env?: Record<string, string>;
  /** @default 'node' */
  user?: string;
  workdir?: string;
  /**
   * Make the image of the workspace package of `from` (a gate of `packages:`): its `copy`
   * files (relative to the package directory), its package.json and its production
   * dependencies, workspace packages included (`pnpm deploy --prod`, or in an npm workspace
   * the packages the lockfile installs for it, copied from the workspace).
   * @default true when `from` is a gate of `packages:` in a pnpm or npm workspace
   * @see docs/monorepos.md#release-image-of-an-app
   */
  deploy?: boolean;
}

/** `gatehouse.yml`, as written. */
export interface UserConfig {
  version: 1;
  /** Presets this config builds on, merged in order (see `docs/presets.md`). */
  extends?: string[];
  name: string;
  /** Default runtime image for gates (pin a tag or digest, never `latest`). */
  image?: string;
  /** Working directory inside containers. @default '/app' */
  workdir?: string;
  setup?: UserSetup;
  gates: Record<string, UserGate>;
  release?: UserRelease;
  /** Target plugin name -> its options. */
  targets?: Record<string, Record<string, unknown> | null>;
  /** npm package names of third-party plugins. */
  plugins?: string[];
  /** How CI configs use the cache. */
  cache?: UserCacheConfig;
}

/** `cache:` of the config. */
export interface UserCacheConfig {
  /**
   * The emitted CI configs pass the remote cache's variables (`GATEHOUSE_REMOTE_CACHE_*`) to
   * native gate jobs: read-write on pushes to the default branch, read-only elsewhere.
   * @default false
   */
  remote?: boolean;
}

// ---------------------------------------------------------------------------
// Resolved (what plugins see)
// ---------------------------------------------------------------------------

/** An evidence file with its format, resolved. */
export interface ResolvedEvidence {
  format: EvidenceFormat;
  /** Relative to `$GATEHOUSE_OUT`; `null` for `exitcode`. */
  path: string | null;
}

/** A gate with every default applied. */
/** The workspace package a gate of `packages:` was expanded for. */
export interface GatePackage {
  /** The package's `name`. */
  name: string;
  /** Its directory, POSIX, relative to the config directory. */
  dir: string;
  /** The gate as declared (`lint` for `core-lint`). */
  gate: string;
  /**
   * Set when `packages.direct` asks local runs to start the package's script without its
   * package manager, and `run` is the default `<manager> run <script>` (the runner checks at
   * run time that doing so is the same, and otherwise runs `run`).
   */
  direct?: { script: string; manager: 'pnpm' | 'npm' | 'yarn' | 'bun' };
}

export interface ResolvedGate {
  id: string;
  kind: GateKind;
  run: string;
  description: string | null;
  /** Sorted, deduplicated. */
  needs: string[];
  image: string;
  env: Record<string, string>;
  /** Sorted, deduplicated secret names. */
  secrets: string[];
  inputs: string[];
  outputs: string[];
  timeoutMs: number;
  mode: GateMode;
  evidence: ResolvedEvidence[];
  policy: Policy;
  tools: Record<string, string>;
  /**
   * Conditions under which the gate runs; absent means always. A gate whose condition
   * does not hold is reported `skipped` with the reason, and its secrets are not required.
   */
  when?: { env: string[] };
  /** Present on a gate declared with `packages:`: the package it runs for. */
  package?: GatePackage;
}

export interface ResolvedSetup {
  run: string;
  inputs: string[];
  env: Record<string, string>;
  secrets: string[];
  timeoutMs: number;
}

/** The workspace package a release image is made of (`release.deploy`). */
export interface ReleasePackage {
  /** The package's `name`. */
  name: string;
  /** Its directory, POSIX, relative to the config directory. */
  dir: string;
  /**
   * The package manager of its workspace, which decides how it is deployed with its
   * production dependencies (`pnpm deploy --prod`, or Gatehouse's deploy for npm and yarn).
   */
  manager: 'pnpm' | 'npm' | 'yarn';
}

export interface ResolvedRelease {
  from: string;
  /** Relative to the config directory (with `package`, under the package's directory). */
  copy: string[];
  cmd: string[];
  image: string;
  expose: number[];
  env: Record<string, string>;
  user: string;
  workdir: string;
  /**
   * Present when the image is made of a workspace package: its production dependencies are
   * deployed into the image, and `copy` is taken from the package's directory.
   */
  package?: ReleasePackage;
}

/** Options of one target, as given under `targets.<name>` (validated by the target plugin). */
export type TargetOptions = Record<string, unknown>;

/** A preset a config extends, as the report records it (see `docs/presets.md`). */
export interface PresetRecord {
  /** The npm package name, or the preset file's path relative to the config directory. */
  name: string;
  /** The package's version, for an npm preset; absent for a file. */
  version?: string;
  /** sha256 (hex) of the preset file's bytes. */
  sha256: string;
}

/** A preset as resolved when the config was read. */
export interface ResolvedPreset extends PresetRecord {
  /** Absolute (real) path of the preset file. */
  file: string;
  /** The package.json that named the preset file (npm presets): a change resolves again. */
  manifest?: { file: string; sha256: string };
}

/** The resolved pipeline: the only thing plugins ever see. Plain data, JSON-serialisable. */
export interface ResolvedPipeline {
  version: 1;
  name: string;
  /** Absolute path of the config file. */
  configPath: string;
  /** Absolute directory of the config file: every relative path is relative to it. */
  rootDir: string;
  /** sha256 (hex) of the config file's bytes. */
  configSha256: string;
  image: string;
  workdir: string;
  setup: ResolvedSetup | null;
  /** Gates in a deterministic topological order (layer by layer, ids sorted in a layer). */
  gates: ResolvedGate[];
  release: ResolvedRelease | null;
  targets: Record<string, TargetOptions>;
  plugins: string[];
  /** `cache:` with defaults applied; absent when the config has no `cache:`. */
  cache?: { remote: boolean };
  /** The presets of `extends`, in the order read; absent when the config extends none. */
  presets?: ResolvedPreset[];
  /**
   * Absolute (real) path of the workspace root, when `inputs` of setup or a gate name files
   * there (`//tsconfig.base.json`): the config is below it. Absent otherwise (a `//` input of a
   * config at the workspace root is written relative to `rootDir`). See decision 0016.
   */
  workspaceRoot?: string;
}

// ---------------------------------------------------------------------------
// Results (what executors produce, what reports render)
// ---------------------------------------------------------------------------

/**
 * - `passed`/`failed`: ran, and the exit code plus policy decided;
 * - `error`: could not be judged (command not found, evidence missing or malformed);
 * - `timeout`: killed after its timeout; `interrupted`: stopped by the user;
 * - `skipped`: did not run (a needed gate failed, or not selected, or a reason given);
 * - `cached`: not run now; `cachedResult` holds the result that was recorded.
 */
export const GATE_STATUSES = [
  'passed',
  'failed',
  'error',
  'timeout',
  'interrupted',
  'skipped',
  'cached',
] as const;
export type GateStatus = (typeof GATE_STATUSES)[number];

/** Lint-like findings (ESLint, SARIF, SonarJS rules). */
export interface LintSummary {
  errors: number;
  warnings: number;
  /** Files with at least one finding. */
  files: number;
  /**
   * Files the tool checked, findings or not (ESLint's JSON report lists each). Absent when
   * the format does not say. Zero makes the gate an error: it checked nothing.
   */
  checked?: number;
  /** Top rules by count. */
  rules: Array<{ rule: string; count: number }>;
}
export interface TestSummary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Up to 20 failures, for the report. */
  failures: Array<{ name: string; suite?: string; message?: string }>;
  /**
   * Every test with its outcome, when the evidence lists each test (JUnit, CTRF) and there
   * are at most 5,000 of them, so CI test views (Jenkins' trends) see one case per test.
   * Absent otherwise, and in reports written before it existed.
   */
  cases?: TestCaseResult[];
}
/** One test of a gate's evidence. */
export interface TestCaseResult {
  name: string;
  /** The suite path, outer first (`file › describe`). */
  suite?: string;
  status: 'passed' | 'failed' | 'skipped';
  /** As the tool measured it. */
  durationMs?: number;
  /** First line of the failure message (at most 500 characters). */
  message?: string;
}
export interface CoverageSummary {
  lines?: number;
  branches?: number;
  functions?: number;
  statements?: number;
}
export interface A11ySummary {
  pages: number;
  violations: number;
  byImpact: { critical: number; serious: number; moderate: number; minor: number; unknown: number };
}
export interface SonarSummary {
  /** Quality gate status as reported by the server. */
  status: 'OK' | 'WARN' | 'ERROR' | 'NONE';
  dashboardUrl?: string;
  conditions: Array<{ metric: string; status: string; actual?: string; threshold?: string }>;
}

/** One finding with a location, for SARIF and baselines. */
export interface Finding {
  /** Stable identity used by baselines: tool + rule + file/page + message or selector. */
  fingerprint: string;
  tool: string;
  rule: string;
  level: 'error' | 'warning' | 'note';
  message: string;
  file?: string;
  line?: number;
  column?: number;
  /** Accessibility: page URL and CSS selector. */
  page?: string;
  selector?: string;
  impact?: string;
}

/** Parsed evidence of one gate: each part present only when a file provided it. */
export interface EvidenceSummary {
  files: Array<{ format: EvidenceFormat; path: string | null; sha256: string | null }>;
  lint?: LintSummary;
  tests?: TestSummary;
  coverage?: CoverageSummary;
  a11y?: A11ySummary;
  sonar?: SonarSummary;
  /** Findings (capped by the producer; `findingsTotal` holds the real count). */
  findings: Finding[];
  findingsTotal: number;
}

/** One threshold compared with what was measured. */
export interface ThresholdCheck {
  /** e.g. `max_errors`, `min_coverage.lines`, `max_violations.serious`, `tests.failed`. */
  name: string;
  limit: number | string | boolean;
  measured: number | string | boolean | null;
  ok: boolean;
  /**
   * With `policy.baseline`: findings left out of `measured` because the baseline report
   * already had them. Absent when no baseline applied.
   */
  excludedByBaseline?: number;
  /**
   * Accessibility violations whose tool gave no known impact, included in `measured` of
   * every per-impact limit (`max_violations.critical`, …): an unknown impact never passes
   * a limit unseen. Absent when there were none.
   */
  unknownImpact?: number;
}

/** The result of one gate in one run, wherever it ran. */
export interface GateResult {
  id: string;
  kind: GateKind;
  mode: GateMode;
  status: GateStatus;
  /** Human-readable reason for error/skipped/timeout/failed-by-policy. */
  reason: string | null;
  exitCode: number | null;
  /** sha256 of the gate's command text. */
  commandSha256: string;
  image: { ref: string; digest: string | null } | null;
  /** ISO-8601 UTC. For `cached` results: when the cached run happened. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Where it ran: `local`, `docker`, `github`, `jenkins`, `buildkite`, … */
  executor: string;
  /**
   * Present when status is `cached`: the status the original run had and its cache key.
   * `from` is `remote` when the result was downloaded from the remote cache in this run;
   * absent when it came from this machine's cache.
   */
  cached: { status: GateStatus; key: string; runId: string | null; from?: 'remote' } | null;
  log: { path: string | null; sha256: string; bytes: number; truncated: boolean };
  /**
   * The last lines of the gate's log (at most 4 KiB, as recorded, already redacted by the
   * executor), so a report stays readable when the log file is not at hand. Absent when
   * no log was available.
   */
  logTail?: string;
  evidence: EvidenceSummary;
  thresholds: ThresholdCheck[];
  /**
   * True when the gate ran under `gatehouse run --sandbox` (bubblewrap, seeing only its declared
   * inputs, its needs' outputs and setup's products). Absent when it did not.
   */
  sandbox?: boolean;
  /**
   * True when the gate's package script was started without its package manager
   * (`packages.direct`): `command.text` is the configured `<manager> run <script>`, and the
   * log's first lines name the script that ran. Absent when it ran through the manager.
   */
  direct?: boolean;
  /** What ran: the command as text (secrets redacted), where, and with which variables. */
  command?: GateCommand;
  /** The gates this gate needs (from the config), so a reader can draw the run's graph. */
  needs?: string[];
  /** Versions of the tools the gate used, where its evidence or the config names them. */
  tools?: ToolVersion[];
  /**
   * The checkout the gate ran in, as a result file (`run --result-file`) records it: `report
   * merge` rejects a result of another commit than the one it merges.
   */
  git?: { commit: string | null; dirty: boolean | null };
}

/** The command of one gate as the report records it. Never holds a secret value. */
export interface GateCommand {
  /** The gate's `run` text, with each secret value replaced by `***` (as in its log). */
  text: string;
  /** True when the redaction replaced something in `text`. */
  redacted: boolean;
  /** Working directory, relative to the project root (`.` is the config's directory). */
  cwd: string;
  /** Names of the environment variables the config gives the gate (`env:`), sorted; never values. */
  env: string[];
  /** Names of the secrets the gate was granted, sorted; never values. */
  secrets: string[];
}

/** One tool's version, and where the report learnt it. */
export interface ToolVersion {
  /** e.g. `node`, `pnpm`, `axe-core`, `eslint`, `SonarQube`. */
  name: string;
  version: string;
  /**
   * Where the version comes from:
   * - `runtime`: `node` and the package manager on the gate's `PATH` where it ran (local
   *   executor, CI jobs);
   * - `evidence`: the tool wrote it into an evidence file (axe-core's `testEngine`, a SARIF driver);
   * - `installed`: a tool the evidence names without a version (ESLint's JSON, Vitest's JUnit),
   *   read from its `package.json` in the project's `node_modules`, as `npx` finds it;
   * - `config`: the gate's `tools:` declares it.
   */
  source: 'runtime' | 'evidence' | 'installed' | 'config';
}

/** The machine and toolchain that ran Gatehouse (for Docker runs, each gate's image is in its result). */
export interface RunEnvironment {
  /** `platform release arch`, e.g. `linux 6.1.0-18-amd64 x64`. */
  os: string | null;
  /** `process.version` of the Node that ran Gatehouse, e.g. `v20.19.0`. */
  node: string | null;
  /** The project's package manager: from `packageManager` in package.json, else its lockfile. */
  packageManager: { name: string; version: string | null } | null;
}

/** When setup ran in this run, and how it ended. */
export interface SetupRecord {
  /**
   * `cached`: its key is the one that last passed here. `unneeded`: not run, because every
   * gate of the run was replayed from the cache (a fresh clone with a remote cache).
   */
  status: 'passed' | 'failed' | 'cached' | 'unneeded';
  /** ISO-8601 UTC. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** Who/where a run happened. */
export interface RunContext {
  ci: { provider: string; buildUrl: string | null; runId: string | null } | null;
  user: string | null;
  host: string | null;
}

/** The forge hosting the repository: findings link to their file at the run's commit there. */
export interface SourceHost {
  kind: 'github' | 'gitlab' | 'bitbucket';
  /** The repository's web address, `https://host/owner/name` (never with credentials). */
  url: string;
}

/** The commit a run checked. */
export interface GitInfo {
  commit: string | null;
  branch: string | null;
  dirty: boolean | null;
  /** Where the repository is hosted, when a known forge (absent in reports of older versions). */
  source?: SourceHost | null;
}

/** The unified report of one run. Canonical JSON of this object is what gets hashed. */
export interface RunReport {
  schemaVersion: 1;
  runId: string;
  gatehouseVersion: string;
  pipeline: string;
  configSha256: string;
  git: GitInfo;
  context: RunContext;
  startedAt: string;
  finishedAt: string;
  executor: string;
  verdict: {
    status: 'passed' | 'failed';
    /** One line per rule that decided, e.g. "blocking gate unit failed". */
    reasons: string[];
    policy: 'all-blocking-gates-pass';
  };
  gates: GateResult[];
  /** The machine and toolchain that ran Gatehouse. Absent in reports written before it existed. */
  environment?: RunEnvironment;
  /** Setup's timing; absent when this run had no setup (none configured, or `--only`). */
  setup?: SetupRecord;
  /** The presets the config extends (name, version, digest); absent when it extends none. */
  presets?: PresetRecord[];
  /**
   * Integrity seal, added when the report is written: sha256 over the canonical JSON of
   * the report without this member. Absent on an unsealed report.
   */
  integrity?: ReportIntegrity;
}

/** The integrity member of a sealed `report.json`. */
export interface ReportIntegrity {
  algorithm: 'sha256';
  /** Lowercase hex sha256 of `canonicalJson(report without integrity)`. */
  digest: string;
  /** Present when the report was signed: where the DSSE envelope is and which key signed it. */
  signature?: { format: 'dsse'; keyid: string; envelope: string } | null;
}

// ---------------------------------------------------------------------------
// Run events (executors -> CLI progress / --json)
// ---------------------------------------------------------------------------

export type RunEvent =
  | { type: 'run-start'; at: string; gates: string[] }
  | { type: 'setup-start'; at: string }
  | { type: 'setup-end'; at: string; ok: boolean; durationMs: number; cached: boolean }
  | { type: 'gate-start'; at: string; id: string }
  | { type: 'gate-output'; at: string; id: string; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'gate-end'; at: string; id: string; result: GateResult }
  | { type: 'message'; at: string; level: 'info' | 'warn' | 'error'; text: string }
  | { type: 'run-end'; at: string; report: RunReport };
