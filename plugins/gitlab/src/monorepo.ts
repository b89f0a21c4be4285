/**
 * The `.gitlab-ci.yml` of a config with gates of workspace packages
 * (docs/decisions/0009-monorepo-ci.md): one job per package, in the pipeline only when a file it
 * depends on changed (`rules: changes:`, GitLab's own choice of base: the merge request's target,
 * else the previous push, else every job). A job runs its package's gates after one setup,
 * rebuilding what they need from other packages. The report job recomputes the affected gates
 * with `gatehouse affected` from the same base and fails when one of them has no result, so a
 * job GitLab left out wrongly cannot pass unseen. In docker mode the jobs stay one per gate (each
 * build runs the stages of its needs), each with the `rules: changes:` of its package.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ciAffectedCommand,
  CI_REPORT_DIR,
  CI_RESULTS_DIR,
  ciPackageJobs,
  ciPackageJobScript,
  ciPackageReportDir,
  ciReportCommands,
  dependenciesOf,
  discoverWorkspace,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import {
  CODEQUALITY_FILE,
  dockerGateJob,
  gateJobName,
  REPORT_JOB_NAME,
  REPORT_STAGE,
  GATE_STAGE,
} from './build.js';
import type { ChangesRule, Job, Need, RawVariable } from './model.js';
import type { GitlabOptions } from './options.js';

/** Job name of a package job (`pkg-`, so it never equals a gate job's `gate-` name). */
export function packageJobName(key: string): string {
  return `pkg-${key}`;
}

// State directories no gate reads (as `gatehouse affected` ignores them).
const NEVER = new Set(['.git', 'node_modules', '.gatehouse', '.turbo', '.nx']);

/** Top-level names the root `.gitignore` lists plainly (`dist`, `/coverage/`). */
function ignoredAtTop(root: string): Set<string> {
  const file = join(root, '.gitignore');
  if (!existsSync(file)) return new Set();
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''))
      .filter((l) => /^[A-Za-z0-9._-]+$/.test(l)),
  );
}

/**
 * `changes:` paths of the files outside every package, which affect every package: the files
 * at the top and in the directories that hold packages, and every other top-level directory
 * (as found when compiling; ignored ones left out).
 */
export function sharedChangePaths(root: string, packageDirs: readonly string[]): string[] {
  const holders = new Set<string>(['']);
  for (const dir of packageDirs) {
    const parts = dir.split('/');
    for (let i = 1; i < parts.length; i++) holders.add(parts.slice(0, i).join('/'));
  }
  const ignored = ignoredAtTop(root);
  const out = [...holders].sort().map((h) => (h === '' ? '*' : `${h}/*`));
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory() || NEVER.has(e.name) || ignored.has(e.name)) continue;
    if (holders.has(e.name) || packageDirs.includes(e.name)) continue;
    out.push(`${e.name}/**/*`);
  }
  return out;
}

/**
 * The `rules:` of each job of `ciPackageJobs` by key: in the pipeline when a file of the package,
 * of a workspace dependency or outside every package changed. A gate not of a package checks
 * the whole repository: it has none, always in the pipeline.
 */
function changesRules(pipeline: ResolvedPipeline): Map<string, Pick<Job, 'rules'>> {
  const ws = discoverWorkspace(pipeline.rootDir);
  const dirOf = new Map(ws.packages.map((p) => [p.name, p.dir]));
  const shared = sharedChangePaths(
    pipeline.rootDir,
    ws.packages.map((p) => p.dir),
  );
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const out = new Map<string, Pick<Job, 'rules'>>();
  for (const job of ciPackageJobs(pipeline)) {
    const pkg = byId.get(job.gates[0]!)!.package;
    if (!pkg) {
      out.set(job.key, {});
      continue;
    }
    const dirs = [pkg.name, ...dependenciesOf(ws, pkg.name)].map((n) => dirOf.get(n)!);
    const rule: ChangesRule = {
      changes: { paths: [...dirs.sort().map((d) => `${d}/**/*`), ...shared] },
    };
    out.set(job.key, { rules: [rule] });
  }
  return out;
}

/** The package jobs (docker mode: gate jobs) and the report job of a monorepo pipeline. */
export function monorepoJobs(
  pipeline: ResolvedPipeline,
  options: GitlabOptions,
  setup: (job: Omit<Job, 'script'> & { script: string[] }) => Job,
): Record<string, Job> {
  const rules = changesRules(pipeline);
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const jobs: Record<string, Job> = {};
  const all = ciPackageJobs(pipeline);
  if (options.mode === 'docker') {
    const reported: Need[] = [];
    for (const job of all)
      for (const id of job.gates) {
        const { stage, needs, ...rest } = dockerGateJob(pipeline, byId.get(id)!, options);
        jobs[gateJobName(id)] = {
          stage,
          ...rules.get(job.key),
          // A need GitLab left out of the pipeline is built inside this job's build all the same.
          needs: needs.map((n) => ({ ...n, optional: true })),
          ...rest,
        };
        reported.push({ job: gateJobName(id), artifacts: true, optional: true });
      }
    // The jobs' image is Docker's; the report needs Node and the CLI.
    const { stage, ...report } = reportJob(pipeline, options, reported);
    jobs[REPORT_JOB_NAME] = setup({ stage, image: pipeline.image, ...report });
    return jobs;
  }
  for (const job of all) {
    const dir = ciPackageReportDir(CI_RESULTS_DIR, job.key);
    const ms = [...job.gates, ...job.deps].reduce((t, id) => t + byId.get(id)!.timeoutMs, 0);
    jobs[packageJobName(job.key)] = setup({
      stage: GATE_STAGE,
      ...rules.get(job.key),
      needs: [],
      script: [
        ciPackageJobScript(options.cli, job.gates.join(' '), job.deps.join(' '), dir).join('\n'),
      ],
      timeout: `${Math.ceil(((pipeline.setup?.timeoutMs ?? 0) + ms) / 60_000) + 5} minutes`,
      artifacts: { paths: [`${dir}/report.json`], when: 'always', expire_in: options.expire_in },
    });
  }
  jobs[REPORT_JOB_NAME] = setup(
    reportJob(
      pipeline,
      options,
      all.map((j) => ({ job: packageJobName(j.key), artifacts: true, optional: true })),
    ),
  );
  return jobs;
}

/**
 * The report job, after the jobs `needs` (each optional: GitLab may leave it out): it
 * recomputes the affected gates from GitLab's base and fails when one did not pass or has no
 * result. Its script runs after the setup the caller adds.
 */
function reportJob(
  pipeline: ResolvedPipeline,
  options: GitlabOptions,
  needs: Need[],
): Omit<Job, 'script'> & { script: string[] } {
  const report = ciReportCommands(options.cli, options.mode);
  const depth: Record<string, RawVariable> = { GIT_DEPTH: { value: '0', expand: false } };
  return {
    stage: REPORT_STAGE,
    needs,
    when: 'always',
    // The whole history, for the merge-base with the base commit.
    variables: depth,
    script: [
      // GitLab's base for `changes`: the merge request's, else the commit before the push.
      'BASE="${CI_MERGE_REQUEST_DIFF_BASE_SHA:-${CI_COMMIT_BEFORE_SHA:-}}"',
      `GATES="$(${ciAffectedCommand(options.cli, '--gates')})"`,
      report.prepare,
      `verdict=passed; ${report.merge} --gates "$GATES" --fail-on-verdict || verdict=failed`,
      ...report.render,
      `${options.cli} report render ${CI_REPORT_DIR}/report.json --format codequality -o ${CODEQUALITY_FILE}`,
      `cat ${report.markdown}`,
      'test "$verdict" = passed',
    ],
    timeout: `${Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 15} minutes`,
    artifacts: {
      paths: [`${CI_REPORT_DIR}/`],
      when: 'always',
      expire_in: options.expire_in,
      expose_as: 'gatehouse report',
      reports: { junit: [`${CI_REPORT_DIR}/junit.xml`], codequality: [CODEQUALITY_FILE] },
    },
  };
}
