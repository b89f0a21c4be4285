/**
 * @gatehouse-ci/plugin-buildkite — the `buildkite` target: a pipeline with one command step per gate
 * (`depends_on` mirrors `needs`) and a final step that merges the results and annotates the build.
 *
 * options.ts (`targets.buildkite`) → build.ts (pipeline → model.ts) → print.ts (model → YAML);
 * checks.ts refuses user text the pipeline cannot carry.
 */
import { ciWithCheckoutDir, defineTarget, definePlugin } from '@gatehouse-ci/core';
import { buildPipeline } from './build.js';
import { resolveBuildkiteOptions } from './options.js';
import { printPipeline } from './print.js';

export { buildPipeline, gateStepKey, REPORT_STEP_KEY } from './build.js';
export { pipelineTextProblems } from './checks.js';
export {
  AFFECTED_STEPS_FILE,
  buildAffectedPipeline,
  buildAffectedSteps,
  buildPlanPipeline,
  packageStepKey,
  PLAN_STEP_KEY,
} from './monorepo.js';
export { escapeInterpolation, printPipeline } from './print.js';
export { resolveBuildkiteOptions, DEFAULT_BUILDKITE_PATH } from './options.js';
export type { BuildkiteOptions } from './options.js';
export type { BuildkitePipeline, GatehouseCommandStep } from './model.js';

export default definePlugin({
  name: '@gatehouse-ci/plugin-buildkite',
  targets: {
    buildkite: defineTarget({
      description: 'Buildkite pipeline: one step per gate, merged report as a build annotation',
      resolveOptions: resolveBuildkiteOptions,
      emit: (pipeline, options, ctx) => {
        const settled = ciWithCheckoutDir(options, ctx, 'buildkite');
        return [printPipeline(buildPipeline(pipeline, settled), settled, ctx)];
      },
    }),
  },
});
