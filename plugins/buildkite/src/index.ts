/**
 * @gatehouse/plugin-buildkite — the `buildkite` target: a pipeline with one command step per gate
 * (`depends_on` mirrors `needs`) and a final step that merges the results and annotates the build.
 */
import { GatehouseError, definePlugin } from '@gatehouse/core';
import { emitBuildkitePipeline } from './emit.js';
import { readBuildkiteOptions } from './options.js';

export {
  buildPipeline,
  emitBuildkitePipeline,
  escapeInterpolation,
  gateStepKey,
  REPORT_STEP_KEY,
} from './emit.js';
export { readBuildkiteOptions, DEFAULT_BUILDKITE_PATH } from './options.js';
export type { BuildkiteOptions } from './options.js';
export type { BuildkitePipeline, GatehouseCommandStep } from './pipeline.js';

export default definePlugin({
  name: '@gatehouse/plugin-buildkite',
  targets: {
    buildkite: {
      description: 'Buildkite pipeline: one step per gate, merged report as a build annotation',
      validateOptions: (options) => readBuildkiteOptions(options).diagnostics,
      emit(pipeline, options, ctx) {
        const { value, diagnostics } = readBuildkiteOptions(options);
        if (diagnostics.length > 0) {
          throw new GatehouseError('GH_TARGET_OPTIONS', 'buildkite: invalid target options', {
            diagnostics: diagnostics.map((d) => ({ ...d, path: `targets.buildkite.${d.path}` })),
          });
        }
        return [emitBuildkitePipeline(pipeline, value, ctx)];
      },
    },
  },
});
