/**
 * @gatehouse-ci/plugin-dockerfile — the `dockerfile` target: a multi-stage Dockerfile
 * whose stages are the gates, plus `gatehouse import` of a hand-written one.
 *
 * options.ts (`targets.dockerfile`) → build.ts (pipeline → model.ts, in the stages of
 * layout.ts; `.dockerignore` from dockerignore.ts) → print.ts (model → text); checks.ts
 * refuses values a Dockerfile cannot carry; wrapper.ts writes the shell that runs inside a
 * stage; ca.ts finds the CA bundle a build passes.
 */
import { defineTarget, definePlugin, type ResolvedPipeline } from '@gatehouse-ci/core';
import { buildDockerfile } from './build.js';
import type { DockerfileOptions } from './options.js';
import { resolveDockerfileOptions } from './options.js';
import { dockerfileFiles, printDockerfile, type EmittedDockerfile } from './print.js';

export {
  BASE_STAGE,
  INLINE_COMMAND_LIMIT,
  RELEASE_STAGE,
  RELEASE_VERDICT_PATH,
  RESULTS_STAGE,
  SCRIPTS_DIR,
  VERDICT_JUDGE_FILE,
  VERDICT_SPEC_FILE,
  SETUP_STAGE,
  SIGNING_KEY_FILE,
  VERDICT_STAGE,
  JUDGED_STAGE,
  resultStageName,
  stageName,
} from './layout.js';
export { buildDockerfile } from './build.js';
export type { DockerfileBuild } from './build.js';
export { dockerfileProblems } from './checks.js';
export { buildSecretArgs, caSecretSource, resolveCaSource, SYSTEM_CA_BUNDLES } from './ca.js';
export { resolveDockerfileOptions, DEFAULT_DOCKERFILE_OPTIONS } from './options.js';
export type { DockerfileOptions } from './options.js';
export { CA_SECRET_ID, OUT_ROOT } from './wrapper.js';
export {
  dockerfileFiles,
  printDockerfile,
  serializeDockerfile,
  jsonString,
  quoteEnvValue,
} from './print.js';
export type { EmittedDockerfile } from './print.js';
export type * from './model.js';
export { importDockerfile } from './import/index.js';
export type { ImportResult, ImportFinding } from './import/index.js';

/**
 * The Dockerfile, `.dockerignore` and generated files of a pipeline as text: build, then
 * print. Options left out take their defaults. Throws `GH_DOCKERFILE_UNREPRESENTABLE` for
 * values a Dockerfile cannot carry.
 */
export function emitDockerfile(
  pipeline: ResolvedPipeline,
  options: Partial<DockerfileOptions> = {},
  ctx: { configFile?: string } = {},
): EmittedDockerfile {
  return printDockerfile(buildDockerfile(pipeline, options, ctx));
}

/** The plugin: one target, `dockerfile`, writing `Dockerfile`, `.dockerignore` and long-command files. */
export default definePlugin({
  name: '@gatehouse-ci/plugin-dockerfile',
  targets: {
    dockerfile: defineTarget({
      description:
        'multi-stage Dockerfile: one stage per gate, a results collector, a verdict and the release image',
      resolveOptions: resolveDockerfileOptions,
      emit: (pipeline, options, ctx) =>
        dockerfileFiles(emitDockerfile(pipeline, options, { configFile: ctx.configFile })),
    }),
  },
});
