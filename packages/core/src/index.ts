/**
 * @gatehouse-ci/core — public API. Everything not exported here is internal.
 */
export * from './model.js';
export * from './errors.js';
export * from './plugin.js';
export { sha256, canonicalJson } from './hash.js';
export { unmetCondition } from './when.js';
export {
  DIAGNOSTIC_CODES,
  closest,
  codeFrame,
  didYouMean,
  formatDiagnostic,
  formatPath,
  levenshtein,
  sortDiagnostics,
  summarizeDiagnostics,
  type CodeFrameOptions,
  type DiagnosticCode,
  type DiagnosticCodeInfo,
} from './diagnostics.js';
export {
  discoverWorkspace,
  dependenciesOf,
  withDependents,
  affectedPackages,
  type AffectedPackages,
  writtenByGatehouse,
  packageOfFile,
  packageSlug,
  workspaceGlobsMatch,
  usesNxProjects,
  findWorkspaceRoot,
  workTreeTop,
  realPathOf,
  checkoutOf,
  type Checkout,
  type WorkspaceRoot,
  type Workspace,
  type WorkspacePackage,
} from './workspace.js';
export { packageSlugs } from './config/packages.js';
export { parseDuration, formatDuration, DURATION_PATTERN } from './duration.js';
export {
  topologicalLayers,
  findCycle,
  assertKnownGates,
  selectGates,
  selectOnlyGates,
  criticalPath,
  withNeeds,
  type GateNode,
} from './dag.js';
export {
  configSchema,
  publishedSchema,
  GATE_ID_PATTERN,
  ENV_NAME_PATTERN,
  RESERVED_NAME_PREFIXES,
  type SchemaNode,
  type JsonType,
  type GatehouseFormat,
} from './config/schema.js';
export {
  BUILTIN_PRESETS,
  DEFAULT_EVIDENCE_PATHS,
  DEFAULT_IMAGE,
  DEFAULT_WORKDIR,
  POLICY_KEYS_BY_KIND,
} from './config/presets.js';
export {
  loadPipeline,
  MAX_CONFIG_BYTES,
  validateConfig,
  validateBytes,
  resolveConfig,
  locateInConfig,
  inheritLocator,
  type ConfigValidation,
  type LoadOptions,
  type Locate,
  type ResolveContext,
} from './config/load.js';
export { presetDrift, DRIFT_CHANGES, type DriftChange, type DriftEntry } from './config/drift.js';
export { PRESET_PACKAGE_FIELD, MAX_PRESET_DEPTH } from './config/extends.js';
export {
  PluginRegistry,
  loadPlugins,
  importPlugins,
  checkPluginShape,
  checkBuiltins,
  isLazyPlugin,
  type LazyPlugin,
  type PluginEntry,
} from './plugins.js';
export {
  compileTargets,
  resolveTargetOptions,
  checkFiles,
  shownFilePath,
  checkOutputPaths,
  outputPathProblem,
  writeFiles,
  generatedHeader,
  withFrames,
  type CompileOptions,
  type CompiledFile,
  type FileCheck,
} from './compile.js';
export { unifiedDiff, type DiffOptions } from './diff.js';
export { mergeJsonFile, jsonMergeDrift } from './json-merge.js';
export { procStat, processRunning, OWN_PROC_START } from './process.js';
export {
  detectNodeToolchain,
  nodeVersionOfImage,
  packageManagerOf,
  packageManagerRunBy,
  PACKAGE_MANAGER_FILES,
  workspaceRootAbove,
  type NodeToolchain,
  type NodeVersionSource,
  type PackageManagerFacts,
} from './toolchain.js';
export { findOnPath, nodeVersionOnPath } from './on-path.js';
export { renderConfigReference, renderSchemaFile } from './config/reference.js';
export { loadProject, type Project, type ProjectOptions } from './project.js';
export type { PipelineCacheOptions } from './pipeline-cache.js';
export {
  projectStateKey,
  stateKeyDir,
  StateKey,
  STATE_KEY_FILE,
  type StateKeyResult,
} from './state-key.js';
export { stringifyYaml, quoteYamlString, yamlCommented, YamlCommented } from './yaml-emit.js';
export type { YamlValue, StringifyYamlOptions } from './yaml-emit.js';
export {
  CI_RESULTS_DIR,
  CI_REPORT_DIR,
  CI_DOCKER_RESULTS_DIR,
  DEFAULT_CI_CLI,
  readCiCommonOptions,
  readCommonOptions,
  readCliOption,
  ciGateCommand,
  ciResultFile,
  ciReportCommands,
  ciDockerGateCommands,
  ciDockerCacheName,
  readDockerCacheOption,
  ciDockerCacheExportable,
  CI_DOCKER_CACHE_VAR,
  ciJobSecrets,
  ciJobTimeoutMinutes,
  transitiveNeeds,
  shellQuote,
  ciUserTexts,
  isPlainArtifactGlob,
  ciDockerModeProblem,
  ciConditionEnv,
  CI_REMOTE_CACHE_VARS,
  ciUsesRemoteCache,
  ciRemoteCacheModeLine,
  ciWithCheckoutDir,
  ciFromTop,
  ciUpToTop,
} from './ci.js';
export type { CiMode, CiCommonOptions, CiDockerCache, CiUserText, CiUserTextField } from './ci.js';
export {
  ciAffectedCommand,
  ciHasPackageGates,
  ciPackageJobs,
  ciPackageJobScript,
  ciPackageReportDir,
} from './ci-packages.js';
export type { CiPackageJob } from './ci-packages.js';
export {
  CI_OPTION_UNKNOWN,
  CI_OPTION_INVALID,
  OptionReader,
  optionDiagnostic,
  unknownOptionDiagnostics,
} from './option-reader.js';
export {
  DEFAULT_DOCKERFILE_PATH,
  DOCKER_EVIDENCE_DIR,
  DOCKER_LOG_FILE,
  DOCKER_OUT_ROOT,
  DOCKER_RESULT_FILE,
  EXPORTED_RESULT_KEYS,
  gateStageName,
  parseExportedResult,
  resultStageName,
  type ExportedGateResult,
} from './docker-layout.js';
export { globNames, globToRegExp, isRootGlob, splitInputGlob, ROOT_GLOB_PREFIX } from './glob.js';
export {
  newRunId,
  runDirOf,
  runPaths,
  runsDirOf,
  stateDirOf,
  STATE_DIR_NAME,
  type RunPaths,
} from './run-state.js';
export { isPlainObject } from './object.js';
