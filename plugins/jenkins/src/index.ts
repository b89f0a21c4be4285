/**
 * @gatehouse/plugin-jenkins — the `jenkins` target: a declarative Jenkinsfile with one
 * stage per gate.
 */
import {
  ciUserTexts,
  definePlugin,
  generatedHeader,
  GatehouseError,
  type Diagnostic,
  type EmittedFile,
  type ResolvedPipeline,
  type TargetOptions,
} from '@gatehouse/core';
import { buildJenkinsPipeline } from './emit.js';
import { unrepresentable } from './groovy.js';
import {
  readJenkinsOptions,
  validateJenkinsOptions,
  type ResolvedJenkinsOptions,
} from './options.js';

/**
 * The config texts this Jenkinsfile would hold that Groovy cannot carry unchanged, each at
 * its config path (so the driver can locate it). Only the setup script (native mode) holds
 * config text: gate commands and env stay with the CLI.
 */
function textProblems(pipeline: ResolvedPipeline, options: ResolvedJenkinsOptions): Diagnostic[] {
  if (options.mode !== 'native') return [];
  const out: Diagnostic[] = [];
  for (const { path, field, text } of ciUserTexts(pipeline)) {
    if (field !== 'setup.run' && field !== 'setup.env') continue;
    const why = unrepresentable(text);
    if (why !== null)
      out.push({
        code: 'GH_TARGET_EMIT',
        severity: 'error',
        message: `${field === 'setup.run' ? 'the setup command' : 'this setup env value'} ${why}`,
        path,
        loc: null,
        hint: 'a Jenkinsfile cannot hold it unchanged; remove the character or move the text into a script file',
      });
  }
  return out;
}
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
  const problems = textProblems(pipeline, value);
  if (problems.length > 0) {
    throw new GatehouseError(
      'GH_TARGET_EMIT',
      `the Jenkinsfile cannot hold the config's text unchanged: ${problems[0]?.path} ${problems[0]?.message}`,
      { diagnostics: problems },
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
