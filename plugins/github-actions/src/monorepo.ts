/**
 * The workflow of a config with gates of workspace packages (docs/decisions/0009-monorepo-ci.md):
 * a plan job runs `gatehouse affected` and writes the affected jobs as a matrix; one matrix job
 * per affected package runs that package's gates after one setup, rebuilding what they need from
 * other packages; the report job merges the selected gates and fails when one did not pass.
 * In docker mode the gate jobs stay one per gate (each build runs the stages of its needs), and
 * each runs only when the plan selected its gate.
 */
import {
  ciAffectedCommand,
  CI_DOCKER_RESULTS_DIR,
  CI_REPORT_DIR,
  CI_RESULTS_DIR,
  ciConditionEnv,
  ciJobSecrets,
  ciPackageJobs,
  ciPackageJobScript,
  ciPackageReportDir,
  ciReportCommands,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import {
  codeScanning,
  conditionEnv,
  dockerGateJob,
  gateJobId,
  REPORT_JOB_ID,
  secretEnv,
  top,
  uses,
} from './build.js';
import type { Job, Step } from './model.js';
import type { GithubOptions } from './options.js';

/** Job id of the job that computes the affected set. */
export const PLAN_JOB_ID = 'gatehouse-plan';
/** Job id of the matrix job, one run per affected package. */
export const PACKAGES_JOB_ID = 'gatehouse-packages';

// The commit to compare with: the pull request's base, else the commit before the push (all
// zeros on a branch's first push, empty on a manual run: then every job runs).
const BASE =
  "${{ github.event_name == 'pull_request' && github.event.pull_request.base.sha || github.event.before }}";

/** The job that runs `gatehouse affected` and writes the selection as its outputs. */
function planJob(
  pipeline: ResolvedPipeline,
  options: GithubOptions,
  prelude: readonly Step[],
): Job {
  const [checkout, ...rest] = prelude.map((s) => ({ ...s }));
  return {
    name: 'gatehouse plan',
    'runs-on': options.runs_on,
    outputs: {
      jobs: '${{ steps.affected.outputs.jobs }}',
      gates: '${{ steps.affected.outputs.gates }}',
      count: '${{ steps.affected.outputs.count }}',
    },
    'timeout-minutes': Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 10,
    steps: [
      // The whole history, so that the merge-base with the base commit is there.
      { ...checkout!, with: { ...checkout!.with, 'fetch-depth': 0 } },
      ...rest,
      {
        name: 'Affected packages',
        id: 'affected',
        run: ciAffectedCommand(options.cli, '--github-output'),
        env: { BASE },
      },
    ],
  };
}

/** The plan, package and report jobs of a monorepo workflow. */
export function monorepoJobs(
  pipeline: ResolvedPipeline,
  options: GithubOptions,
  prelude: readonly Step[],
): Record<string, Job> {
  if (options.mode === 'docker') return dockerMonorepoJobs(pipeline, options, prelude);
  const steps = (): Step[] => prelude.map((s) => ({ ...s }));
  const plan = planJob(pipeline, options, prelude);

  // Every package job is one job of the workflow: it gets what any of them needs.
  const secrets = new Set<string>();
  const vars = new Set<string>();
  for (const g of pipeline.gates) {
    for (const s of ciJobSecrets(pipeline, g, 'native')) secrets.add(s);
    for (const v of ciConditionEnv(pipeline, g, 'native')) vars.add(v);
  }
  const env = {
    GATES: '${{ matrix.gates }}',
    DEPS: '${{ matrix.deps }}',
    ...conditionEnv([...vars].sort()),
    ...secretEnv([...secrets].sort()),
  };
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const longest = Math.max(
    0,
    ...ciPackageJobs(pipeline).map((j) =>
      [...j.gates, ...j.deps].reduce((ms, id) => ms + byId.get(id)!.timeoutMs, 0),
    ),
  );
  const reportDir = ciPackageReportDir(CI_RESULTS_DIR, '"$KEY"');
  const packages: Job = {
    name: 'gatehouse ${{ matrix.label }}',
    'runs-on': options.runs_on,
    needs: [PLAN_JOB_ID],
    if: "needs.gatehouse-plan.outputs.count != '0'",
    strategy: {
      'fail-fast': false,
      matrix: { include: '${{ fromJSON(needs.gatehouse-plan.outputs.jobs) }}' },
    },
    'timeout-minutes': Math.ceil(((pipeline.setup?.timeoutMs ?? 0) + longest) / 60_000) + 5,
    steps: [
      ...steps(),
      {
        name: 'Gates of ${{ matrix.label }}',
        run: ciPackageJobScript(options.cli, '$GATES', '$DEPS', reportDir).join('\n'),
        env: { KEY: '${{ matrix.key }}', ...env },
      },
      {
        name: 'Upload gate results',
        if: 'always()',
        uses: uses(options.actions.upload_artifact),
        with: {
          name: 'gatehouse-result-${{ matrix.key }}',
          path: top(options, `${CI_RESULTS_DIR}/\${{ matrix.key }}/report.json`),
          'if-no-files-found': 'warn',
        },
      },
    ],
  };

  const report = selectedReportJob(pipeline, options, prelude, [PLAN_JOB_ID, PACKAGES_JOB_ID], {
    name: 'Download gate results',
    uses: uses(options.actions.download_artifact),
    // When no package job got as far as uploading, the merge reports each selected gate as missing.
    'continue-on-error': true,
    // One directory per artifact: every package job's report is named report.json.
    with: { pattern: 'gatehouse-result-*', path: top(options, CI_RESULTS_DIR) },
  });
  return { [PLAN_JOB_ID]: plan, [PACKAGES_JOB_ID]: packages, [REPORT_JOB_ID]: report };
}

/**
 * Docker mode: the plan job, one job per gate as without packages, each run only when the plan
 * selected its gate (and no job it needs failed: a need the plan left out is skipped, which
 * does not hold it back), and the report job.
 */
function dockerMonorepoJobs(
  pipeline: ResolvedPipeline,
  options: GithubOptions,
  prelude: readonly Step[],
): Record<string, Job> {
  const jobs: Record<string, Job> = { [PLAN_JOB_ID]: planJob(pipeline, options, prelude) };
  for (const gate of pipeline.gates) {
    const { name, 'runs-on': runsOn, needs = [], ...rest } = dockerGateJob(pipeline, gate, options);
    jobs[gateJobId(gate.id)] = {
      name,
      'runs-on': runsOn,
      needs: [PLAN_JOB_ID, ...needs],
      // The outputs hold ids separated by spaces: padded, the test matches whole ids only.
      if: `!cancelled() && !failure() && contains(format(' {0} ', needs.${PLAN_JOB_ID}.outputs.gates), ' ${gate.id} ')`,
      ...rest,
    };
  }
  jobs[REPORT_JOB_ID] = selectedReportJob(
    pipeline,
    options,
    prelude,
    [PLAN_JOB_ID, ...pipeline.gates.map((g) => gateJobId(g.id))],
    {
      name: 'Download gate results',
      uses: uses(options.actions.download_artifact),
      // When no gate job got as far as uploading, the merge reports each selected gate as missing.
      'continue-on-error': true,
      // Each artifact holds `<id>/` of one gate's export.
      with: {
        pattern: 'gatehouse-result-*',
        path: top(options, CI_DOCKER_RESULTS_DIR),
        'merge-multiple': true,
      },
    },
  );
  return jobs;
}

/**
 * The report job of a plan: downloads the results with `download`, merges the gates the plan
 * selected and fails when one did not pass, has no result, or the plan itself did not succeed.
 */
function selectedReportJob(
  pipeline: ResolvedPipeline,
  options: GithubOptions,
  prelude: readonly Step[],
  needs: string[],
  download: Step,
): Job {
  const commands = ciReportCommands(options.cli, options.mode);
  const scanning = codeScanning(options);
  return {
    name: 'gatehouse report',
    'runs-on': options.runs_on,
    needs,
    if: 'always()',
    ...scanning.job,
    'timeout-minutes': Math.ceil((pipeline.setup?.timeoutMs ?? 0) / 60_000) + 15,
    steps: [
      ...prelude.map((s) => ({ ...s })),
      download,
      {
        name: 'Merge gate results',
        // Without a plan there is no selection to judge: fail rather than report nothing.
        run: [
          'if [ "$PLAN" != success ]; then echo "the plan job did not succeed" >&2; exit 1; fi',
          commands.prepare,
          `${commands.merge} --gates "$GATES" --fail-on-verdict`,
        ].join('\n'),
        env: {
          PLAN: '${{ needs.gatehouse-plan.result }}',
          GATES: '${{ needs.gatehouse-plan.outputs.gates }}',
        },
      },
      {
        name: 'Publish report',
        if: 'always()',
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
      ...scanning.steps,
    ],
  };
}
