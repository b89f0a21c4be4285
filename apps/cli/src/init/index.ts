/**
 * `gatehouse init` as a library: detect → plan → render. The command in
 * `commands/init.ts` only adds files and printing.
 */
import { detectProject } from './detect.js';
import { planInit, type InitPlan } from './plan.js';
import { renderInit } from './render.js';

export {
  choosePackageManager,
  detectProject,
  nodeMajorFromRange,
  onPath,
  parseJsonc,
  type ProjectFacts,
} from './detect.js';
export { planInit, type InitPlan } from './plan.js';
export { renderInit, yamlScalar, yamlFlow, SCHEMA_COMMENT } from './render.js';

/** The starter config for the project in `dir`: the plan and its text. */
export async function initProject(
  dir: string,
  runningNode?: string,
): Promise<{ plan: InitPlan; text: string }> {
  const plan = planInit(await detectProject(dir, runningNode));
  return { plan, text: renderInit(plan) };
}
