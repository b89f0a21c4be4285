/**
 * @gatehouse-ci/plugin-gitlab — the `gitlab` target: a `.gitlab-ci.yml` with one job per gate
 * (`needs:` mirrors the gate graph) and a final job that merges the results and publishes the
 * report with GitLab's report widgets.
 *
 * options.ts (`targets.gitlab`) → build.ts (pipeline → model.ts) → print.ts (model → YAML);
 * checks.ts refuses user text the file cannot carry.
 */
import { ciWithCheckoutDir, defineTarget, definePlugin } from '@gatehouse-ci/core';
import { buildGitlabPipeline } from './build.js';
import { resolveGitlabOptions } from './options.js';
import { printGitlabPipeline } from './print.js';

export {
  buildGitlabPipeline,
  gateJobName,
  REPORT_JOB_NAME,
  GATE_STAGE,
  REPORT_STAGE,
  CI_EVIDENCE_DIR,
  COVERAGE_REGEX,
  CODEQUALITY_FILE,
} from './build.js';
export { pipelineTextProblems } from './checks.js';
export { monorepoJobs, packageJobName, sharedChangePaths } from './monorepo.js';
export { printGitlabPipeline } from './print.js';
export { resolveGitlabOptions, DEFAULT_GITLAB_PATH } from './options.js';
export type { GitlabOptions } from './options.js';
export type {
  GitlabPipeline,
  Job,
  Artifacts,
  Cache,
  Defaults,
  Need,
  ChangesRule,
  RawVariable,
} from './model.js';

export default definePlugin({
  name: '@gatehouse-ci/plugin-gitlab',
  targets: {
    gitlab: defineTarget({
      description:
        'GitLab CI pipeline: one job per gate, merged report with test, code quality and coverage widgets',
      resolveOptions: resolveGitlabOptions,
      emit: (pipeline, options, ctx) => {
        const settled = ciWithCheckoutDir(options, ctx, 'gitlab');
        return [printGitlabPipeline(buildGitlabPipeline(pipeline, settled), settled, ctx)];
      },
    }),
  },
});
