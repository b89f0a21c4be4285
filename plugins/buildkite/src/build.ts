/**
 * Resolved pipeline → the typed `pipeline.yml` (`model.ts`): one command step per gate
 * (`depends_on` mirrors `needs`) and a final step that merges the results and annotates the build.
 */
import {
  CI_DOCKER_RESULTS_DIR,
  CI_REMOTE_CACHE_VARS,
  CI_REPORT_DIR,
  CI_RESULTS_DIR,
  GatehouseError,
  ciDockerGateCommands,
  ciFromTop,
  ciGateCommand,
  ciHasPackageGates,
  ciJobSecrets,
  ciJobTimeoutMinutes,
  ciReportCommands,
  ciResultFile,
  ciRemoteCacheModeLine,
  ciUpToTop,
  ciUsesRemoteCache,
  shellQuote,
  type ResolvedGate,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import { pipelineTextProblems } from './checks.js';
import type { BuildkitePipeline, GatehouseCommandStep } from './model.js';
import { buildPlanPipeline } from './monorepo.js';
import type { BuildkiteOptions } from './options.js';

/** Step key of a gate. */
export function gateStepKey(gateId: string): string {
  return `gate-${gateId}`;
}
/** Step key of the final step that merges and publishes the report. */
export const REPORT_STEP_KEY = 'gatehouse-report';

/**
 * Build the typed pipeline, with every string exactly as the agent must see it (before the
 * upload-time `$` escaping, which `print.ts` does). Throws `GatehouseError` when user text
 * cannot be represented.
 */
export function buildPipeline(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
): BuildkitePipeline {
  const problems = pipelineTextProblems(pipeline, options);
  if (problems.length > 0) {
    throw new GatehouseError(
      'GH_TARGET_UNSAFE',
      `buildkite: ${problems.length} value(s) cannot be written safely into the pipeline`,
      { diagnostics: problems },
    );
  }
  // A monorepo's steps are chosen in CI and uploaded by a plan step (docs/decisions/0009).
  if (ciHasPackageGates(pipeline))
    return inConfigDir(buildPlanPipeline(pipeline, options), options.checkout_dir);
  const steps = pipeline.gates.map((gate) =>
    options.mode === 'docker'
      ? dockerGateStep(pipeline, gate, options)
      : nativeGateStep(pipeline, gate, options),
  );
  steps.push(reportStep(pipeline, options));
  return inConfigDir({ steps }, options.checkout_dir);
}

/**
 * The steps of a config in the checkout's subdirectory `dir` (docs/decisions/0017): each starts
 * with `cd` there, and its `artifact_paths`, which the agent reads from the checkout's top, name
 * their files from there.
 */
export function inConfigDir(
  p: BuildkitePipeline,
  dir: string | null | undefined,
): BuildkitePipeline {
  if (!dir) return p;
  return {
    steps: p.steps.map((s) => ({
      ...s,
      commands: [`cd ${shellQuote(dir)}`, ...s.commands],
      ...(s.artifact_paths
        ? {
            artifact_paths: (typeof s.artifact_paths === 'string'
              ? [s.artifact_paths]
              : s.artifact_paths
            ).map((a) => ciFromTop(dir, a)),
          }
        : {}),
    })),
  };
}

/**
 * `buildkite-agent artifact download` of `glob` (relative to the config directory) into the
 * config directory, from a step that has changed into it: artifacts are named from the top.
 */
export function downloadCommand(
  options: Pick<BuildkiteOptions, 'checkout_dir'>,
  glob: string,
): string {
  return `buildkite-agent artifact download ${shellQuote(ciFromTop(options.checkout_dir, glob))} ${ciUpToTop(options.checkout_dir)}`;
}

/** Where a step runs: the agents it targets and its container image. */
export function common(options: BuildkiteOptions): Pick<GatehouseCommandStep, 'agents' | 'image'> {
  return {
    ...(Object.keys(options.agents).length > 0 ? { agents: { ...options.agents } } : {}),
    ...(options.docker_image ? { image: options.docker_image } : {}),
  };
}

/** The setup's plain environment, for steps that run the setup. */
export function setupEnv(pipeline: ResolvedPipeline): Pick<GatehouseCommandStep, 'env'> {
  const env = pipeline.setup?.env ?? {};
  return Object.keys(env).length > 0 ? { env: { ...env } } : {};
}

/** Secret names, when Buildkite's own secrets provide them. */
export function secrets(
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
      commands.push(`${downloadCommand(options, glob)} --step ${gateStepKey(need)}`);
    }
  }
  const remote = ciUsesRemoteCache(pipeline, options.mode);
  // Read-write only on a build of the default branch that is not a pull request.
  if (remote)
    commands.push(
      ciRemoteCacheModeLine(
        '[ "$BUILDKITE_PULL_REQUEST" = false ] && [ "$BUILDKITE_BRANCH" = "$BUILDKITE_PIPELINE_DEFAULT_BRANCH" ]',
      ),
    );
  commands.push(ciGateCommand(options.cli, gate.id));
  const secretNames = ciJobSecrets(pipeline, gate, 'native');
  return {
    key: gateStepKey(gate.id),
    label: label(gate),
    ...(gate.needs.length > 0 ? { depends_on: gate.needs.map(gateStepKey) } : {}),
    commands,
    ...setupEnv(pipeline),
    ...secrets(remote ? [...secretNames, CI_REMOTE_CACHE_VARS.token] : secretNames, options),
    ...common(options),
    ...(gate.mode === 'advisory' ? { soft_fail: true } : {}),
    timeout_in_minutes: ciJobTimeoutMinutes(pipeline, gate, 'native'),
    artifact_paths: [ciResultFile(gate.id), ...gate.outputs],
  };
}

/** Docker mode: the step that builds the gate's `result-<id>` stage and uploads its export. */
export function dockerGateStep(
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
      `${downloadCommand(options, results)} || echo "no gate results were uploaded"`,
      report.prepare,
      report.merge,
      ...report.render,
      // The annotation's colour follows the verdict (`success`, `warning` or `error`).
      annotateCommand(options.cli, report),
    ],
    ...setupEnv(pipeline),
    ...secrets(pipeline.setup?.secrets ?? [], options),
    ...common(options),
    timeout_in_minutes: Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 15,
    artifact_paths: [`${CI_REPORT_DIR}/*`],
  };
}

/** Annotates the build with the report, styled by its verdict (error, warning or success). */
export function annotateCommand(cli: string, report: { json: string; markdown: string }): string {
  return `buildkite-agent annotate --style "$(${cli} report render ${report.json} --format style)" --context gatehouse < ${report.markdown}`;
}
