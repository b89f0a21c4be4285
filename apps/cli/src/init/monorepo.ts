/**
 * The gates `init` proposes for a workspace: one gate of `packages:` per task the packages have
 * (build, lint, typecheck, test), each running the package's own script (an nx project's own
 * target), with the dependencies turbo's task graph gives, else the task runner's `dependsOn`
 * (turbo.json, nx.json's `targetDefaults`), else `^build` (turbo's usual `dependsOn`) and
 * `build` for tests. Kept out of `plan.ts`, which handles single-package projects.
 */
import { posix } from 'node:path';
import {
  dependenciesOf,
  isPlainObject,
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
  /**
   * nx: each project's `dependsOn` per target, as nx's graph merges it (nx.json's
   * targetDefaults, the project's own in project.json or package.json, an inferring plugin's);
   * a target without one is absent. Each project's gates then follow its own.
   */
  targetDependsOn?: Map<string, Record<string, unknown[]>>;
  /**
   * nx: whether the config is written at the workspace root (as `//` outputs resolve it), so a
   * project's build outputs outside its directory can be named from there.
   */
  configAtRoot?: boolean;
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
 * (relative to the project directory), or null when one lies outside that directory or names
 * the whole directory. With `root` (the config is written at the workspace root), an output
 * outside the project directory is named from the root (`//dist/libs/ui`) instead, unless it
 * is, holds or lies in another project's directory (`root.dirs`): restoring it would
 * overwrite that project's files.
 */
export function outputsUnder(
  dir: string,
  outputs: readonly string[],
  root?: { dirs: readonly string[] },
): string[] | null {
  const out: string[] = [];
  for (const o of outputs) {
    const neg = o.startsWith('!');
    const path = posix.normalize((neg ? o.slice(1) : o).replace(/^(\.\/)+/, ''));
    let rel: string | null = null;
    if (path.startsWith(`${dir}/`)) rel = safeRelative(path.slice(dir.length + 1));
    else if (root) {
      const at = safeRelative(path);
      const clash = (a: string, d: string) =>
        d === a || d.startsWith(`${a}/`) || a.startsWith(`${d}/`);
      if (at !== null && at !== '.' && !root.dirs.some((d) => clash(at, d))) rel = `//${at}`;
    }
    if (rel === null) return null;
    out.push(neg ? `!${rel}` : rel);
  }
  return out.some((o) => !o.startsWith('!')) ? out : null;
}

/**
 * The `outputs` of a build gate over nx projects: each project's build outputs from nx's graph
 * where they lie in the project directory (or, in a config at the workspace root, elsewhere
 * under that root: `//dist/libs/ui`), else `dist/**`. The list most projects share is the
 * gate's; a project with another list gets it in `packages.overrides`. A list naming a path at
 * the root belongs to one project and is never shared.
 */
function nxBuildOutputs(
  pkgs: readonly WorkspacePackage[],
  fromNx: ReadonlyMap<string, string[]>,
  root: { dirs: readonly string[] } | undefined,
): { outputs: string[] | null; overrides: Record<string, string[]>; comment: string[] } {
  const per = new Map<string, string[]>();
  const none: string[] = [];
  const outside: string[] = [];
  const atRoot: string[] = [];
  for (const p of pkgs) {
    const declared = fromNx.get(p.name);
    const rel = declared ? outputsUnder(p.dir, declared, root) : null;
    if (declared && !rel) outside.push(`${p.name} (${declared.join(', ')})`);
    else if (!declared) none.push(p.name);
    else if (rel!.some((o) => o.replace(/^!/, '').startsWith('//'))) atRoot.push(p.name);
    per.set(p.name, rel ?? ['dist/**']);
  }
  const rooted = (list: readonly string[]) =>
    list.some((o) => o.replace(/^!/, '').startsWith('//'));
  const count = new Map<string, number>();
  for (const list of per.values()) {
    if (rooted(list)) continue;
    const key = JSON.stringify(list);
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  // The most shared list; on a tie, the first project's (by name).
  let best: string | null = null;
  for (const [key, n] of count) if (best === null || n > count.get(best)!) best = key;
  const overrides: Record<string, string[]> = {};
  for (const [name, list] of per) if (JSON.stringify(list) !== best) overrides[name] = list;
  const comment: string[] = [];
  if (none.length + outside.length < pkgs.length)
    comment.push(
      "outputs: the build target's `outputs` in nx's graph, relative to each project directory.",
    );
  if (atRoot.length > 0)
    comment.push(
      `outputs: nx writes the build of ${some(atRoot)} outside the project directory, named from the workspace root (\`//\`) in packages.overrides.`,
    );
  if (none.length > 0)
    comment.push(`outputs: dist/** guessed for ${some(none)}: nx's graph gives no build outputs.`);
  if (outside.length > 0)
    comment.push(
      root
        ? `outputs: dist/** guessed for ${some(outside)}: nx writes into another project's directory or above the workspace root.`
        : `outputs: dist/** guessed for ${some(outside)}: nx writes outside the project directory, which a gate of packages names (\`//\`) only in a config at the workspace root.`,
    );
  return { outputs: best === null ? null : (JSON.parse(best) as string[]), overrides, comment };
}

/**
 * nx's `dependsOn` entries as `^x` / `x` (`needs`): the strings as written, and the objects
 * that name a target of the same project (`{ target }`, `projects: 'self'`) or of its
 * dependencies (`projects: 'dependencies'`, `dependencies: true`). Entries for other projects,
 * target patterns and `project:target` strings are not needs of a gate of `packages:`: they are
 * listed in `other`, as written.
 */
export function nxDependsOn(list: unknown[]): { needs: string[]; other: string[] } {
  const plain = (t: unknown): t is string => typeof t === 'string' && /^[A-Za-z0-9_.-]+$/.test(t);
  const needs: string[] = [];
  const other: string[] = [];
  for (const d of list) {
    if (typeof d === 'string') {
      if (plain(d.startsWith('^') ? d.slice(1) : d)) needs.push(d);
      else other.push(d);
    } else if (isPlainObject(d) && plain(d.target)) {
      if (d.projects === 'dependencies' || (d.projects === undefined && d.dependencies === true))
        needs.push(`^${d.target}`);
      else if (d.projects === undefined || d.projects === 'self') needs.push(d.target);
      else other.push(`${d.target} of ${[d.projects].flat().map(String).join(', ')}`);
    } else other.push(JSON.stringify(d));
  }
  return { needs, other };
}

/** The needs of one nx project's gate of a task, before they are shared in the gate or overridden. */
interface ProjectNeeds {
  needs: string[];
  /** Whether they come from the target's `dependsOn` in nx's graph (else init's default). */
  fromNx: boolean;
  /** Whether a need names a gate of this project (`web-typecheck`) rather than a task. */
  named: boolean;
}

/**
 * Each nx project's needs for each task, from its target's `dependsOn` in nx's graph, else
 * `defaults` (init's own); and the `dependsOn` entries no gate written here can follow.
 *
 * nx's `x` is the same project's `x` only, where a gate's `needs: [x]` is also the `x` of every
 * project it depends on. So `x` is written as `x` when that adds nothing to what runs first: the
 * list also has `^x`, the project's own `x` gate already needs `^x`, or no project it depends on
 * has an `x` gate; otherwise as the gate of the project's own `x` (`web-typecheck`).
 */
function nxNeeds(
  ws: WorkspaceFacts,
  selected: ReadonlyMap<string, WorkspacePackage[]>,
  defaults: ReadonlyMap<string, { same: Set<string>; up: Set<string> }>,
  slugs: ReadonlyMap<string, string>,
): { per: Map<string, Map<string, ProjectNeeds>>; notFollowed: Map<string, string[]> } {
  const gateTasks = new Set(selected.keys());
  const has = (task: string, name: string) =>
    (selected.get(task) ?? []).some((p) => p.name === name);
  const notFollowed = new Map<string, string[]>();
  const raw = new Map<string, { same: Set<string>; up: Set<string>; fromNx: boolean }>();
  for (const [task, pkgs] of selected)
    for (const p of pkgs) {
      const list = ws.targetDependsOn!.get(p.name)?.[task];
      if (!list) {
        const d = defaults.get(task)!;
        raw.set(`${task}\0${p.name}`, { same: d.same, up: d.up, fromNx: false });
        continue;
      }
      const parsed = nxDependsOn(list);
      const same = new Set<string>();
      const up = new Set<string>();
      const lost = [...parsed.other.map((o) => `${p.name} → ${o}`)];
      for (const d of parsed.needs) {
        const x = d.startsWith('^') ? d.slice(1) : d;
        if (!gateTasks.has(x)) lost.push(`${p.name} → ${d}`);
        else if (d.startsWith('^')) up.add(x);
        else if (x !== task) same.add(x);
      }
      if (lost.length > 0) notFollowed.set(task, [...(notFollowed.get(task) ?? []), ...lost]);
      raw.set(`${task}\0${p.name}`, { same, up, fromNx: true });
    }
  const per = new Map<string, Map<string, ProjectNeeds>>();
  for (const [task, pkgs] of selected) {
    const out = new Map<string, ProjectNeeds>();
    for (const p of pkgs) {
      const r = raw.get(`${task}\0${p.name}`)!;
      const deps = dependenciesOf(ws, p.name);
      const needs: string[] = [];
      let named = false;
      for (const x of r.up) if (!r.same.has(x)) needs.push(`^${x}`);
      for (const x of r.same) {
        // nx runs nothing for a target the project does not have.
        if (!has(x, p.name)) continue;
        if (r.up.has(x) || raw.get(`${x}\0${p.name}`)!.up.has(x) || !deps.some((d) => has(x, d)))
          needs.push(x);
        else {
          needs.push(`${slugs.get(p.name)!}-${x}`);
          named = true;
        }
      }
      out.set(p.name, { needs: needs.sort(), fromNx: r.fromNx, named });
    }
    per.set(task, out);
  }
  return { per, notFollowed };
}

/**
 * The needs most projects share (on a tie, the first project's), which the gate declares, and
 * the projects with other needs, which get theirs in `packages.overrides`. A list that names a
 * project's own gate is never shared.
 */
function sharedNeeds(
  pkgs: readonly WorkspacePackage[],
  per: ReadonlyMap<string, ProjectNeeds>,
): { needs: string[]; fromNx: boolean; overrides: Map<string, ProjectNeeds> } {
  const count = new Map<string, number>();
  for (const p of pkgs) {
    const n = per.get(p.name)!;
    if (n.named) continue;
    const key = JSON.stringify(n.needs);
    count.set(key, (count.get(key) ?? 0) + 1);
  }
  let best: string | null = null;
  for (const [key, c] of count) if (best === null || c > count.get(best)!) best = key;
  const needs = best === null ? [] : (JSON.parse(best) as string[]);
  const overrides = new Map<string, ProjectNeeds>();
  let fromNx = false;
  let first = true;
  for (const p of pkgs) {
    const n = per.get(p.name)!;
    if (JSON.stringify(n.needs) === JSON.stringify(needs) && !n.named) {
      if (first) fromNx = n.fromNx;
      first = false;
    } else overrides.set(p.name, n);
  }
  return { needs, fromNx, overrides };
}

/**
 * What init says about the needs of an nx task's gate beyond its shared `needs`: the projects
 * whose needs are overridden and why, the gates named for a project's own target, and the
 * `dependsOn` entries no gate follows. The first line is left empty for the caller.
 */
function nxNeedsComment(
  task: string,
  shared: { overrides: ReadonlyMap<string, ProjectNeeds> },
  notFollowed: readonly string[],
): string[] {
  const lines = [''];
  const own = [...shared.overrides].filter(([, n]) => n.fromNx);
  const dflt = [...shared.overrides].filter(([, n]) => !n.fromNx);
  const list = (group: typeof own) =>
    some(group.map(([name, n]) => `${name} [${n.needs.join(', ')}]`));
  const their = (group: typeof own) => (group.length === 1 ? 'its' : 'their');
  if (own.length > 0)
    lines.push(
      `needs in packages.overrides for ${list(own)}: the \`dependsOn\` of ${their(own)} \`${task}\` target in nx's graph.`,
    );
  if (dflt.length > 0)
    lines.push(
      `needs in packages.overrides for ${list(dflt)}: nx's graph gives ${their(dflt)} \`${task}\` target no dependsOn, so init's default.`,
    );
  if ([...shared.overrides.values()].some((n) => n.named))
    lines.push(
      "`<project>-x` is that project's own `x` gate, as `x` in nx's dependsOn (`needs: [x]` would also be the `x` of the projects it depends on).",
    );
  if (notFollowed.length > 0)
    lines.push(
      `not followed: ${some(notFollowed)} in dependsOn: init writes no gate for these, so nx would run them before \`${task}\` and the gates do not.`,
    );
  return lines;
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
  // Without a task graph or a config's dependsOn: a package's tests may read its own build
  // (`../dist`), and the project runs every build before any test (`npm run build
  // --workspaces && npm test …`); with only `^build` the test would race its own build, or
  // read the dist of an earlier one. Other tasks need the build of the workspace dependencies.
  const defaults = new Map<string, { same: Set<string>; up: Set<string> }>();
  for (const task of gateTasks)
    defaults.set(
      task,
      task === 'test' && hasBuild
        ? { same: new Set(['build']), up: new Set() }
        : hasBuild && ws.packages.some((p) => p.deps.length > 0)
          ? { same: new Set(), up: new Set(['build']) }
          : { same: new Set(), up: new Set() },
    );
  const graph = nx && ws.targetDependsOn ? nxNeeds(ws, selected, defaults, slugs) : null;
  const fromGraph = new Set<string>();
  for (const [task, kind] of TASKS) {
    const pkgs = selected.get(task);
    if (!pkgs) continue;
    // Needs: turbo's edges folded per task (same package → `x`, another package → `^x`).
    const same = new Set<string>();
    const up = new Set<string>();
    const fromConfig = !ws.turbo && !graph && ws.dependsOn?.has(task);
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
      // No task graph to ask (turbo not installed yet, or package-based nx): the config's own
      // `dependsOn`.
      for (const d of ws.dependsOn!.get(task)!)
        if (d.startsWith('^')) up.add(d.slice(1));
        else same.add(d);
    } else if (!graph) {
      for (const x of defaults.get(task)!.same) same.add(x);
      for (const x of defaults.get(task)!.up) up.add(x);
    }
    let needs = [
      ...[...same].filter((x) => gateTasks.has(x) && x !== task),
      ...[...up].filter((x) => gateTasks.has(x) && !same.has(x)).map((x) => `^${x}`),
    ].sort();
    const overrides: Record<string, Omit<UserGate, 'packages'>> = {};
    let needsComment: string[] = [];
    let sharedFromNx = false;
    if (graph) {
      const shared = sharedNeeds(pkgs, graph.per.get(task)!);
      needs = shared.needs;
      sharedFromNx = shared.fromNx;
      for (const [name, n] of shared.overrides) overrides[name] = { needs: n.needs };
      if ([...graph.per.get(task)!.values()].some((n) => n.fromNx)) fromGraph.add(task);
      needsComment = nxNeedsComment(task, shared, graph.notFollowed.get(task) ?? []);
    }
    const gate: UserGate = { kind, packages: { script: task } };
    if (needs.length > 0) gate.needs = needs;
    let outputsComment: string[] = [];
    if (task === 'build' && nx && ws.buildOutputs) {
      const o = nxBuildOutputs(
        pkgs,
        ws.buildOutputs,
        ws.configAtRoot ? { dirs: ws.packages.map((p) => p.dir) } : undefined,
      );
      if (o.outputs) gate.outputs = o.outputs;
      for (const [name, outputs] of Object.entries(o.overrides))
        overrides[name] = { ...overrides[name], outputs };
      outputsComment = o.comment;
    } else if (task === 'build')
      gate.outputs = buildOutputs.length > 0 ? [...buildOutputs] : ['dist/**'];
    const overridden = pkgs.map((p) => p.name).filter((n) => overrides[n]);
    if (overridden.length > 0)
      gate.packages = {
        script: task,
        overrides: Object.fromEntries(overridden.map((n) => [n, overrides[n]!])),
      };
    gates[task] = gate;
    const names = pkgs.map((p) => slugs.get(p.name)!);
    const what = nx ? 'nx project' : 'package';
    const count = `${pkgs.length} ${what}${pkgs.length === 1 ? '' : 's'}`;
    const caret = needs.some((n) => n.startsWith('^'))
      ? ` (\`^x\` = the \`x\` of the ${nx ? "project's dependencies in nx's graph" : 'workspace dependencies'})`
      : '';
    const needsWhy = ws.turbo
      ? "from turbo's task graph"
      : sharedFromNx
        ? `the \`dependsOn\` of the \`${task}\` target in nx's graph (nx.json's targetDefaults, or the project's own)`
        : fromConfig
          ? `from ${ws.dependsOnFrom}`
          : needs.includes('build')
            ? `the ${what}'s own build and its ${nx ? 'dependencies' : 'workspace dependencies'}' first (its tests may read what they build)`
            : `the build of the ${nx ? "project's dependencies" : 'workspace dependencies'} first`;
    comments[task] = [
      nx
        ? `${task} — each nx project's own \`${task}\` target, run by \`nx run <project>:${task}\` from the root: ${count} (${some(names)}), gates \`<project>-${task}\`.`
        : `${task} — each package's own \`${task}\` script, run in its directory: ${count} (${some(names)}), gates \`<package>-${task}\`.`,
      ...(needs.length > 0
        ? [`needs ${needs.join(', ')}: ${needsWhy}${caret}.`]
        : fromConfig
          ? [
              `needs nothing: ${ws.dependsOnFrom} gives \`${task}\` no dependsOn on a task written here.`,
            ]
          : sharedFromNx
            ? [`needs nothing: nx's graph gives \`${task}\` no dependsOn on a task written here.`]
            : []),
      ...needsComment.slice(1),
      ...outputsComment,
    ];
    detected.push(`${task}: ${count} with a \`${task}\` ${nx ? 'target' : 'script'}`);
    for (const line of needsComment.slice(1)) detected.push(`${task}: ${line}`);
    for (const line of outputsComment) detected.push(`build: ${line}`);
  }
  if (Object.keys(gates).length === 0) return null;
  const configTasks = graph
    ? [...fromGraph]
    : [...gateTasks].filter((t) => !ws.turbo && ws.dependsOn?.has(t));
  const fromConfig =
    configTasks.length > 0
      ? `${graph ? "the targets' dependsOn in nx's graph" : ws.dependsOnFrom} for ${configTasks.join(', ')}`
      : '';
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
