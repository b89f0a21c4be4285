/**
 * Resolved pipeline → the typed `.gitlab-ci.yml` (`model.ts`): one job per gate whose `needs:`
 * is the gate graph, and a final job that merges the results and publishes the report.
 */
import {
  CI_DOCKER_RESULTS_DIR,
  CI_REPORT_DIR,
  GatehouseError,
  ciDockerCacheName,
  ciDockerGateCommands,
  ciFromTop,
  ciGateCommand,
  ciHasPackageGates,
  ciJobTimeoutMinutes,
  ciReportCommands,
  ciResultFile,
  ciRemoteCacheModeLine,
  ciUsesRemoteCache,
  detectNodeToolchain,
  shellQuote,
  type CiDockerCache,
  type ResolvedGate,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import { pipelineTextProblems } from './checks.js';
import type { Artifacts, Cache, Defaults, GitlabPipeline, Job, RawVariable } from './model.js';
import { monorepoJobs } from './monorepo.js';
import type { GitlabOptions } from './options.js';

/** Job name of a gate. */
export function gateJobName(gateId: string): string {
  return `gate-${gateId}`;
}
/** Job name of the final job that merges and publishes the report. */
export const REPORT_JOB_NAME = 'gatehouse-report';
/** Stage of the gate jobs; `needs:` orders them, not the stage. */
export const GATE_STAGE = 'gatehouse';
/** Stage of the report job. */
export const REPORT_STAGE = 'gatehouse-report';
/** Where a gate job copies its evidence (`$GATEHOUSE_OUT`) for GitLab's report widgets. */
export const CI_EVIDENCE_DIR = 'gatehouse-evidence';
/** The line a gate job with coverage evidence prints, and the `coverage:` regex that reads it. */
export const COVERAGE_REGEX = '/^gatehouse coverage: lines (\\d+(?:\\.\\d+)?)%$/';
/** The Code Climate report the report job renders. */
export const CODEQUALITY_FILE = `${CI_REPORT_DIR}/codequality.json`;

/** Docker mode: the image and service that give every job a Docker daemon (docker-in-docker). */
export const DOCKER_IMAGE = 'docker:27';
export const DOCKER_SERVICE = 'docker:27-dind';

const COVERAGE_FORMATS = new Set(['istanbul', 'lcov']);

/**
 * Build the typed pipeline, with every string exactly as GitLab must see it. Throws
 * `GatehouseError` when user text cannot be represented.
 */
export function buildGitlabPipeline(
  pipeline: ResolvedPipeline,
  options: GitlabOptions,
): GitlabPipeline {
  const problems = pipelineTextProblems(pipeline, options);
  if (problems.length > 0) {
    throw new GatehouseError(
      'GH_TARGET_UNSAFE',
      `gitlab: ${problems.length} value(s) cannot be written safely into .gitlab-ci.yml`,
      { diagnostics: problems },
    );
  }
  const toolchain = toolchainOf(pipeline, options);
  // A monorepo: one job per package (docker mode: per gate), in the pipeline when its files
  // changed (docs/decisions/0009).
  const monorepo = ciHasPackageGates(pipeline);
  const jobs: Record<string, Job> = monorepo
    ? monorepoJobs(pipeline, options, (job) => {
        const variables = { ...setupVariables(pipeline).variables, ...job.variables };
        return {
          ...job,
          ...(Object.keys(variables).length > 0 ? { variables } : {}),
          script: [...setupScript(pipeline, toolchain.prelude), ...job.script],
        };
      })
    : {};
  for (const gate of monorepo ? [] : pipeline.gates) {
    jobs[gateJobName(gate.id)] =
      options.mode === 'docker'
        ? dockerGateJob(pipeline, gate, options)
        : nativeGateJob(pipeline, gate, options, toolchain.prelude);
  }
  jobs[REPORT_JOB_NAME] ??= reportJob(pipeline, options, toolchain.prelude);
  const defaults: Defaults = {
    image: options.image ?? (options.mode === 'docker' ? DOCKER_IMAGE : pipeline.image),
    interruptible: true,
    ...(options.tags.length > 0 ? { tags: [...options.tags] } : {}),
    ...(options.mode === 'docker' ? { services: [DOCKER_SERVICE] } : {}),
    ...(toolchain.cache ? { cache: toolchain.cache } : {}),
  };
  const variables: Record<string, string> = {
    ...toolchain.variables,
    // The documented docker-in-docker set-up: TLS between the job and the service.
    ...(options.mode === 'docker' ? { DOCKER_TLS_CERTDIR: '/certs' } : {}),
  };
  const dir = options.checkout_dir ?? '';
  if (dir) {
    for (const [name, job] of Object.entries(jobs)) jobs[name] = inConfigDir(job, dir);
    if (defaults.cache)
      defaults.cache = {
        ...defaults.cache,
        key: { files: defaults.cache.key.files.map((f) => ciFromTop(dir, f)) },
      };
  }
  return {
    // Branch pipelines, and merge request pipelines instead of them while a merge request is open.
    workflow: {
      rules: [
        { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
        { if: '$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS', when: 'never' },
        { if: '$CI_COMMIT_BRANCH' },
        { if: '$CI_COMMIT_TAG' },
      ],
    },
    stages: [GATE_STAGE, REPORT_STAGE],
    ...(Object.keys(variables).length > 0 ? { variables } : {}),
    default: defaults,
    jobs,
  };
}

/**
 * A job of a config in the checkout's subdirectory `dir`: its script starts there, and the paths
 * GitLab reads itself (artifacts, reports, `changes:`) are given from the checkout's top. The
 * package manager's cache stays at the top (its variable is an absolute path).
 */
function inConfigDir(job: Job, dir: string): Job {
  const top = (p: string): string => ciFromTop(dir, p);
  const reports = job.artifacts.reports;
  return {
    ...job,
    ...(job.rules
      ? { rules: job.rules.map((r) => ({ changes: { paths: r.changes.paths.map(top) } })) }
      : {}),
    script: [`cd ${shellQuote(dir)}`, ...job.script],
    artifacts: {
      ...job.artifacts,
      paths: job.artifacts.paths.map(top),
      ...(reports
        ? {
            reports: {
              ...(reports.junit ? { junit: reports.junit.map(top) } : {}),
              ...(reports.codequality ? { codequality: reports.codequality.map(top) } : {}),
            },
          }
        : {}),
    },
  };
}

interface Toolchain {
  /** Commands before `setup.run` (yarn 2+ and pnpm through corepack). */
  prelude: string[];
  cache: Cache | null;
  variables: Record<string, string>;
}

// Where each package manager keeps downloads, inside the project so GitLab can cache it.
const CACHE_DIRS = {
  npm: { dir: '.npm', variable: 'npm_config_cache' },
  pnpm: { dir: '.pnpm-store', variable: 'npm_config_store_dir' },
  yarn: { dir: '.yarn-cache', variable: 'YARN_CACHE_FOLDER' },
} as const;

function toolchainOf(pipeline: ResolvedPipeline, options: GitlabOptions): Toolchain {
  if (options.mode === 'docker') return { prelude: [], cache: null, variables: {} };
  // A checkout whose top is the config directory holds no workspace root above it. The setup
  // command chooses among lockfiles of several managers: the cache is the one its install fills.
  const pm = detectNodeToolchain(
    pipeline.rootDir,
    pipeline.image,
    !!options.checkout_dir,
    pipeline.setup?.run ?? null,
  ).packageManager;
  const prelude =
    pm.name === 'pnpm' || (pm.name === 'yarn' && pm.yarnBerry) ? ['corepack enable'] : [];
  if (!options.cache || pm.lockfile === null) return { prelude, cache: null, variables: {} };
  const where = CACHE_DIRS[pm.name];
  return {
    prelude,
    cache: {
      key: { files: [pm.lockfile] },
      paths: [`${where.dir}/`],
      policy: 'pull-push',
      when: 'always',
    },
    // Gatehouse's own text: the `$` is meant, and expanded by the runner.
    variables: { [where.variable]: `$CI_PROJECT_DIR/${where.dir}` },
  };
}

function setupVariables(pipeline: ResolvedPipeline): Pick<Job, 'variables'> {
  const env = pipeline.setup?.env ?? {};
  const variables: Record<string, RawVariable> = {};
  // `expand: false`: GitLab and the runner pass the value as written, `$` included.
  for (const [name, value] of Object.entries(env)) variables[name] = { value, expand: false };
  return Object.keys(variables).length > 0 ? { variables } : {};
}

function setupScript(pipeline: ResolvedPipeline, prelude: readonly string[]): string[] {
  return pipeline.setup ? [...prelude, pipeline.setup.run] : [];
}

function minutes(n: number): string {
  return `${n} minutes`;
}

function junitEvidence(gate: ResolvedGate): string[] {
  return gate.evidence
    .filter((e) => e.format === 'junit' && e.path !== null)
    .map((e) => `${CI_EVIDENCE_DIR}/${gate.id}/${e.path}`);
}

/** Shell variable that carries the gate's exit code past the evidence commands. */
const EXIT_VARIABLE = 'GATEHOUSE_GATE_EXIT';

/**
 * The gate's `$GATEHOUSE_OUT` of this job's run (`.gatehouse/runs/<runId>/out/<id>`, one run per
 * job), copied to `gatehouse-evidence/<id>/` where the artifact reports find it.
 */
function copyEvidence(gateId: string): string {
  return `for d in .gatehouse/runs/*/out/${gateId}; do if [ -d "$d" ]; then mkdir -p ${CI_EVIDENCE_DIR} && rm -rf ${CI_EVIDENCE_DIR}/${gateId} && cp -R "$d" ${CI_EVIDENCE_DIR}/${gateId}; fi; done`;
}

/** Prints the line `coverage:` reads, from the coverage the CLI measured and wrote into the result file. */
function printCoverage(gateId: string): string {
  return `node -e "const r=JSON.parse(require('fs').readFileSync('${ciResultFile(gateId)}','utf8'));const c=r.evidence&&r.evidence.coverage;if(c&&typeof c.lines==='number')console.log('gatehouse coverage: lines '+c.lines.toFixed(2)+'%')" || true`;
}

/**
 * The gate's commands. With evidence for GitLab's widgets, the gate's exit code is kept in a
 * variable while the evidence is collected, and ends the script after that: the script's lines
 * share one shell, and `after_script` is not used because it may not see the script's files.
 */
/**
 * Ends an advisory gate's job with a failure when the gate did not pass: `gatehouse run` exits 0
 * for an advisory failure (it does not fail the verdict), and without this the job would show
 * green. With `allow_failure: true` GitLab then shows the job as a warning, as in docker mode.
 */
function advisoryCheck(gateId: string): string {
  return `node -e "const r=JSON.parse(require('fs').readFileSync('${ciResultFile(gateId)}','utf8'));if(!['passed','cached','skipped'].includes(r.status)){console.error('gatehouse: advisory gate ${gateId} '+r.status+(r.reason?': '+r.reason:''));process.exit(1)}"`;
}

function gateScript(
  gate: ResolvedGate,
  options: GitlabOptions,
  junit: boolean,
  coverage: boolean,
): string[] {
  const run = ciGateCommand(options.cli, gate.id);
  const advisory = gate.mode === 'advisory' ? [advisoryCheck(gate.id)] : [];
  if (!junit && !coverage) return [run, ...advisory];
  return [
    `${run} || ${EXIT_VARIABLE}=$?`,
    ...(junit ? [copyEvidence(gate.id)] : []),
    ...(coverage ? [printCoverage(gate.id)] : []),
    `if [ -n "\${${EXIT_VARIABLE}:-}" ]; then exit "\${${EXIT_VARIABLE}}"; fi`,
    ...advisory,
  ];
}

function nativeGateJob(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  options: GitlabOptions,
  prelude: readonly string[],
): Job {
  const junit = junitEvidence(gate);
  const coverage = gate.evidence.some((e) => COVERAGE_FORMATS.has(e.format));
  const artifacts: Artifacts = {
    paths: [
      ciResultFile(gate.id),
      ...gate.outputs,
      ...(junit.length > 0 ? [`${CI_EVIDENCE_DIR}/${gate.id}/`] : []),
    ],
    when: 'always',
    expire_in: options.expire_in,
    ...(junit.length > 0 ? { reports: { junit } } : {}),
  };
  return {
    stage: GATE_STAGE,
    needs: gate.needs.map((n) => ({ job: gateJobName(n), artifacts: true })),
    ...setupVariables(pipeline),
    script: [
      ...setupScript(pipeline, prelude),
      // The remote cache's URL, team and token are CI/CD variables; it writes only on a push
      // to the default branch.
      ...(ciUsesRemoteCache(pipeline, options.mode)
        ? [
            ciRemoteCacheModeLine(
              '[ "$CI_PIPELINE_SOURCE" = push ] && [ "$CI_COMMIT_BRANCH" = "$CI_DEFAULT_BRANCH" ]',
            ),
          ]
        : []),
      ...gateScript(gate, options, junit.length > 0, coverage),
    ],
    ...(gate.mode === 'advisory' ? { allow_failure: true } : {}),
    timeout: minutes(ciJobTimeoutMinutes(pipeline, gate, 'native')),
    ...(coverage ? { coverage: COVERAGE_REGEX } : {}),
    artifacts,
  };
}

/**
 * `docker_cache: registry`: a repository under the project's container registry, with the job's
 * own registry credentials; written only on a push to the default branch. Without a registry
 * (`CI_REGISTRY_IMAGE` empty), the job builds without the cache.
 */
function registryCache(pipeline: ResolvedPipeline): CiDockerCache {
  return {
    repository: `"\${CI_REGISTRY_IMAGE:+$CI_REGISTRY_IMAGE/gatehouse-cache/${ciDockerCacheName(pipeline)}}"`,
    registry: '"$CI_REGISTRY"',
    user: '"$CI_REGISTRY_USER"',
    password: '"$CI_REGISTRY_PASSWORD"',
    pushWhen: '[ "$CI_PIPELINE_SOURCE" = push ] && [ "$CI_COMMIT_BRANCH" = "$CI_DEFAULT_BRANCH" ]',
  };
}

/** Docker mode: the job that builds the gate's `result-<id>` stage and keeps its export. */
export function dockerGateJob(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  options: GitlabOptions,
): Job {
  return {
    stage: GATE_STAGE,
    // The build reruns (or takes from its cache) the stages of the gates it needs: no artifacts.
    needs: gate.needs.map((n) => ({ job: gateJobName(n), artifacts: false })),
    script: ciDockerGateCommands(
      pipeline,
      gate,
      options.docker_cache === 'registry' ? registryCache(pipeline) : undefined,
    ),
    ...(gate.mode === 'advisory' ? { allow_failure: true } : {}),
    timeout: minutes(ciJobTimeoutMinutes(pipeline, gate, 'docker')),
    artifacts: {
      paths: [`${CI_DOCKER_RESULTS_DIR}/${gate.id}/`],
      when: 'always',
      expire_in: options.expire_in,
    },
  };
}

function reportJob(
  pipeline: ResolvedPipeline,
  options: GitlabOptions,
  prelude: readonly string[],
): Job {
  const report = ciReportCommands(options.cli, options.mode);
  return {
    stage: REPORT_STAGE,
    // Docker mode: the jobs' image is Docker's; the report needs Node and the CLI.
    ...(options.mode === 'docker' ? { image: pipeline.image } : {}),
    needs: pipeline.gates.map((g) => ({ job: gateJobName(g.id), artifacts: true })),
    when: 'always',
    ...setupVariables(pipeline),
    script: [
      ...setupScript(pipeline, prelude),
      report.prepare,
      report.merge,
      ...report.render,
      `${options.cli} report render ${CI_REPORT_DIR}/report.json --format codequality -o ${CODEQUALITY_FILE}`,
      `cat ${report.markdown}`,
    ],
    timeout: minutes(Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 15),
    artifacts: {
      paths: [`${CI_REPORT_DIR}/`],
      when: 'always',
      expire_in: options.expire_in,
      expose_as: 'gatehouse report',
      reports: { junit: [`${CI_REPORT_DIR}/junit.xml`], codequality: [CODEQUALITY_FILE] },
    },
  };
}
