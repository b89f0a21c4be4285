/**
 * @gatehouse-ci/plugin-docker — the `docker` executor: runs the gates as stages of the
 * generated Dockerfile through the Docker Engine API with BuildKit.
 *
 * The CLI imports every built-in plugin for every command, so the engine client (dockerode,
 * gRPC) is loaded only when a build actually starts.
 */
import type { ExecuteOptions, ResolvedPipeline, RunReport } from '@gatehouse-ci/core';
import { definePlugin } from '@gatehouse-ci/core';
import type { BuildPipelineImageOptions, BuildResult } from './build.js';

export { EXECUTOR, LABEL } from './constants.js';
export { BuildProgress, decodeTrace, parseVertexName } from './progress.js';
export type { BuildOutcome, ProgressHandlers, Vertex } from './progress.js';
export { contextEntries } from './context.js';
export type { BuildPipelineImageOptions, BuildResult } from './build.js';

/** Runs the pipeline's gates in BuildKit; resolves with the report (also written under `stateDir`). */
export async function executeDocker(
  pipeline: ResolvedPipeline,
  options: ExecuteOptions,
): Promise<RunReport> {
  return (await import('./executor.js')).executeDocker(pipeline, options);
}

/**
 * Builds a stage of the pipeline's generated Dockerfile as an image, with the declared
 * secrets (the default, last stage when `target` is omitted). A failed build resolves
 * with `error` set; an unreachable engine throws `GH_DOCKER_UNREACHABLE`.
 */
export async function buildPipelineImage(
  pipeline: ResolvedPipeline,
  options: BuildPipelineImageOptions,
): Promise<BuildResult> {
  return (await import('./build.js')).buildPipelineImage(pipeline, options);
}

/** The plugin: one executor, `docker`. */
export default definePlugin({
  name: '@gatehouse-ci/plugin-docker',
  executors: {
    docker: {
      description:
        'run the gates as BuildKit stages of the generated Dockerfile, through the Docker Engine API',
      writesReport: true,
      execute: executeDocker,
    },
  },
});
