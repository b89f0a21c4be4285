/**
 * @gatehouse-ci/plugin-jenkins — the `jenkins` target: a declarative Jenkinsfile with one
 * stage per gate.
 *
 * options.ts (`targets.jenkins`) → build.ts (pipeline → model.ts) → print.ts (model → Groovy,
 * literals from groovy.ts); checks.ts refuses config text Groovy cannot carry.
 */
import { ciWithCheckoutDir, defineTarget, definePlugin } from '@gatehouse-ci/core';
import { buildJenkinsPipeline, inConfigDir } from './build.js';
import { resolveJenkinsOptions } from './options.js';
import { printJenkinsfileFile } from './print.js';

export default definePlugin({
  name: '@gatehouse-ci/plugin-jenkins',
  targets: {
    jenkins: defineTarget({
      description:
        'declarative Jenkinsfile: one stage per gate, parallel by DAG layer, report published in post',
      resolveOptions: resolveJenkinsOptions,
      emit: (pipeline, options, ctx) => {
        const settled = ciWithCheckoutDir(options, ctx, 'jenkins');
        const model = inConfigDir(buildJenkinsPipeline(pipeline, settled), settled.checkout_dir);
        return [printJenkinsfileFile(model, settled, ctx)];
      },
    }),
  },
});

export {
  buildJenkinsPipeline,
  inConfigDir,
  layerStageName,
  SETUP_STAGE,
  CLEAN_STAGE,
  REPORT_MINUTES,
  STAGE_GRACE_MINUTES,
  setupScript,
} from './build.js';
export { jenkinsfileTextProblems } from './checks.js';
export { groovyString } from './groovy.js';
export { printJenkinsfile, printJenkinsfileFile } from './print.js';
export type { PrintOptions } from './print.js';
export { resolveJenkinsOptions, defaultCredentialsId, DEFAULT_JENKINS_PATH } from './options.js';
export type {
  JenkinsTargetOptions,
  JenkinsAgentOptions,
  ResolvedJenkinsOptions,
} from './options.js';
export type * from './model.js';
export { POST_CONDITIONS } from './model.js';
