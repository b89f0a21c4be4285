/**
 * The gates `init` proposes for a workspace: one gate of `packages:` per task the packages have
 * (build, lint, typecheck, test), each running the package's own script (an nx project's own
 * target), with the dependencies turbo's task graph gives, else the task runner's `dependsOn`
 * (turbo.json, nx.json's `targetDefaults`), else `^build` (turbo's usual `dependsOn`) and
 * `build` for tests. Kept out of `plan.ts`, which handles single-package projects.
 */
import { posix } from 'node:path';
import {
  packageSlugs,
  type UserGate,
  type Workspace,
  type WorkspacePackage,
} from '@gatehouse-ci/core';
import { safeRelative } from './proposers/context.js';
import type { TurboTask } from './turbo.js';

/** What the workspace looks like, for the proposer. */
export interface WorkspaceFacts {
  /** Where the packages come from: the package manager's files, or nx's project graph. */
  source: Workspace['source'];
  /** The packages; from nx's graph, each with its nx `targets`. */
  packages: WorkspacePackage[];
  /** turbo's task graph when the repository uses turbo and it could be read. */
  turbo: TurboTask[] | null;
  /** Where the dependencies come from, or why turbo's graph could not be read. */
  turboWhy: string | null;
  /**
   * `dependsOn` per task (`^build`, `build`) from the task runner's config, used when turbo's
   * graph could not be read: turbo.json's, or nx.json's `targetDefaults`.
   */
  dependsOn?: Map<string, string[]>;
  /** Which file {@link dependsOn} comes from, for the comments ("turbo.json's dependsOn"). */
  dependsOnFrom?: string;
  /**
   * nx: the outputs of each project's `build` target, relative to the workspace root, as nx
   * resolves them; projects whose target declares none are absent.
   */
  buildOutputs?: Map<string, string[]>;
}

/** The gates and what to say about them. */
export interface WorkspaceProposal {
  gates: Record<string, UserGate>;
  comments: Record<string, string[]>;
  detected: string[];
}

// Tasks init turns into gates, in the order they are written, with their gate kind.
const TASKS: ReadonlyArray<[task: string, kind: string]> = [
  ['build', 'build'],
  ['lint', 'lint'],
  ['typecheck', 'custom'],
  ['test', 'unit-test'],
];
const NPM_PLACEHOLDER_TEST = /^echo "Error: no test specified" && exit 1$/;

/** The tasks to ask turbo about: those of {@link TASKS} that turbo.json defines. */
export function turboTaskNames(known: ReadonlySet<string>): string[] {
  return TASKS.map(([t]) => t).filter((t) => known.has(t));
}

/** A list for a comment: the first six, then `…`. */
const some = (names: readonly string[]) =>
  `${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}`;

/**
 * nx's outputs of a project's build (relative to the workspace root) as outputs of its gate
 * (relative to the project directory), or null when one lies outside that directory, which a
 * gate of `packages:` cannot name, or names the whole directory.
 */
export function outputsUnder(dir: string, outputs: readonly string[]): string[] | null {
  const out: string[] = [];
  for (const o of outputs) {
    const neg = o.startsWith('!');
    const path = posix.normalize((neg ? o.slice(1) : o).replace(/^(\.\/)+/, ''));
    if (!path.startsWith(`${dir}/`)) return null;
    const rel = safeRelative(path.slice(dir.length + 1));
    if (rel === null) return null;
    out.push(neg ? `!${rel}` : rel);
  }
  return out.some((o) => !o.startsWith('!')) ? out : null;
}

/**
 * The `outputs` of a build gate over nx projects: each project's build outputs from nx's graph
 * where they lie in the project directory, else `dist/**`. The list most projects share is the
 * gate's; a project with another list gets it in `packages.overrides`.
 */
function nxBuildOutputs(
  pkgs: readonly WorkspacePackage[],
  fromNx: ReadonlyMap<string, string[]>,
): { outputs: string[]; overrides: Record<string, string[]>; comment: string[] } {
  const per = new Map<string, string[]>();
  const none: string[] = [];
  const outside: string[] = [];
  for (const p of pkgs) {
    const declared = fromNx.get(p.name);
    const rel = declared ? outputsUnder(p.dir, declared) : null;
    if (declared && !rel) outside.push(`${p.name} (${declared.join(', ')})`);
    else if (!declared) none.push(p.name);
    per.set(p.name, rel ?? ['dist/**']);
  }
  const count = new Map<string, number>();
  for (const list of per.values()) {
    const key = JSON.stringify(list);
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  // The most shared list; on a tie, the first project's (by name).
  let best = JSON.stringify(per.values().next().value);
  for (const [key, n] of count) if (n > count.get(best)!) best = key;
  const overrides: Record<string, string[]> = {};
  for (const [name, list] of per) if (JSON.stringify(list) !== best) overrides[name] = list;
  const comment: string[] = [];
  if (none.length + outside.length < pkgs.length)
    comment.push(
      "outputs: the build target's `outputs` in nx's graph, relative to each project directory.",
    );
  if (none.length > 0)
    comment.push(`outputs: dist/** guessed for ${some(none)}: nx's graph gives no build outputs.`);
  if (outside.length > 0)
    comment.push(
      `outputs: dist/** guessed for ${some(outside)}: nx writes outside the project directory, which the outputs of a gate of packages cannot name.`,
    );
  return { outputs: JSON.parse(best) as string[], overrides, comment };
}

/** Gates of `packages:` for the workspace, or null when it has no package with such a script. */
export function proposeWorkspaceGates(
  ws: WorkspaceFacts,
  buildOutputs: readonly string[],
): WorkspaceProposal | null {
  const gates: Record<string, UserGate> = {};
  const comments: Record<string, string[]> = {};
  const detected: string[] = [];
  const nx = ws.source === 'nx';
  const slugs = packageSlugs(ws);
  const has = (p: WorkspacePackage, t: string) =>
    p.targets
      ? p.targets.includes(t)
      : typeof p.scripts[t] === 'string' &&
        !(t === 'test' && NPM_PLACEHOLDER_TEST.test(p.scripts[t].trim()));
  const byPkg = new Map(ws.packages.map((p) => [p.name, p]));
  const hasBuild = ws.packages.some((p) => has(p, 'build'));
  const selected = new Map<string, WorkspacePackage[]>();
  for (const [task] of TASKS) {
    const pkgs = ws.turbo
      ? [...new Set(ws.turbo.filter((t) => t.task === task).map((t) => t.package))]
          .map((n) => byPkg.get(n))
          .filter((p): p is WorkspacePackage => p !== undefined && has(p, task))
      : ws.packages.filter((p) => has(p, task));
    if (pkgs.length > 0) selected.set(task, pkgs);
  }
  // A need names a gate init writes: a `dependsOn` on a task no package has would name none.
  const gateTasks = new Set(selected.keys());
  for (const [task, kind] of TASKS) {
    const pkgs = selected.get(task);
    if (!pkgs) continue;
    // Needs: turbo's edges folded per task (same package → `x`, another package → `^x`).
    const same = new Set<string>();
    const up = new Set<string>();
    const fromConfig = !ws.turbo && ws.dependsOn?.has(task);
    if (ws.turbo) {
      for (const t of ws.turbo) {
        if (t.task !== task) continue;
        for (const d of t.dependencies) {
          const [pkg, dep] = [d.slice(0, d.lastIndexOf('#')), d.slice(d.lastIndexOf('#') + 1)];
          if (pkg === '//') continue;
          (pkg === t.package ? same : up).add(dep);
        }
      }
    } else if (fromConfig) {
      // No task graph to ask (turbo not installed yet, or nx): the config's own `dependsOn`.
      for (const d of ws.dependsOn!.get(task)!)
        if (d.startsWith('^')) up.add(d.slice(1));
        else same.add(d);
    } else if (task === 'test' && hasBuild) {
      // No task graph to ask: a package's tests may read its own build (`../dist`), and the
      // project runs every build before any test (`npm run build --workspaces && npm test …`).
      // With only `^build` the test would race its own build, or read the dist of an earlier one.
      same.add('build');
    } else if (hasBuild && ws.packages.some((p) => p.deps.length > 0)) up.add('build');
    const needs = [
      ...[...same].filter((x) => gateTasks.has(x) && x !== task),
      ...[...up].filter((x) => gateTasks.has(x) && !same.has(x)).map((x) => `^${x}`),
    ].sort();
    const gate: UserGate = { kind, packages: { script: task } };
    if (needs.length > 0) gate.needs = needs;
    let outputsComment: string[] = [];
    if (task === 'build' && nx && ws.buildOutputs) {
      const o = nxBuildOutputs(pkgs, ws.buildOutputs);
      gate.outputs = o.outputs;
      if (Object.keys(o.overrides).length > 0)
        gate.packages = {
          script: task,
          overrides: Object.fromEntries(
            Object.entries(o.overrides).map(([name, outputs]) => [name, { outputs }]),
          ),
        };
      outputsComment = o.comment;
    } else if (task === 'build')
      gate.outputs = buildOutputs.length > 0 ? [...buildOutputs] : ['dist/**'];
    gates[task] = gate;
    const names = pkgs.map((p) => slugs.get(p.name)!);
    const what = nx ? 'nx project' : 'package';
    const count = `${pkgs.length} ${what}${pkgs.length === 1 ? '' : 's'}`;
    comments[task] = [
      nx
        ? `${task} — each nx project's own \`${task}\` target, run by \`nx run <project>:${task}\` from the root: ${count} (${some(names)}), gates \`<project>-${task}\`.`
        : `${task} — each package's own \`${task}\` script, run in its directory: ${count} (${some(names)}), gates \`<package>-${task}\`.`,
      ...(needs.length > 0
        ? [
            `needs ${needs.join(', ')}: ${ws.turbo ? "from turbo's task graph" : fromConfig ? `from ${ws.dependsOnFrom}` : same.has('build') ? `the ${what}'s own build and its ${nx ? 'dependencies' : 'workspace dependencies'}' first (its tests may read what they build)` : `the build of the ${nx ? "project's dependencies" : 'workspace dependencies'} first`}${needs.some((n) => n.startsWith('^')) ? ` (\`^x\` = the \`x\` of the ${nx ? "project's dependencies in nx's graph" : 'workspace dependencies'})` : ''}.`,
          ]
        : fromConfig
          ? [
              `needs nothing: ${ws.dependsOnFrom} gives \`${task}\` no dependsOn on a task written here.`,
            ]
          : []),
      ...outputsComment,
    ];
    detected.push(`${task}: ${count} with a \`${task}\` ${nx ? 'target' : 'script'}`);
    for (const line of outputsComment) detected.push(`build: ${line}`);
  }
  if (Object.keys(gates).length === 0) return null;
  const configTasks = [...gateTasks].filter((t) => !ws.turbo && ws.dependsOn?.has(t));
  const fromConfig =
    configTasks.length > 0 ? `${ws.dependsOnFrom} for ${configTasks.join(', ')}` : '';
  detected.unshift(
    nx
      ? `workspace: ${ws.packages.length} nx projects from nx's project graph${fromConfig ? `; dependencies: ${fromConfig}` : ''}`
      : `workspace: ${ws.packages.length} packages${ws.turbo ? `; dependencies from ${ws.turboWhy}` : ws.turboWhy ? ` (${ws.turboWhy}; dependencies: ${ws.dependsOn ? "turbo.json's dependsOn" : '^build'})` : fromConfig ? `; dependencies: ${fromConfig}` : ''}`,
  );
  return { gates, comments, detected };
}

// Root scripts that only run the packages' own scripts (`pnpm -r test`, `turbo run lint`).
const DELEGATES =
  /^\s*(?:(?:pnpm|npm|yarn|npx|bunx?)\s+(?:exec\s+)?)?(?:turbo\b|nx\b|lerna\s+run\b)|^\s*pnpm\s+(?:-r|--recursive|--filter|-F)\b|^\s*pnpm\s+\S+\s+(?:-r|--recursive)\b|\s(?:--workspaces|-ws)\b|^\s*yarn\s+workspaces\s+(?:foreach|run)\b/;

/**
 * Replace the whole-repository gates of a workspace (`turbo run lint`, a root `pnpm -r test`)
 * by gates of `packages:`; a root gate of the repository's own that shares a task id is kept
 * as `root-<id>`.
 */
export function applyWorkspaceProposal(
  rootScripts: Record<string, string>,
  gates: Record<string, UserGate>,
  comments: Record<string, string[]>,
  detected: string[],
  proposal: WorkspaceProposal,
  viaTool: (id: string, gate: UserGate) => boolean,
): void {
  const script: Record<string, string> = { lint: 'lint', unit: 'test', build: 'build' };
  for (const [id, g] of Object.entries(gates)) {
    const task = script[id];
    const viaRoot = task !== undefined && DELEGATES.test(rootScripts[task] ?? '');
    if (viaTool(id, g) || viaRoot) {
      delete gates[id];
      delete comments[id];
      for (let i = detected.length - 1; i >= 0; i--)
        if (detected[i]!.startsWith(`${id}: `)) detected.splice(i, 1);
    }
  }

  for (const id of Object.keys(proposal.gates)) {
    if (!gates[id]) continue;
    gates[`root-${id}`] = gates[id];
    comments[`root-${id}`] = comments[id] ?? [];
    delete gates[id];
    delete comments[id];
  }
  // Package gates first: they are the checks of a workspace.
  const rest = Object.entries(gates);
  for (const [id] of rest) delete gates[id];
  Object.assign(gates, proposal.gates, Object.fromEntries(rest));
  Object.assign(comments, proposal.comments);
  detected.push(...proposal.detected);
}
