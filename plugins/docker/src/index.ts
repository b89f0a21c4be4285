/**
 * @gatehouse/plugin-docker — the `docker` executor: runs the gates as stages of the
 * generated Dockerfile through the Docker Engine API with BuildKit.
 */
import { definePlugin } from '@gatehouse/core';
import { executeDocker } from './executor.js';

export { executeDocker, selectWithNeeds, EXECUTOR } from './executor.js';
export type { DockerExecuteOptions } from './executor.js';
export { buildPipelineImage, runBuild, collectSecrets, LABEL } from './build.js';
export type { BuildPipelineImageOptions, BuildRequest, BuildResult } from './build.js';
export { connect, engineAddress, ensureReachable } from './engine.js';
export { openSession } from './session.js';
export type { BuildSession } from './session.js';
export { BuildProgress, decodeTrace, parseVertexName } from './progress.js';
export type { BuildOutcome, ProgressHandlers, Vertex } from './progress.js';
export { contextEntries } from './context.js';
export { extractImageDirs } from './extract.js';

/** The plugin: one executor, `docker`. */
export default definePlugin({
  name: '@gatehouse/plugin-docker',
  executors: {
    docker: {
      description:
        'run the gates as BuildKit stages of the generated Dockerfile, through the Docker Engine API',
      execute: executeDocker,
    },
  },
});
