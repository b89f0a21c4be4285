/**
 * @gatehouse/plugin-dockerfile — the `dockerfile` target: a multi-stage Dockerfile
 * whose stages are the gates, plus `gatehouse import` of a hand-written one.
 */
import { definePlugin } from '@gatehouse/core';
import type { EmittedFile } from '@gatehouse/core';
import { emitDockerfile, validateDockerfileOptions } from './emit.js';

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
  buildSecretArgs,
  caSecretSource,
  emitDockerfile,
  resolveCaSource,
  SYSTEM_CA_BUNDLES,
  resultStageName,
  stageName,
  validateDockerfileOptions,
} from './emit.js';
export type { DockerfileTargetOptions, EmittedDockerfile } from './emit.js';
export { CA_SECRET_ID, OUT_ROOT } from './wrapper.js';
export { serializeDockerfile, jsonString, quoteEnvValue } from './serialize.js';
export type * from './model.js';
export { importDockerfile } from './import/index.js';
export type { ImportResult, ImportFinding } from './import/index.js';

/** The plugin: one target, `dockerfile`, writing `Dockerfile`, `.dockerignore` and long-command files. */
export default definePlugin({
  name: '@gatehouse/plugin-dockerfile',
  targets: {
    dockerfile: {
      description:
        'multi-stage Dockerfile: one stage per gate, a results collector, a verdict and the release image',
      validateOptions: validateDockerfileOptions,
      emit(pipeline, options, ctx): EmittedFile[] {
        const out = emitDockerfile(pipeline, options, { configFile: ctx.configFile });
        const files: EmittedFile[] = [
          { path: out.path, contents: out.dockerfile },
          { path: '.dockerignore', contents: out.dockerignore },
        ];
        const extra = { ...out.scripts, ...out.judge };
        for (const path of Object.keys(extra).sort()) {
          files.push({ path, contents: extra[path] as string, mode: 0o644 });
        }
        return files;
      },
    },
  },
});
