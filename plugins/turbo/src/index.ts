/**
 * @gatehouse-ci/plugin-turbo — the `turbo` target: each gate becomes a turbo task
 * (`turbo.json#tasks`, `<package>#gatehouse:<gate>`) whose package script runs it through
 * `gatehouse run --only` and writes its result where turbo caches it, so `turbo run
 * gatehouse:lint …` runs the gates with turbo's scheduling and (remote) cache and
 * `gatehouse report merge .gatehouse/turbo` judges them. The files are the user's: only the
 * keys named `gatehouse:…` are written (see docs/decisions/0013-turbo-tasks.md).
 *
 * options.ts (`targets.turbo`) → build.ts (pipeline → model.ts) → print.ts (model → merged JSON).
 */
import { defineTarget, definePlugin } from '@gatehouse-ci/core';
import { buildTurboPlan } from './build.js';
import { resolveTurboOptions } from './options.js';
import { printTurboPlan } from './print.js';

export {
  buildTurboPlan,
  resultFile,
  taskId,
  taskName,
  turboGlobs,
  TASK_PREFIX,
  TURBO_RESULTS_DIR,
  TURBO_ROOT,
} from './build.js';
export { printTurboPlan, OWNED_SCRIPT, OWNED_TASK, TURBO_SCHEMA } from './print.js';
export { resolveTurboOptions } from './options.js';
export type { TurboOptions } from './options.js';
export type { TurboPlan, TurboTask } from './model.js';

export default definePlugin({
  name: '@gatehouse-ci/plugin-turbo',
  targets: {
    turbo: defineTarget({
      description:
        'turbo tasks: a gatehouse:<gate> task per package gate in turbo.json and a script in each package.json, results merged into one report',
      resolveOptions: resolveTurboOptions,
      emit: (pipeline, options, ctx) => printTurboPlan(buildTurboPlan(pipeline, options, ctx)),
    }),
  },
});
