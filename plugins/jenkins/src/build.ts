/**
 * Resolved pipeline → declarative Jenkinsfile model (`model.ts`).
 *
 * Declarative Pipeline has no `needs`: stages run in order and `parallel` fans out.
 * So the gate DAG becomes its topological layers, run one after another, each layer's
 * gates in parallel. Every `needs` edge is honoured (a need is always in an earlier
 * layer) but the order is stricter than the DAG: a gate also waits for the gates of
 * the previous layer it does not need.
 *
 * Everything runs on one agent in one workspace: setup installs once, later stages
 * reuse the workspace (and see the outputs of earlier gates) without stash/unstash.
 * The gates of one parallel layer run side by side there: `gatehouse run --only` takes
 * the workspace's lock shared (and a lock on its own gate only), so siblings never wait.
 *
 * No user value goes into an `environment { }` block: Declarative resolves `$NAME` and
 * `${NAME}` in those values itself, even single-quoted. Gate `env` is applied by the CLI;
 * setup `env` is exported, shell-quoted, at the top of the setup script.
 */
import {
  CI_REMOTE_CACHE_VARS,
  ciDockerGateCommands,
  ciGateCommand,
  ciHasPackageGates,
  ciJobSecrets,
  ciJobTimeoutMinutes,
  ciReportCommands,
  ciRemoteCacheModeLine,
  ciUsesRemoteCache,
  CI_REPORT_DIR,
  CI_RESULTS_DIR,
  GatehouseError,
  shellQuote,
  topologicalLayers,
  type ResolvedGate,
  type ResolvedPipeline,
  ciFromTop,
} from '@gatehouse-ci/core';
import { jenkinsfileTextProblems } from './checks.js';
import { AFFECTED_MINUTES, affectedStage, affectedWhen, monorepoReportSteps } from './monorepo.js';
import type {
  Agent,
  DeclarativePipeline,
  Post,
  Stage,
  Step,
  StringCredentialBinding,
} from './model.js';
import { defaultCredentialsId, type ResolvedJenkinsOptions } from './options.js';

/** Name of the setup stage. Capitalised, so it can never equal a gate id. */
export const SETUP_STAGE = 'Setup';
/** Name of the first stage, which removes the results and report an earlier build left. */
export const CLEAN_STAGE = 'Clean results';
/** Minutes added to the pipeline timeout for merging and publishing the report. */
export const REPORT_MINUTES = 10;
/**
 * Minutes a native gate stage adds to its gate's timeout, so the CLI's own timeout
 * fires first and still records a `timeout` result.
 */
export const STAGE_GRACE_MINUTES = 1;

/** Name of the parallel stage of layer `index` (0-based). Capitalised: never a gate id. */
export function layerStageName(index: number): string {
  return `Gates ${index + 1}`;
}

function minutes(ms: number): number {
  return Math.max(1, Math.ceil(ms / 60_000));
}

/** `export NAME='value'` lines (sorted by name) followed by `run`: the setup stage's script. */
export function setupScript(run: string, env: Record<string, string>): string {
  const exports = Object.keys(env)
    .sort()
    .map((name) => `export ${name}=${shellQuote(env[name] as string)}\n`);
  return exports.join('') + run;
}

function credentialBindings(
  secrets: readonly string[],
  options: ResolvedJenkinsOptions,
): StringCredentialBinding[] {
  return [...new Set(secrets)].sort().map((name) => ({
    kind: 'string',
    credentialsId: options.credentials[name] ?? defaultCredentialsId(name),
    variable: name,
  }));
}

function withSecrets(bindings: StringCredentialBinding[], steps: Step[]): Step[] {
  return bindings.length === 0 ? steps : [{ kind: 'withCredentials', bindings, steps }];
}

/** Minutes a gate stage may take: the gate (docker: plus what its build may rerun) and grace. */
function stageMinutes(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  options: ResolvedJenkinsOptions,
): number {
  return options.mode === 'docker'
    ? ciJobTimeoutMinutes(pipeline, gate, 'docker')
    : minutes(gate.timeoutMs) + STAGE_GRACE_MINUTES;
}

function gateStage(
  gate: ResolvedGate,
  pipeline: ResolvedPipeline,
  options: ResolvedJenkinsOptions,
): Stage {
  const native = options.mode === 'native';
  const remote = ciUsesRemoteCache(pipeline, options.mode);
  const commands = native
    ? [
        // One script: the read-only flag must reach the gate's command. Read-write only on a
        // branch build (not a change request) of the default branch.
        (remote
          ? [
              ciRemoteCacheModeLine(
                '[ -z "${CHANGE_ID:-}" ] && [ -n "${BRANCH_NAME:-}" ] && [ "$BRANCH_NAME" = "${GATEHOUSE_REMOTE_CACHE_WRITE_BRANCH:-main}" ]',
              ),
            ]
          : []
        )
          .concat(ciGateCommand(options.cli, gate.id))
          .join('\n'),
      ]
    : ciDockerGateCommands(pipeline, gate);
  // native: setup already ran in this workspace, so only the gate's own secrets are bound
  const secrets = native
    ? [...gate.secrets, ...(remote ? [CI_REMOTE_CACHE_VARS.token] : [])]
    : ciJobSecrets(pipeline, gate, 'docker');
  let steps = withSecrets(
    credentialBindings(secrets, options),
    commands.map((script): Step => ({ kind: 'sh', script })),
  );
  if (gate.mode === 'advisory') {
    steps = [{ kind: 'catchError', buildResult: 'SUCCESS', stageResult: 'UNSTABLE', steps }];
  }
  // the gate's env is set by the CLI (native) or baked into its Dockerfile stage (docker)
  return {
    name: gate.id,
    options: [{ kind: 'timeout', minutes: stageMinutes(pipeline, gate, options) }],
    body: { kind: 'steps', steps },
  };
}

function agentOf(options: ResolvedJenkinsOptions): Agent {
  const { label, docker } = options.agent;
  if (docker !== undefined)
    return { kind: 'docker', image: docker, ...(label === undefined ? {} : { label }) };
  if (label !== undefined) return { kind: 'label', label };
  return { kind: 'any' };
}

function reportSteps(options: ResolvedJenkinsOptions): Step[] {
  const { merge, render } = ciReportCommands(options.cli, options.mode);
  return [
    // a failed merge must not stop JUnit publishing and archiving of whatever exists
    {
      kind: 'catchError',
      buildResult: 'FAILURE',
      steps: [merge, ...render].map((script): Step => ({ kind: 'sh', script })),
    },
    { kind: 'junit', testResults: `${CI_REPORT_DIR}/junit.xml`, allowEmptyResults: true },
    {
      kind: 'archiveArtifacts',
      artifacts: `${CI_RESULTS_DIR}/**, ${CI_REPORT_DIR}/**`,
      allowEmptyArchive: true,
    },
  ];
}

/** Builds the declarative model of the Jenkinsfile for `pipeline`. */
export function buildJenkinsPipeline(
  pipeline: ResolvedPipeline,
  options: ResolvedJenkinsOptions,
): DeclarativePipeline {
  const problems = jenkinsfileTextProblems(pipeline, options);
  if (problems.length > 0) {
    throw new GatehouseError(
      'GH_TARGET_EMIT',
      `the Jenkinsfile cannot hold the config's text unchanged: ${problems[0]?.path} ${problems[0]?.message}`,
      { diagnostics: problems },
    );
  }
  if (pipeline.gates.length === 0) {
    throw new GatehouseError(
      'GH_TARGET_EMIT',
      'the pipeline has no gates: a Jenkinsfile needs at least one stage',
    );
  }
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const layers = topologicalLayers(pipeline.gates);
  // A monorepo runs only the stages of affected gates and (native) what they need
  // (docs/decisions/0009).
  const monorepo = ciHasPackageGates(pipeline);
  const stages: Stage[] = [];
  let totalMinutes = REPORT_MINUTES;

  // Jenkins keeps a job's workspace between builds, and its checkout leaves untracked files: a
  // result an earlier build wrote would be merged as this build's when a gate leaves none (its
  // setup failed, the agent died). Every build starts without them.
  stages.push({
    name: CLEAN_STAGE,
    body: {
      kind: 'steps',
      steps: [{ kind: 'sh', script: `rm -rf ${CI_RESULTS_DIR} ${CI_REPORT_DIR}` }],
    },
  });
  const setup = pipeline.setup;
  if (setup !== null && options.mode === 'native') {
    stages.push({
      name: SETUP_STAGE,
      options: [{ kind: 'timeout', minutes: minutes(setup.timeoutMs) }],
      body: {
        kind: 'steps',
        steps: withSecrets(credentialBindings(setup.secrets, options), [
          { kind: 'sh', script: setupScript(setup.run, setup.env) },
        ]),
      },
    });
    totalMinutes += minutes(setup.timeoutMs);
  }
  if (monorepo) {
    stages.push(affectedStage(options));
    totalMinutes += AFFECTED_MINUTES;
  }

  layers.forEach((layer, index) => {
    const gates = layer.map((id) => byId.get(id) as ResolvedGate);
    const gateStages = gates.map((g) => ({
      ...gateStage(g, pipeline, options),
      ...(monorepo ? affectedWhen(g.id) : {}),
    }));
    totalMinutes += Math.max(
      ...gateStages.map((s) => (s.options?.[0]?.kind === 'timeout' ? s.options[0].minutes : 0)),
    );
    if (gateStages.length === 1) stages.push(gateStages[0] as Stage);
    else
      stages.push({ name: layerStageName(index), body: { kind: 'parallel', stages: gateStages } });
  });

  return {
    agent: agentOf(options),
    options: [{ kind: 'timeout', minutes: totalMinutes }],
    environment: [],
    stages,
    post: { always: monorepo ? monorepoReportSteps(options) : reportSteps(options) },
  };
}

/**
 * The pipeline of a config in the checkout's subdirectory `dir` (docs/decisions/0017): every
 * stage's steps and `post` steps run in `dir('…')`, where the config's paths hold (the results,
 * stashes, archived outputs and reports are all relative to it), and a `fileExists` condition,
 * which Jenkins evaluates at the workspace's top, names its file from there. `deleteDir` stays
 * outside: it cleans the whole workspace.
 */
export function inConfigDir(p: DeclarativePipeline, dir: string): DeclarativePipeline {
  if (!dir) return p;
  const steps = (list: Step[]): Step[] => {
    const out: Step[] = [];
    let run: Step[] = [];
    const flush = (): void => {
      if (run.length > 0) out.push({ kind: 'dir', path: dir, steps: run });
      run = [];
    };
    for (const s of list) {
      if (s.kind === 'deleteDir') {
        flush();
        out.push(s);
      } else run.push(s);
    }
    flush();
    return out;
  };
  const post = (p?: Post): Post | undefined => {
    if (!p) return undefined;
    const out: Post = {};
    for (const [k, v] of Object.entries(p) as Array<[keyof Post, Step[]]>) out[k] = steps(v);
    return out;
  };
  const stage = (s: Stage): Stage => ({
    ...s,
    ...(s.when ? { when: { ...s.when, path: ciFromTop(dir, s.when.path) } } : {}),
    body:
      s.body.kind === 'steps'
        ? { kind: 'steps', steps: steps(s.body.steps) }
        : { ...s.body, stages: s.body.stages.map(stage) },
    ...(s.post ? { post: post(s.post) } : {}),
  });
  return { ...p, stages: p.stages.map(stage), ...(p.post ? { post: post(p.post) } : {}) };
}
