/**
 * Resolved pipeline → the typed workflow (`model.ts`): one job per gate, parallel as `needs`
 * allows, and a final job that merges and publishes the report.
 */
import {
  CI_DOCKER_RESULTS_DIR,
  CI_REMOTE_CACHE_VARS,
  CI_REPORT_DIR,
  CI_RESULTS_DIR,
  GatehouseError,
  ciConditionEnv,
  ciDockerCacheName,
  ciDockerGateCommands,
  ciFromTop,
  ciGateCommand,
  ciJobSecrets,
  ciJobTimeoutMinutes,
  ciHasPackageGates,
  ciReportCommands,
  ciResultFile,
  ciUsesRemoteCache,
  detectNodeToolchain,
  yamlCommented,
  type CiDockerCache,
  type CiMode,
  type ResolvedGate,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import { workflowTextProblems } from './checks.js';
import { monorepoJobs } from './monorepo.js';
import type { Job, Step, Workflow, WorkflowTriggers } from './model.js';
import type { GithubOptions, PinnedAction } from './options.js';

/** Job id of a gate in the workflow. */
export function gateJobId(gateId: string): string {
  return `gate-${gateId}`;
}
/** Job id of the final job that merges and publishes the report. */
export const REPORT_JOB_ID = 'gatehouse-report';

/** Build the typed workflow. Throws `GatehouseError` when user text cannot be placed safely. */
export function buildWorkflow(pipeline: ResolvedPipeline, options: GithubOptions): Workflow {
  const problems = workflowTextProblems(pipeline, options);
  if (problems.length > 0) {
    throw new GatehouseError(
      'GH_TARGET_UNSAFE',
      `github: ${problems.length} value(s) cannot be written safely into the workflow`,
      { diagnostics: problems },
    );
  }
  // The project's toolchain is read once, for every job that sets it up.
  const toolchain = toolchainSteps(pipeline, options);
  // A monorepo's jobs are chosen in CI: one per affected package, in docker mode one per
  // affected gate (docs/decisions/0009).
  const monorepo = ciHasPackageGates(pipeline);
  const jobs: Record<string, Job> = monorepo
    ? monorepoJobs(pipeline, options, preludeSteps(pipeline, options, toolchain))
    : {};
  for (const gate of monorepo ? [] : pipeline.gates) {
    jobs[gateJobId(gate.id)] =
      options.mode === 'docker'
        ? dockerGateJob(pipeline, gate, options)
        : nativeGateJob(pipeline, gate, options, toolchain);
  }
  jobs[REPORT_JOB_ID] ??= reportJob(pipeline, options, toolchain);
  return {
    name: `gatehouse: ${pipeline.name}`,
    on: triggers(options),
    permissions: { contents: 'read' },
    ...(options.concurrency
      ? {
          concurrency: {
            group: 'gatehouse-${{ github.workflow }}-${{ github.ref }}',
            'cancel-in-progress': true,
          },
        }
      : {}),
    // Jobs start at the checkout's top; the config's commands run in its directory.
    ...(options.checkout_dir
      ? { defaults: { run: { 'working-directory': options.checkout_dir } } }
      : {}),
    jobs,
  };
}

function triggers(options: GithubOptions): WorkflowTriggers {
  const on: WorkflowTriggers = {};
  const t = options.triggers;
  if (t.push) on.push = t.push.branches ? { branches: t.push.branches } : {};
  if (t.pull_request)
    on.pull_request = t.pull_request.branches ? { branches: t.pull_request.branches } : {};
  if (t.workflow_dispatch) on.workflow_dispatch = {};
  return on;
}

/** An action step's `uses:`, pinned by commit with the tag as a comment. */
export function uses(action: PinnedAction): Step['uses'] {
  return yamlCommented(`${action.repo}@${action.sha}`, action.tag);
}

export function secretEnv(names: string[]): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const name of names) env[name] = `\${{ secrets.${name} }}`;
  return env;
}

/**
 * Variables a gate's `when.env` reads come from repository/organisation variables
 * (`vars.*`), so the CLI on the runner sees them and skips the gate when they are unset.
 */
export function conditionEnv(names: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of names) env[name] = `\${{ vars.${name} }}`;
  return env;
}

function gateStepEnv(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  mode: CiMode,
  secrets: string[],
): Record<string, string> | undefined {
  const env = {
    ...conditionEnv(ciConditionEnv(pipeline, gate, mode)),
    ...secretEnv(secrets),
    ...remoteCacheEnv(pipeline, mode),
  };
  return Object.keys(env).length > 0 ? env : undefined;
}

/**
 * With `cache.remote`: the remote cache's address from variables, its token and signing key from
 * secrets, and read-write only on a push to the default branch (pull requests, from forks or
 * not, read).
 */
function remoteCacheEnv(pipeline: ResolvedPipeline, mode: CiMode): Record<string, string> {
  if (!ciUsesRemoteCache(pipeline, mode)) return {};
  const v = CI_REMOTE_CACHE_VARS;
  const writes =
    "github.event_name == 'push' && github.ref == format('refs/heads/{0}', github.event.repository.default_branch)";
  return {
    [v.url]: `\${{ vars.${v.url} }}`,
    [v.team]: `\${{ vars.${v.team} }}`,
    [v.token]: `\${{ secrets.${v.token} }}`,
    [v.signatureKey]: `\${{ secrets.${v.signatureKey} }}`,
    [v.readOnly]: `\${{ (${writes}) && 'false' || 'true' }}`,
  };
}

function optionalEnv(env: Record<string, string> | undefined): { env?: Record<string, string> } {
  return env ? { env } : {};
}

/**
 * Node and the package manager, as the project declares them. pnpm is installed before
 * setup-node (its `cache: pnpm` asks pnpm for the store path); yarn 2+ is enabled through
 * corepack, also before setup-node, which asks yarn for its cache folder.
 */
function toolchainSteps(pipeline: ResolvedPipeline, options: GithubOptions): Step[] {
  // A checkout whose top is the config directory holds no workspace root above it. The setup
  // command chooses among lockfiles of several managers: the cache is the one its install fills.
  const found = detectNodeToolchain(
    pipeline.rootDir,
    pipeline.image,
    !!options.checkout_dir,
    pipeline.setup?.run ?? null,
  );
  const pm = found.packageManager;
  const steps: Step[] = [];
  if (pm.name === 'pnpm') {
    // The package.json that declares `packageManager`: the config directory's, or the root's
    // of the workspace the config is a package of.
    const manifest = found.declaredDir ? `${found.declaredDir}/package.json` : 'package.json';
    steps.push({
      name: 'Set up pnpm',
      uses: uses(options.actions.setup_pnpm),
      // Without `packageManager` in package.json the action needs a version; with it, the
      // action reads the package.json at the checkout's top unless told which.
      ...(pm.declared?.startsWith('pnpm@')
        ? options.checkout_dir
          ? { with: { package_json_file: top(options, manifest) } }
          : {}
        : { with: { version: '10' } }),
    });
  } else if (pm.name === 'yarn' && pm.yarnBerry) {
    steps.push({ name: 'Enable corepack (yarn 2+)', run: 'corepack enable' });
  }
  const version: Record<string, string> =
    options.node_version !== null
      ? { 'node-version': options.node_version }
      : found.node.kind === 'image'
        ? { 'node-version': found.node.version }
        : found.node.kind === 'file'
          ? { 'node-version-file': top(options, found.node.file) }
          : { 'node-version': 'lts/*' };
  const cache = options.cache === null ? pm.name : options.cache;
  // setup-node looks for the lockfile at the checkout's top unless told where it is.
  const lockfile: Record<string, string> =
    cache && options.checkout_dir && pm.lockfile
      ? { 'cache-dependency-path': top(options, pm.lockfile) }
      : {};
  steps.push({
    name: 'Set up Node',
    uses: uses(options.actions.setup_node),
    with: { ...version, ...(cache ? { cache } : {}), ...lockfile },
  });
  return steps;
}

/** Checkout, toolchain and the config's `setup`: the first steps of every job. */
export function preludeSteps(
  pipeline: ResolvedPipeline,
  options: GithubOptions,
  toolchain: readonly Step[],
): Step[] {
  const steps: Step[] = [
    {
      name: 'Check out',
      uses: uses(options.actions.checkout),
      with: { 'persist-credentials': false },
    },
    ...toolchain.map((step) => ({ ...step })),
  ];
  const setup = pipeline.setup;
  if (setup) {
    const env = { ...setup.env, ...secretEnv(setup.secrets) };
    steps.push({
      name: 'Setup',
      run: setup.run,
      ...(Object.keys(env).length > 0 ? { env } : {}),
      'timeout-minutes': Math.ceil(setup.timeoutMs / 60_000),
    });
  }
  return steps;
}

function gateJobBase(
  gate: ResolvedGate,
  pipeline: ResolvedPipeline,
  options: GithubOptions,
): Omit<Job, 'steps'> {
  return {
    name: gate.description ? `${gate.id}: ${gate.description}` : gate.id,
    'runs-on': options.runs_on,
    ...(gate.needs.length > 0 ? { needs: gate.needs.map(gateJobId) } : {}),
    'timeout-minutes': ciJobTimeoutMinutes(pipeline, gate, options.mode),
    ...(gate.mode === 'advisory' ? { 'continue-on-error': true } : {}),
  };
}

function nativeGateJob(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  options: GithubOptions,
  toolchain: readonly Step[],
): Job {
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const steps = preludeSteps(pipeline, options, toolchain);
  for (const need of gate.needs) {
    if ((byId.get(need)?.outputs.length ?? 0) === 0) continue;
    steps.push({
      name: `Download outputs of ${need}`,
      uses: uses(options.actions.download_artifact),
      with: { name: outputsArtifact(need), path: top(options, '.') },
    });
  }
  steps.push({
    name: `Gate ${gate.id}`,
    run: ciGateCommand(options.cli, gate.id),
    ...optionalEnv(gateStepEnv(pipeline, gate, 'native', gate.secrets)),
  });
  steps.push({
    name: 'Upload gate result',
    if: 'always()',
    uses: uses(options.actions.upload_artifact),
    with: {
      name: resultArtifact(gate.id),
      path: top(options, ciResultFile(gate.id)),
      'if-no-files-found': 'warn',
    },
  });
  if (gate.outputs.length > 0) {
    steps.push({
      name: 'Upload gate outputs',
      uses: uses(options.actions.upload_artifact),
      // The result file sits at a different root than the outputs, so the artifact keeps
      // paths relative to the checkout and downloads restore them where the gate wrote them.
      with: {
        name: outputsArtifact(gate.id),
        path: [ciResultFile(gate.id), ...gate.outputs].map((p) => top(options, p)).join('\n'),
        'if-no-files-found': 'error',
        'include-hidden-files': true,
      },
    });
  }
  return { ...gateJobBase(gate, pipeline, options), steps };
}

/**
 * `docker_cache: registry`: a repository under the GitHub Container Registry of the repository
 * (lowercased, as image names must be), logged in with the job's `GITHUB_TOKEN`; written only on
 * a push to the default branch.
 */
function registryCache(pipeline: ResolvedPipeline): CiDockerCache {
  return {
    repository: `"${GHCR}/$(printf '%s' "$GITHUB_REPOSITORY" | tr '[:upper:]' '[:lower:]')/gatehouse-cache/${ciDockerCacheName(pipeline)}"`,
    registry: GHCR,
    user: '"$GITHUB_ACTOR"',
    password: `"$${REGISTRY_TOKEN_VAR}"`,
    pushWhen: `[ "$GITHUB_EVENT_NAME" = push ] && [ "$GITHUB_REF" = "refs/heads/$${DEFAULT_BRANCH_VAR}" ]`,
  };
}
const GHCR = 'ghcr.io';
const REGISTRY_TOKEN_VAR = 'GATEHOUSE_REGISTRY_TOKEN';
const DEFAULT_BRANCH_VAR = 'GATEHOUSE_DEFAULT_BRANCH';

/** Docker mode: the job that builds the gate's `result-<id>` stage and uploads its export. */
export function dockerGateJob(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  options: GithubOptions,
): Job {
  const secrets = ciJobSecrets(pipeline, gate, 'docker');
  const registry = options.docker_cache === 'registry';
  const env = {
    ...gateStepEnv(pipeline, gate, 'docker', secrets),
    ...(registry
      ? {
          [REGISTRY_TOKEN_VAR]: '${{ github.token }}',
          [DEFAULT_BRANCH_VAR]: '${{ github.event.repository.default_branch }}',
        }
      : {}),
  };
  const steps: Step[] = [
    {
      name: 'Check out',
      uses: uses(options.actions.checkout),
      with: { 'persist-credentials': false },
    },
    {
      name: `Gate ${gate.id} (docker build)`,
      run: ciDockerGateCommands(
        pipeline,
        gate,
        registry ? registryCache(pipeline) : undefined,
      ).join('\n'),
      ...optionalEnv(Object.keys(env).length > 0 ? env : undefined),
    },
    {
      name: 'Upload gate result',
      if: 'always()',
      uses: uses(options.actions.upload_artifact),
      with: {
        name: resultArtifact(gate.id),
        path: `${top(options, CI_DOCKER_RESULTS_DIR)}/`,
        'if-no-files-found': 'warn',
      },
    },
  ];
  return {
    ...gateJobBase(gate, pipeline, options),
    // The token reads the cache's packages, and writes them where the job may push (the push
    // itself runs only on the default branch).
    ...(registry ? { permissions: { contents: 'read', packages: 'write' } } : {}),
    steps,
  };
}

function reportJob(
  pipeline: ResolvedPipeline,
  options: GithubOptions,
  toolchain: readonly Step[],
): Job {
  const commands = ciReportCommands(options.cli, options.mode);
  const steps = preludeSteps(pipeline, options, toolchain);
  steps.push(
    {
      name: 'Download gate results',
      uses: uses(options.actions.download_artifact),
      // When no gate got as far as uploading a result, the merge still runs and reports each as missing.
      'continue-on-error': true,
      with: {
        pattern: `${resultArtifact('')}*`,
        path: top(options, options.mode === 'docker' ? CI_DOCKER_RESULTS_DIR : CI_RESULTS_DIR),
        'merge-multiple': true,
      },
    },
    { name: 'Merge gate results', run: `${commands.prepare}\n${commands.merge}` },
    {
      name: 'Publish report',
      run: [...commands.render, `cat ${commands.markdown} >> "$GITHUB_STEP_SUMMARY"`].join('\n'),
    },
    {
      name: 'Upload report',
      if: 'always()',
      uses: uses(options.actions.upload_artifact),
      with: {
        name: 'gatehouse-report',
        path: `${top(options, CI_REPORT_DIR)}/`,
        'if-no-files-found': 'warn',
      },
    },
  );
  const scanning = codeScanning(options);
  steps.push(...scanning.steps);
  return {
    name: 'gatehouse report',
    'runs-on': options.runs_on,
    ...(pipeline.gates.length > 0 ? { needs: pipeline.gates.map((g) => gateJobId(g.id)) } : {}),
    if: 'always()',
    ...scanning.job,
    'timeout-minutes': Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 15,
    steps,
  };
}

/**
 * What a report job needs to upload the report's SARIF to code scanning (when the option is
 * on): the upload step, and the permissions that only this job gets.
 */
export function codeScanning(options: GithubOptions): {
  steps: Step[];
  job: Pick<Job, 'permissions'>;
} {
  if (!options.code_scanning) return { steps: [], job: {} };
  return {
    steps: [
      {
        name: 'Upload SARIF to code scanning',
        uses: uses(options.actions.upload_sarif),
        // A pull request from a fork, or a repository without code scanning, cannot take the
        // upload: the report stays published and the run is judged by its gates.
        'continue-on-error': true,
        with: { sarif_file: top(options, `${CI_REPORT_DIR}/report.sarif`) },
      },
    ],
    // Only the report job may write code-scanning results; `actions: read` lets the upload
    // read the run in a private repository, `contents: read` is the checkout.
    job: { permissions: { actions: 'read', contents: 'read', 'security-events': 'write' } },
  };
}

/**
 * A path of the config directory as an action step takes it: from the checkout's top (`run`
 * steps start in the config directory, action steps do not).
 */
export function top(options: Pick<GithubOptions, 'checkout_dir'>, p: string): string {
  return ciFromTop(options.checkout_dir, p);
}

function resultArtifact(gateId: string): string {
  return `gatehouse-result-${gateId}`;
}
function outputsArtifact(gateId: string): string {
  return `gatehouse-outputs-${gateId}`;
}
