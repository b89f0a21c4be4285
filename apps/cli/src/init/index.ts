/**
 * `gatehouse init` as a library: detect → plan → render. The command in
 * `commands/init.ts` only adds files and printing.
 */
import { detectProject, type ProjectFacts } from './detect.js';
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
): Promise<{ plan: InitPlan; text: string; facts: ProjectFacts }> {
  const facts = await detectProject(dir, runningNode);
  const plan = planInit(facts);
  return { plan, text: renderInit(plan), facts };
}

/** The npm name of the CLI package, which the generated CI files and the Dockerfile run. */
export const CLI_PACKAGE = 'gatehouse-ci';

/**
 * The command that adds the CLI to the project as a devDependency, or null when it is one
 * already. The generated CI jobs and Dockerfile run `gatehouse` from the project's own
 * `node_modules`, so it has to be there. When `plan` has gates of `packages:` over nx's
 * projects, `@gatehouse-ci/nx` too: every command that reads such a config reads nx's graph
 * through it.
 *
 * In a package of a workspace (init run in `packages/web`), the CLI goes to the workspace root,
 * which the package's setup installs, and nothing is proposed when the root (or the package)
 * has it already. The command is run where init ran: pnpm's `--workspace-root` finds the root
 * itself; npm and Yarn, run in a package directory, add to that package, so they are pointed
 * at the root (`--prefix ../..`, `--cwd ../..`).
 */
export function installCommand(facts: ProjectFacts, plan?: InitPlan): string | null {
  const overNx =
    facts.workspace?.source === 'nx' &&
    plan !== undefined &&
    Object.values(plan.config.gates).some((g) => g.packages);
  const member = facts.memberOf;
  const wanted = [CLI_PACKAGE, ...(overNx ? [NX_PACKAGE] : [])].filter(
    (p) => !facts.deps.has(p) && !member?.rootDeps.has(p),
  );
  if (wanted.length === 0) return null;
  const names = wanted.join(' ');
  const pm = facts.packageManager.name;
  const atRoot = member !== null;
  const workspaceRoot = atRoot || facts.workspaces.length > 0;
  if (pm === 'npm')
    return `npm install --save-dev${atRoot ? ` --prefix ${member.up}` : ''} ${names}`;
  if (pm === 'pnpm')
    return `pnpm add --save-dev${workspaceRoot ? ' --workspace-root' : ''} ${names}`;
  return `yarn${atRoot ? ` --cwd ${member.up}` : ''} add --dev${workspaceRoot && !facts.packageManager.yarnBerry ? ' --ignore-workspace-root-check' : ''} ${names}`;
}

/** The optional package through which the CLI reads nx's project graph. */
export const NX_PACKAGE = '@gatehouse-ci/nx';
