import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, hostname, platform, release, userInfo } from 'node:os';
import { isAbsolute, relative, sep } from 'node:path';
import { newRunId } from '@gatehouse-ci/core';
import type {
  GateResult,
  GitInfo,
  PresetRecord,
  ResolvedPipeline,
  RunContext,
  RunEnvironment,
  RunReport,
  SetupRecord,
} from '@gatehouse-ci/core';

/** Run ids are core's (one format for every executor and for merged reports). */
export { newRunId };
import { skippedResult } from './evaluate.js';
import { packageManagerOf } from './package-manager.js';

export { packageManagerOf };
import { sourceHostOfCi, sourceHostOfRemote } from './source-links.js';
import { computeVerdict, effectiveStatus, NO_RESULT_REASON } from './verdict.js';

export { computeVerdict, effectiveStatus };

/** The report package's version: the default `gatehouseVersion` when the caller gives none. */
export const REPORT_PACKAGE_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export { NO_RESULT_REASON } from './verdict.js';

function git(args: string[], cwd: string): Promise<string | null> {
  return new Promise((resolveP) => {
    execFile('git', args, { cwd, timeout: 10_000, windowsHide: true }, (err, stdout) =>
      resolveP(err ? null : stdout.trim()),
    );
  });
}

/**
 * Reads `git status --porcelain=v2 --branch` output: `# branch.oid` is the commit (`(initial)`
 * before the first one), `# branch.head` the branch (`(detached)` without one), and any line
 * that is not a header is a changed tracked file.
 */
export function parseStatusV2(out: string | null): {
  commit: string | null;
  head: string | null;
  dirty: boolean | null;
} {
  if (out === null) return { commit: null, head: null, dirty: null };
  let commit: string | null = null;
  let head: string | null = null;
  let dirty = false;
  for (const line of out.split('\n')) {
    if (line.startsWith('# branch.oid ')) {
      const oid = line.slice('# branch.oid '.length);
      commit = /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid) ? oid : null;
    } else if (line.startsWith('# branch.head ')) {
      const name = line.slice('# branch.head '.length);
      head = name === '(detached)' ? null : name;
    } else if (line !== '' && !line.startsWith('#')) dirty = true;
  }
  return { commit, head, dirty };
}

/**
 * Commit, branch and dirty flag of the repository containing `rootDir` (all null outside one,
 * or without git), and the forge hosting it when known (see source-links.ts).
 */
export async function collectGitInfo(
  rootDir: string,
  env: Record<string, string | undefined> = process.env,
): Promise<GitInfo> {
  // One `git status` answers commit, branch and dirty flag (each git process costs a fork of
  // this one); the remote, when the CI does not name the forge, is asked at the same time.
  const fromCi = sourceHostOfCi(env);
  const [status, remote] = await Promise.all([
    git(['status', '--porcelain=v2', '--branch', '--untracked-files=no'], rootDir),
    fromCi ? Promise.resolve(null) : git(['remote', 'get-url', 'origin'], rootDir),
  ]);
  const { commit, head, dirty } = parseStatusV2(status);
  if (commit === null) return { commit: null, branch: null, dirty: null };
  const source = fromCi ?? (remote ? sourceHostOfRemote(remote) : null);
  // CI checkouts are often detached: the CI names the branch.
  const branch =
    head ||
    env.GITHUB_HEAD_REF ||
    env.GITHUB_REF_NAME ||
    env.BUILDKITE_BRANCH ||
    env.BRANCH_NAME ||
    env.GIT_BRANCH ||
    env.CI_COMMIT_REF_NAME ||
    null;
  return {
    commit,
    branch,
    dirty,
    ...(source ? { source } : {}),
  };
}

/** Who and where: the CI system's identity when one is detected, else the local user and host. */
export function collectContext(env: Record<string, string | undefined> = process.env): RunContext {
  const host = safe(() => hostname());
  if (env.GITHUB_ACTIONS === 'true') {
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
    const url =
      env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
        ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
        : null;
    const runId = env.GITHUB_RUN_ID
      ? `${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}`
      : null;
    return {
      ci: { provider: 'github', buildUrl: url, runId },
      user: env.GITHUB_ACTOR ?? null,
      host,
    };
  }
  if (env.JENKINS_URL) {
    return {
      ci: {
        provider: 'jenkins',
        buildUrl: env.BUILD_URL ?? null,
        runId: env.BUILD_TAG ?? env.BUILD_NUMBER ?? null,
      },
      user: env.BUILD_USER_ID ?? null,
      host: env.NODE_NAME ?? host,
    };
  }
  if (env.BUILDKITE === 'true') {
    return {
      ci: {
        provider: 'buildkite',
        buildUrl: env.BUILDKITE_BUILD_URL ?? null,
        runId: env.BUILDKITE_BUILD_ID ?? null,
      },
      user: env.BUILDKITE_BUILD_CREATOR_EMAIL ?? env.BUILDKITE_BUILD_CREATOR ?? null,
      host: env.BUILDKITE_AGENT_NAME ?? host,
    };
  }
  if (env.GITLAB_CI === 'true') {
    return {
      ci: {
        provider: 'gitlab',
        buildUrl: env.CI_PIPELINE_URL ?? null,
        runId: env.CI_PIPELINE_ID ?? null,
      },
      user: env.GITLAB_USER_LOGIN ?? null,
      host,
    };
  }
  const user = env.USER ?? env.USERNAME ?? safe(() => userInfo().username);
  if (env.CI === 'true' || env.CI === '1')
    return { ci: { provider: 'ci', buildUrl: null, runId: null }, user, host };
  return { ci: null, user, host };
}

function safe(f: () => string): string | null {
  try {
    return f() || null;
  } catch {
    return null;
  }
}

/** Input of {@link buildReport}. */
export interface BuildReportInput {
  pipeline: ResolvedPipeline;
  /**
   * One result per gate that ran, was skipped or cached, in any order (the report lists them
   * in pipeline order). Gates of the pipeline with no result are left out: pass a pipeline
   * narrowed to the selected gates when only some ran. (`mergeReports` instead reports them.)
   */
  gates: GateResult[];
  /** `local`, `docker`, `github`, … */
  executor: string;
  /** ISO-8601 UTC. */
  startedAt: string;
  /** ISO-8601 UTC. */
  finishedAt: string;
  /** @default a new time-sortable id */
  runId?: string;
  /** Where git is asked about the commit. */
  rootDir: string;
  /** @default this package's version */
  gatehouseVersion?: string;
  /** Environment used to detect the CI identity. @default process.env */
  env?: Record<string, string | undefined>;
  /** Setup's timing, when this run ran (or reused) setup. */
  setup?: SetupRecord;
}

/** Assemble the report of one run: metadata (git, who/where, config hash), gates in pipeline order, verdict. */
export async function buildReport(input: BuildReportInput): Promise<RunReport> {
  const env = input.env ?? process.env;
  const gates = orderGates(input.pipeline, input.gates, input.executor, false).map((g) =>
    projectRelativeLog(g, input.rootDir),
  );
  return {
    schemaVersion: 1,
    runId: input.runId ?? newRunId(),
    gatehouseVersion: input.gatehouseVersion ?? REPORT_PACKAGE_VERSION,
    pipeline: input.pipeline.name,
    configSha256: input.pipeline.configSha256,
    git: await collectGitInfo(input.rootDir, env),
    context: collectContext(env),
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    executor: input.executor,
    verdict: computeVerdict(gates, input.pipeline),
    gates,
    environment: collectEnvironment(input.rootDir, env, input.pipeline.setup?.run ?? null),
    ...(input.setup ? { setup: input.setup } : {}),
    ...presetRecords(input.pipeline),
  };
}

/**
 * What the report says of the pipeline's presets: name, version and digest, never the
 * machine's path of the file. Nothing for a config that extends none.
 */
export function presetRecords(pipeline: Pick<ResolvedPipeline, 'presets'>): {
  presets?: PresetRecord[];
} {
  if (!pipeline.presets) return {};
  return {
    presets: pipeline.presets.map((p) => ({
      name: p.name,
      ...(p.version !== undefined ? { version: p.version } : {}),
      sha256: p.sha256,
    })),
  };
}

/**
 * A result whose log path is relative to the project (POSIX separators): a report names no
 * absolute path of the machine that wrote it. A path outside the project keeps only its name.
 */
export function projectRelativeLog(result: GateResult, rootDir: string): GateResult {
  const p = result.log.path;
  if (p === null || !isAbsolute(p)) return result;
  const rel = relative(rootDir, p);
  const path =
    rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
      ? rel.split(sep).join('/')
      : (p.split(/[\\/]/).pop() ?? null);
  return { ...result, log: { ...result.log, path } };
}

/**
 * The machine and toolchain of this run: OS and Node of this process, and the project's
 * package manager with its version — `packageManager` in package.json (as Corepack reads
 * it), else the lockfile's tool (with lockfiles of several, the one `setupRun` runs) with the
 * version the invoking package manager announces (`npm_config_user_agent`), if it is that tool.
 * @param setupRun the pipeline's `setup.run`, if any
 */
export function collectEnvironment(
  rootDir: string,
  env: Record<string, string | undefined> = process.env,
  setupRun: string | null = null,
): RunEnvironment {
  return {
    os: safe(() => `${platform()} ${release()} ${arch()}`),
    node: process.version || null,
    packageManager: packageManagerOf(rootDir, env, setupRun),
  };
}

/**
 * Results in pipeline order, ids unknown to the pipeline kept at the end. With `fillMissing`,
 * a pipeline gate without a result becomes skipped with {@link NO_RESULT_REASON}.
 */
export function orderGates(
  pipeline: ResolvedPipeline,
  results: GateResult[],
  executor: string,
  fillMissing: boolean,
): GateResult[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  const out: GateResult[] = [];
  for (const g of pipeline.gates) {
    const r =
      byId.get(g.id) ?? (fillMissing ? skippedResult(g, NO_RESULT_REASON, executor) : undefined);
    if (r) out.push(r);
  }
  const known = new Set(pipeline.gates.map((g) => g.id));
  out.push(...results.filter((r) => !known.has(r.id)));
  return out;
}
