/**
 * @gatehouse-ci/plugin-github-actions — the `github` target: a GitHub Actions workflow with one
 * job per gate (parallel as `needs` allows) and a final job that merges and publishes the report.
 *
 * options.ts (`targets.github`) → build.ts (pipeline → model.ts) → print.ts (model → YAML);
 * checks.ts refuses user text the workflow cannot carry.
 */
import { ciWithCheckoutDir, defineTarget, definePlugin } from '@gatehouse-ci/core';
import { buildWorkflow } from './build.js';
import { resolveGithubOptions } from './options.js';
import { printWorkflow } from './print.js';

export { buildWorkflow, gateJobId, REPORT_JOB_ID } from './build.js';
export { workflowTextProblems } from './checks.js';
export { monorepoJobs, PACKAGES_JOB_ID, PLAN_JOB_ID } from './monorepo.js';
export { printWorkflow, topWorkflowPath } from './print.js';
export { resolveGithubOptions, DEFAULT_ACTIONS, DEFAULT_GITHUB_PATH } from './options.js';
export type { GithubOptions, GithubActions, PinnedAction } from './options.js';
export type {
  Workflow,
  Job,
  Step,
  WorkflowTriggers,
  Permissions,
  Concurrency,
  BranchFilter,
} from './model.js';

export default definePlugin({
  name: '@gatehouse-ci/plugin-github-actions',
  targets: {
    github: defineTarget({
      description: 'GitHub Actions workflow: one job per gate, merged report in the job summary',
      resolveOptions: resolveGithubOptions,
      emit: (pipeline, options, ctx) => {
        const settled = ciWithCheckoutDir(options, ctx, 'github');
        return [printWorkflow(buildWorkflow(pipeline, settled), settled, ctx)];
      },
    }),
  },
});
