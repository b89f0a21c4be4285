/**
 * Resolved pipeline → declarative Jenkinsfile model.
 *
 * Declarative Pipeline has no `needs`: stages run in order and `parallel` fans out.
 * So the gate DAG becomes its topological layers, run one after another, each layer's
 * gates in parallel. Every `needs` edge is honoured (a need is always in an earlier
 * layer) but the order is stricter than the DAG: a gate also waits for the gates of
 * the previous layer it does not need.
 *
 * Everything runs on one agent in one workspace: setup installs once, later stages
 * reuse the workspace (and see the outputs of earlier gates) without stash/unstash.
 */
import { GatehouseError, type ResolvedGate, type ResolvedPipeline } from '@gatehouse/core';
import type {
  Agent,
  DeclarativePipeline,
  EnvironmentEntry,
  Stage,
  Step,
  StringCredentialBinding,
} from './model.js';
import { defaultCredentialsId, type ResolvedJenkinsOptions } from './options.js';

/** Directory (relative to the workspace) where gate stages leave their results. */
export const RESULTS_DIR = 'gatehouse-results';
/** Directory (relative to the workspace) where the merged report is rendered. */
export const REPORT_DIR = 'gatehouse-report';
/** Name of the setup stage. Capitalised, so it can never equal a gate id. */
export const SETUP_STAGE = 'Setup';
/** Name of the docker-mode verdict stage. */
export const VERDICT_STAGE = 'Verdict';
/** Minutes added to the pipeline timeout for merging and publishing the report. */
export const REPORT_MINUTES = 10;
/**
 * Minutes a stage timeout adds to its gate's timeout, so the CLI's own timeout fires
 * first and still records a `timeout` result.
 */
export const STAGE_GRACE_MINUTES = 1;

/** Name of the parallel stage of layer `index` (0-based). Capitalised: never a gate id. */
export function layerStageName(index: number): string {
  return `Gates ${index + 1}`;
}

/**
 * The gate DAG's topological layers: layer 0 has the gates without needs, layer k the
 * gates whose deepest need is in layer k-1. Ids sorted within a layer.
 */
export function gateLayers(gates: readonly ResolvedGate[]): string[][] {
  const byId = new Map(gates.map((g) => [g.id, g]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const g = byId.get(id);
    if (g === undefined) throw new GatehouseError('GH_JENKINS_BAD_PIPELINE', `unknown gate \`${id}\` in needs`);
    if (visiting.has(id)) throw new GatehouseError('GH_JENKINS_BAD_PIPELINE', `gate \`${id}\` is part of a cycle`);
    visiting.add(id);
    const d = g.needs.reduce((max, n) => Math.max(max, visit(n) + 1), 0);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  const layers: string[][] = [];
  for (const g of gates) {
    const d = visit(g.id);
    (layers[d] ??= []).push(g.id);
  }
  return layers.map((l) => [...l].sort());
}

function minutes(ms: number): number {
  return Math.max(1, Math.ceil(ms / 60_000));
}

function envEntries(env: Record<string, string>): EnvironmentEntry[] {
  return Object.keys(env)
    .sort()
    .map((name) => ({ name, kind: 'literal', value: env[name] as string }));
}

function credentialBindings(secrets: readonly string[], options: ResolvedJenkinsOptions): StringCredentialBinding[] {
  return [...new Set(secrets)].sort().map((name) => ({
    kind: 'string',
    credentialsId: options.credentials[name] ?? defaultCredentialsId(name),
    variable: name,
  }));
}

function withSecrets(bindings: StringCredentialBinding[], steps: Step[]): Step[] {
  return bindings.length === 0 ? steps : [{ kind: 'withCredentials', bindings, steps }];
}

function gateCommand(gate: ResolvedGate, pipeline: ResolvedPipeline, options: ResolvedJenkinsOptions): string {
  if (options.mode === 'native') {
    return `${options.cli} run --only ${gate.id} --result-file ${RESULTS_DIR}/${gate.id}.json`;
  }
  // BuildKit reads secrets from the agent's environment, where withCredentials put them
  const secrets = [...gate.secrets, ...(pipeline.setup?.secrets ?? [])];
  const flags = [...new Set(secrets)].sort().map((s) => `--secret id=${s},env=${s} `);
  return `DOCKER_BUILDKIT=1 docker build ${flags.join('')}--target result-${gate.id} -o type=local,dest=${RESULTS_DIR}/docker .`;
}

function gateStage(gate: ResolvedGate, pipeline: ResolvedPipeline, options: ResolvedJenkinsOptions): Stage {
  const setupMs = options.mode === 'docker' ? (pipeline.setup?.timeoutMs ?? 0) : 0;
  const secrets = options.mode === 'docker' ? [...gate.secrets, ...(pipeline.setup?.secrets ?? [])] : gate.secrets;
  let steps = withSecrets(credentialBindings(secrets, options), [
    { kind: 'sh', script: gateCommand(gate, pipeline, options) },
  ]);
  if (gate.mode === 'advisory') {
    steps = [{ kind: 'catchError', buildResult: 'SUCCESS', stageResult: 'UNSTABLE', steps }];
  }
  const stage: Stage = {
    name: gate.id,
    options: [{ kind: 'timeout', minutes: minutes(gate.timeoutMs + setupMs) + STAGE_GRACE_MINUTES }],
    body: { kind: 'steps', steps },
  };
  // in docker mode the gate's env is baked into its Dockerfile stage
  if (options.mode === 'native') {
    const env = envEntries(gate.env);
    if (env.length > 0) stage.environment = env;
  }
  return stage;
}

function agentOf(options: ResolvedJenkinsOptions): Agent {
  const { label, docker } = options.agent;
  if (docker !== undefined) return { kind: 'docker', image: docker, ...(label === undefined ? {} : { label }) };
  if (label !== undefined) return { kind: 'label', label };
  return { kind: 'any' };
}

function reportSteps(options: ResolvedJenkinsOptions): Step[] {
  const cli = options.cli;
  const report = `${REPORT_DIR}/report.json`;
  const source = options.mode === 'docker' ? `--docker ${RESULTS_DIR}/docker` : RESULTS_DIR;
  const render = (format: string, file: string): Step => ({
    kind: 'sh',
    script: `${cli} report render ${report} --format ${format} -o ${REPORT_DIR}/${file}`,
  });
  return [
    {
      kind: 'catchError',
      buildResult: 'FAILURE',
      steps: [
        { kind: 'sh', script: `${cli} report merge ${source} -o ${report}` },
        render('junit', 'junit.xml'),
        render('html', 'report.html'),
        render('md', 'report.md'),
      ],
    },
    { kind: 'junit', testResults: `${REPORT_DIR}/junit.xml`, allowEmptyResults: true },
    { kind: 'archiveArtifacts', artifacts: `${RESULTS_DIR}/**, ${REPORT_DIR}/**`, allowEmptyArchive: true },
  ];
}

/** Builds the declarative model of the Jenkinsfile for `pipeline`. */
export function buildJenkinsPipeline(pipeline: ResolvedPipeline, options: ResolvedJenkinsOptions): DeclarativePipeline {
  if (pipeline.gates.length === 0) {
    throw new GatehouseError('GH_JENKINS_BAD_PIPELINE', 'the pipeline has no gates: a Jenkinsfile needs at least one stage');
  }
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const layers = gateLayers(pipeline.gates);
  const stages: Stage[] = [];

  const setup = pipeline.setup;
  if (setup !== null && options.mode === 'native') {
    const stage: Stage = {
      name: SETUP_STAGE,
      options: [{ kind: 'timeout', minutes: minutes(setup.timeoutMs) }],
      body: {
        kind: 'steps',
        steps: withSecrets(credentialBindings(setup.secrets, options), [{ kind: 'sh', script: setup.run }]),
      },
    };
    const env = envEntries(setup.env);
    if (env.length > 0) stage.environment = env;
    stages.push(stage);
  }

  layers.forEach((layer, index) => {
    const gateStages = layer.map((id) => gateStage(byId.get(id) as ResolvedGate, pipeline, options));
    if (gateStages.length === 1) stages.push(gateStages[0] as Stage);
    else stages.push({ name: layerStageName(index), body: { kind: 'parallel', stages: gateStages } });
  });

  if (options.mode === 'docker') {
    const allSecrets = [...pipeline.gates.flatMap((g) => g.secrets), ...(setup?.secrets ?? [])];
    const flags = [...new Set(allSecrets)].sort().map((s) => `--secret id=${s},env=${s} `);
    stages.push({
      name: VERDICT_STAGE,
      body: {
        kind: 'steps',
        steps: withSecrets(credentialBindings(allSecrets, options), [
          { kind: 'sh', script: `DOCKER_BUILDKIT=1 docker build ${flags.join('')}--target gatehouse-verdict .` },
        ]),
      },
    });
  }

  const layerMs = layers.reduce(
    (sum, layer) => sum + Math.max(...layer.map((id) => (byId.get(id) as ResolvedGate).timeoutMs)),
    0,
  );
  const totalMinutes =
    (setup === null ? 0 : minutes(setup.timeoutMs)) +
    minutes(layerMs) +
    layers.length * STAGE_GRACE_MINUTES +
    REPORT_MINUTES;

  return {
    agent: agentOf(options),
    options: [{ kind: 'timeout', minutes: totalMinutes }],
    environment: [],
    stages,
    post: { always: reportSteps(options) },
  };
}
