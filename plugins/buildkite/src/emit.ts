import {
  CI_DOCKER_RESULTS_DIR,
  CI_REPORT_DIR,
  CI_RESULTS_DIR,
  GatehouseError,
  ciDockerGateCommands,
  ciDockerModeProblem,
  ciGateCommand,
  ciJobSecrets,
  ciJobTimeoutMinutes,
  ciReportCommands,
  ciResultFile,
  ciUserTexts,
  generatedHeader,
  isPlainArtifactGlob,
  shellQuote,
  stringifyYaml,
  type Diagnostic,
  type EmittedFile,
  type ResolvedGate,
  type ResolvedPipeline,
  type TargetContext,
  type YamlValue,
} from '@gatehouse/core';
import type { BuildkiteOptions } from './options.js';
import type { BuildkitePipeline, GatehouseCommandStep } from './pipeline.js';

/** Step key of a gate. */
export function gateStepKey(gateId: string): string {
  return `gate-${gateId}`;
}
/** Step key of the final step that merges and publishes the report. */
export const REPORT_STEP_KEY = 'gatehouse-report';

/**
 * Build the typed pipeline, with every string exactly as the agent must see it (before the
 * upload-time `$` escaping). Throws `GatehouseError` when user text cannot be represented.
 */
export function buildPipeline(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
): BuildkitePipeline {
  checkUserText(pipeline, options);
  const steps = pipeline.gates.map((gate) =>
    options.mode === 'docker'
      ? dockerGateStep(pipeline, gate, options)
      : nativeGateStep(pipeline, gate, options),
  );
  steps.push(reportStep(pipeline, options));
  return { steps };
}

/** Build, escape against upload-time interpolation, and serialise `pipeline.yml`. */
export function emitBuildkitePipeline(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
  ctx: TargetContext,
): EmittedFile {
  const model = escapeInterpolation(buildPipeline(pipeline, options));
  const contents = stringifyYaml(model as unknown as YamlValue, {
    header: [generatedHeader(ctx.configFile)],
  });
  return { path: options.path, contents };
}

/**
 * `buildkite-agent pipeline upload` expands `$VAR`, `${VAR}` and reads `$$` (or `\$`) as a
 * literal `$` in every value. Doubling each `$` makes the agent see the original text, provided
 * no odd run of backslashes precedes a `$` (refused by {@link checkUserText}).
 */
export function escapeInterpolation<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\$/g, () => '$$') as T;
  if (Array.isArray(value)) return value.map((v) => escapeInterpolation(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, escapeInterpolation(v)]),
    ) as T;
  }
  return value;
}

function common(options: BuildkiteOptions): Pick<GatehouseCommandStep, 'agents' | 'image'> {
  return {
    ...(Object.keys(options.agents).length > 0 ? { agents: { ...options.agents } } : {}),
    ...(options.docker_image ? { image: options.docker_image } : {}),
  };
}

function setupEnv(pipeline: ResolvedPipeline): Pick<GatehouseCommandStep, 'env'> {
  const env = pipeline.setup?.env ?? {};
  return Object.keys(env).length > 0 ? { env: { ...env } } : {};
}

function secrets(
  names: string[],
  options: BuildkiteOptions,
): Pick<GatehouseCommandStep, 'secrets'> {
  return names.length > 0 && options.secret_source === 'buildkite' ? { secrets: names } : {};
}

function label(gate: ResolvedGate): string {
  return gate.description ? `${gate.id}: ${gate.description}` : gate.id;
}

function nativeGateStep(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  options: BuildkiteOptions,
): GatehouseCommandStep {
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const commands: string[] = [];
  if (pipeline.setup) commands.push(pipeline.setup.run);
  for (const need of gate.needs) {
    for (const glob of byId.get(need)?.outputs ?? []) {
      commands.push(
        `buildkite-agent artifact download ${shellQuote(glob)} . --step ${gateStepKey(need)}`,
      );
    }
  }
  commands.push(ciGateCommand(options.cli, gate.id));
  return {
    key: gateStepKey(gate.id),
    label: label(gate),
    ...(gate.needs.length > 0 ? { depends_on: gate.needs.map(gateStepKey) } : {}),
    commands,
    ...setupEnv(pipeline),
    ...secrets(ciJobSecrets(pipeline, gate, 'native'), options),
    ...common(options),
    ...(gate.mode === 'advisory' ? { soft_fail: true } : {}),
    timeout_in_minutes: ciJobTimeoutMinutes(pipeline, gate, 'native'),
    artifact_paths: [ciResultFile(gate.id), ...gate.outputs],
  };
}

function dockerGateStep(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  options: BuildkiteOptions,
): GatehouseCommandStep {
  return {
    key: gateStepKey(gate.id),
    label: label(gate),
    ...(gate.needs.length > 0 ? { depends_on: gate.needs.map(gateStepKey) } : {}),
    commands: ciDockerGateCommands(pipeline, gate),
    ...secrets(ciJobSecrets(pipeline, gate, 'docker'), options),
    ...common(options),
    ...(gate.mode === 'advisory' ? { soft_fail: true } : {}),
    timeout_in_minutes: ciJobTimeoutMinutes(pipeline, gate, 'docker'),
    artifact_paths: [`${CI_DOCKER_RESULTS_DIR}/${gate.id}/**/*`],
  };
}

function reportStep(pipeline: ResolvedPipeline, options: BuildkiteOptions): GatehouseCommandStep {
  const report = ciReportCommands(options.cli, options.mode);
  const results =
    options.mode === 'docker' ? `${CI_DOCKER_RESULTS_DIR}/**/*` : `${CI_RESULTS_DIR}/*.json`;
  return {
    key: REPORT_STEP_KEY,
    label: 'gatehouse report',
    ...(pipeline.gates.length > 0
      ? { depends_on: pipeline.gates.map((g) => gateStepKey(g.id)) }
      : {}),
    allow_dependency_failure: true,
    commands: [
      ...(pipeline.setup ? [pipeline.setup.run] : []),
      // Gates that never uploaded a result are reported as such by the merge, so a miss here is not fatal.
      `buildkite-agent artifact download ${shellQuote(results)} . || echo "no gate results were uploaded"`,
      report.prepare,
      report.merge,
      ...report.render,
      `buildkite-agent annotate --style info --context gatehouse < ${report.markdown}`,
    ],
    ...setupEnv(pipeline),
    ...secrets(pipeline.setup?.secrets ?? [], options),
    ...common(options),
    timeout_in_minutes: Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 15,
    artifact_paths: [`${CI_REPORT_DIR}/*`],
  };
}

// An odd run of backslashes right before `$`: the agent would eat one backslash.
const ODD_BACKSLASH_DOLLAR = /(?<!\\)(?:\\\\)*\\\$/;

/** Every place user text lands in the pipeline, checked at once. */
function checkUserText(pipeline: ResolvedPipeline, options: BuildkiteOptions): void {
  const diagnostics: Diagnostic[] = [];
  const docker = ciDockerModeProblem(pipeline, 'buildkite', options.mode);
  if (docker) diagnostics.push(docker);
  // The pipeline name is not written into pipeline.yml.
  for (const { path, field, text } of ciUserTexts(pipeline).filter((t) => t.field !== 'name')) {
    if (ODD_BACKSLASH_DOLLAR.test(text)) {
      diagnostics.push({
        code: 'GH_BUILDKITE_BACKSLASH_DOLLAR',
        severity: 'error',
        message:
          'an odd number of backslashes before `$` cannot be written so that `buildkite-agent pipeline upload` keeps it',
        path,
        loc: null,
        hint: 'move the command into a script file and call the script, or use single quotes around `$` in the shell',
      });
    }
    // The agent splits artifact paths on `;`.
    if (field === 'output' && (!isPlainArtifactGlob(text) || text.includes(';'))) {
      diagnostics.push({
        code: 'GH_BUILDKITE_UNSAFE_PATH',
        severity: 'error',
        message:
          'an output glob must be one line without `;` or surrounding spaces to be used as a Buildkite artifact path',
        path,
        loc: null,
      });
    }
  }
  if (diagnostics.length > 0) {
    throw new GatehouseError(
      'GH_TARGET_UNSAFE',
      `buildkite: ${diagnostics.length} value(s) cannot be written safely into the pipeline`,
      { diagnostics },
    );
  }
}
