/**
 * @gatehouse/plugin-github-actions — the `github` target: a GitHub Actions workflow with one
 * job per gate (parallel as `needs` allows) and a final job that merges and publishes the report.
 */
import { GatehouseError, definePlugin } from '@gatehouse/core';
import { emitGithubWorkflow } from './emit.js';
import { readGithubOptions } from './options.js';

export { buildWorkflow, emitGithubWorkflow, gateJobId, REPORT_JOB_ID } from './emit.js';
export { readGithubOptions, DEFAULT_ACTIONS, DEFAULT_GITHUB_PATH } from './options.js';
export type { GithubOptions, GithubActions, PinnedAction } from './options.js';
export type {
  Workflow,
  Job,
  Step,
  WorkflowTriggers,
  Permissions,
  Concurrency,
  BranchFilter,
} from './workflow.js';

export default definePlugin({
  name: '@gatehouse/plugin-github-actions',
  targets: {
    github: {
      description: 'GitHub Actions workflow: one job per gate, merged report in the job summary',
      validateOptions: (options) => readGithubOptions(options).diagnostics,
      emit(pipeline, options, ctx) {
        const { value, diagnostics } = readGithubOptions(options);
        if (diagnostics.length > 0) {
          throw new GatehouseError('GH_TARGET_OPTIONS', 'github: invalid target options', {
            diagnostics: diagnostics.map((d) => ({ ...d, path: `targets.github.${d.path}` })),
          });
        }
        return [emitGithubWorkflow(pipeline, value, ctx)];
      },
    },
  },
});
