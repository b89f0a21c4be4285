/**
 * The pipeline of a config with gates of workspace packages (docs/decisions/0009-monorepo-ci.md),
 * Buildkite's dynamic-pipeline pattern: the static `pipeline.yml` holds one step that runs
 * `gatehouse affected --buildkite` and uploads what it prints: one step per affected package
 * (its gates after one setup, rebuilding what they need from other packages) and the report step.
 * In docker mode it prints one step per gate of the affected jobs (each build runs the stages of
 * its needs) and the report step.
 */
import {
  ciAffectedCommand,
  CI_DOCKER_RESULTS_DIR,
  CI_REPORT_DIR,
  CI_RESULTS_DIR,
  ciJobSecrets,
  ciPackageJobScript,
  ciPackageReportDir,
  ciReportCommands,
  stringifyYaml,
  type CiPackageJob,
  type ResolvedPipeline,
  type YamlValue,
} from '@gatehouse-ci/core';
import {
  annotateCommand,
  common,
  dockerGateStep,
  downloadCommand,
  gateStepKey,
  inConfigDir,
  REPORT_STEP_KEY,
  secrets,
  setupEnv,
} from './build.js';
import type { BuildkitePipeline, GatehouseCommandStep } from './model.js';
import type { BuildkiteOptions } from './options.js';
import { escapeInterpolation } from './print.js';

/** Key of the static step that computes the affected set and uploads the steps. */
export const PLAN_STEP_KEY = 'gatehouse-plan';
/** Where the plan step writes the generated steps before uploading them. */
export const AFFECTED_STEPS_FILE = '.gatehouse-affected.yml';

/** Step key of a package job (`gate-` as a gate's, `pkg-` so the two can never clash). */
export function packageStepKey(key: string): string {
  return `pkg-${key}`;
}

/**
 * The commit to compare with: a pull request's base branch; on another branch, the default
 * branch; on the default branch nothing (every step runs: Buildkite does not say which commit
 * a push started from). The base branch is fetched, as agents fetch only the built branch.
 */
const CHOOSE_BASE = [
  'BASE=',
  'B="${BUILDKITE_PULL_REQUEST_BASE_BRANCH:-}"',
  'if [ -z "$B" ] && [ "$BUILDKITE_BRANCH" != "$BUILDKITE_PIPELINE_DEFAULT_BRANCH" ]; then B="$BUILDKITE_PIPELINE_DEFAULT_BRANCH"; fi',
  'if [ -n "$B" ] && git fetch --quiet origin "+refs/heads/$B:refs/remotes/origin/$B"; then BASE="origin/$B"; fi',
].join('\n');

/** The static pipeline: the plan step only. */
export function buildPlanPipeline(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
): BuildkitePipeline {
  return {
    steps: [
      {
        key: PLAN_STEP_KEY,
        label: 'gatehouse plan',
        commands: [
          ...(pipeline.setup ? [pipeline.setup.run] : []),
          CHOOSE_BASE,
          `${ciAffectedCommand(options.cli, '--buildkite')} > ${AFFECTED_STEPS_FILE}`,
          `buildkite-agent pipeline upload ${AFFECTED_STEPS_FILE}`,
        ],
        ...setupEnv(pipeline),
        ...secrets(pipeline.setup?.secrets ?? [], options),
        ...common(options),
        timeout_in_minutes: Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 10,
      },
    ],
  };
}

/** The steps of the affected `jobs`, typed (strings as the agent must see them). */
export function buildAffectedPipeline(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
  jobs: readonly CiPackageJob[],
): BuildkitePipeline {
  if (options.mode === 'docker')
    return inConfigDir(affectedDockerPipeline(pipeline, options, jobs), options.checkout_dir);
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const steps: GatehouseCommandStep[] = jobs.map((job) => {
    const names = new Set<string>();
    for (const id of job.gates)
      for (const s of ciJobSecrets(pipeline, byId.get(id)!, 'native')) names.add(s);
    const ms = [...job.gates, ...job.deps].reduce((t, id) => t + byId.get(id)!.timeoutMs, 0);
    const dir = ciPackageReportDir(CI_RESULTS_DIR, job.key);
    return {
      key: packageStepKey(job.key),
      label: job.label,
      commands: [
        ...(pipeline.setup ? [pipeline.setup.run] : []),
        ciPackageJobScript(options.cli, job.gates.join(' '), job.deps.join(' '), dir).join('\n'),
      ],
      ...setupEnv(pipeline),
      ...secrets([...names].sort(), options),
      ...common(options),
      timeout_in_minutes: Math.ceil(((pipeline.setup?.timeoutMs ?? 0) + ms) / 60_000) + 5,
      artifact_paths: [`${dir}/report.json`],
    };
  });
  steps.push(
    selectedReportStep(
      pipeline,
      options,
      jobs.flatMap((j) => j.gates),
      jobs.map((j) => packageStepKey(j.key)),
      `${CI_RESULTS_DIR}/*/report.json`,
    ),
  );
  return inConfigDir({ steps }, options.checkout_dir);
}

/**
 * Docker mode: one step per gate of the affected jobs, as without packages (each build runs the
 * stages of its needs), waiting only for the steps of needs that are there too, and the report.
 */
function affectedDockerPipeline(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
  jobs: readonly CiPackageJob[],
): BuildkitePipeline {
  const selected = new Set(jobs.flatMap((j) => j.gates));
  const gates = pipeline.gates.filter((g) => selected.has(g.id));
  const steps: GatehouseCommandStep[] = gates.map((gate) => {
    const step = dockerGateStep(pipeline, gate, options);
    const needs = gate.needs.filter((id) => selected.has(id));
    if (needs.length > 0) step.depends_on = needs.map(gateStepKey);
    else delete step.depends_on;
    return step;
  });
  steps.push(
    selectedReportStep(
      pipeline,
      options,
      gates.map((g) => g.id),
      steps.map((s) => s.key),
      `${CI_DOCKER_RESULTS_DIR}/**/*`,
    ),
  );
  return { steps };
}

/**
 * The report step of the uploaded steps: waits for `after`, downloads `results` and fails when
 * one of `gates` did not pass or has no result.
 */
function selectedReportStep(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
  gateIds: readonly string[],
  after: readonly string[],
  results: string,
): GatehouseCommandStep {
  const report = ciReportCommands(options.cli, options.mode);
  const gates = gateIds.join(' ');
  return {
    key: REPORT_STEP_KEY,
    label: 'gatehouse report',
    ...(after.length > 0 ? { depends_on: [...after], allow_dependency_failure: true } : {}),
    commands: [
      ...(pipeline.setup ? [pipeline.setup.run] : []),
      `${downloadCommand(options, results)} || echo "no gate results were uploaded"`,
      report.prepare,
      // The report is rendered and annotated before a failed verdict fails the step.
      `verdict=passed; ${report.merge} --gates '${gates}' --fail-on-verdict || verdict=failed`,
      ...report.render,
      annotateCommand(options.cli, report),
      'test "$verdict" = passed',
    ],
    ...setupEnv(pipeline),
    ...secrets(pipeline.setup?.secrets ?? [], options),
    ...common(options),
    timeout_in_minutes: Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 15,
    artifact_paths: [`${CI_REPORT_DIR}/*`],
  };
}

/** What `gatehouse affected --buildkite` prints: the affected steps, escaped for the upload. */
export function buildAffectedSteps(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
  jobs: readonly CiPackageJob[],
): string {
  return stringifyYaml(
    escapeInterpolation(buildAffectedPipeline(pipeline, options, jobs)) as unknown as YamlValue,
    { header: ['generated by gatehouse affected — uploaded by the gatehouse-plan step'] },
  );
}
