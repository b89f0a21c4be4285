/**
 * @gatehouse/plugin-jenkins — the `jenkins` target: a declarative Jenkinsfile with one
 * stage per gate.
 */
import {
  definePlugin,
  generatedHeader,
  GatehouseError,
  type EmittedFile,
  type ResolvedPipeline,
  type TargetOptions,
} from '@gatehouse/core';
import { buildJenkinsPipeline } from './emit.js';
import { readJenkinsOptions, validateJenkinsOptions } from './options.js';
import { printJenkinsfile } from './printer.js';

/**
 * The Jenkinsfile for `pipeline` with `options` (`targets.jenkins`). Throws
 * `GH_TARGET_OPTIONS` with the diagnostics when the options are invalid.
 */
export function emitJenkinsfile(
  pipeline: ResolvedPipeline,
  options: TargetOptions | undefined,
  configFile: string,
): EmittedFile {
  const { value, diagnostics } = readJenkinsOptions(options);
  if (diagnostics.length > 0) {
    throw new GatehouseError(
      'GH_TARGET_OPTIONS',
      `invalid jenkins target options: ${diagnostics[0]?.message}`,
      {
        diagnostics,
      },
    );
  }
  const model = buildJenkinsPipeline(pipeline, value);
  // core's header keeps only `[A-Za-z0-9._/-]` of the file name; the printer re-checks the line
  return {
    path: value.path,
    contents: printJenkinsfile(model, { comments: [generatedHeader(configFile)] }),
  };
}

const plugin = definePlugin({
  name: '@gatehouse/plugin-jenkins',
  targets: {
    jenkins: {
      description:
        'declarative Jenkinsfile: one stage per gate, parallel by DAG layer, report published in post',
      validateOptions: validateJenkinsOptions,
      emit: (pipeline, options, ctx) => [emitJenkinsfile(pipeline, options, ctx.configFile)],
    },
  },
});

export default plugin;
export {
  buildJenkinsPipeline,
  layerStageName,
  SETUP_STAGE,
  REPORT_MINUTES,
  STAGE_GRACE_MINUTES,
  setupScript,
} from './emit.js';
export { groovyString } from './groovy.js';
export { printJenkinsfile } from './printer.js';
export type { PrintOptions } from './printer.js';
export {
  readJenkinsOptions,
  validateJenkinsOptions,
  defaultCredentialsId,
  DEFAULT_JENKINS_PATH,
} from './options.js';
export type {
  JenkinsTargetOptions,
  JenkinsAgentOptions,
  ResolvedJenkinsOptions,
} from './options.js';
export type * from './model.js';
export { POST_CONDITIONS } from './model.js';
