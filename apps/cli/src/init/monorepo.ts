/**
 * The gates `init` proposes for a workspace: one gate of `packages:` per task the packages have
 * (build, lint, typecheck, test), each running the package's own script, with the dependencies
 * turbo's task graph gives (else `^build`, turbo's usual `dependsOn`, and `build` for tests). Kept out of `plan.ts`,
 * which handles single-package projects.
 */
import { packageSlugs, type UserGate, type WorkspacePackage } from '@gatehouse-ci/core';
import type { TurboTask } from './turbo.js';

/** What the workspace looks like, for the proposer. */
export interface WorkspaceFacts {
  packages: WorkspacePackage[];
  /** turbo's task graph when the repository uses turbo and it could be read. */
  turbo: TurboTask[] | null;
  /** Where the dependencies come from, or why turbo's graph could not be read. */
  turboWhy: string | null;
  /** turbo.json's `dependsOn` per task, used when turbo's graph could not be read. */
  turboDependsOn?: Map<string, string[]>;
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

/** Gates of `packages:` for the workspace, or null when it has no package with such a script. */
export function proposeWorkspaceGates(
  ws: WorkspaceFacts,
  buildOutputs: readonly string[],
): WorkspaceProposal | null {
  const gates: Record<string, UserGate> = {};
  const comments: Record<string, string[]> = {};
  const detected: string[] = [];
  const slugs = packageSlugs(ws);
  const has = (p: WorkspacePackage, t: string) =>
    typeof p.scripts[t] === 'string' &&
    !(t === 'test' && NPM_PLACEHOLDER_TEST.test(p.scripts[t].trim()));
  const byPkg = new Map(ws.packages.map((p) => [p.name, p]));
  const hasBuild = ws.packages.some((p) => has(p, 'build'));
  for (const [task, kind] of TASKS) {
    const pkgs = ws.turbo
      ? [...new Set(ws.turbo.filter((t) => t.task === task).map((t) => t.package))]
          .map((n) => byPkg.get(n))
          .filter((p): p is WorkspacePackage => p !== undefined && has(p, task))
      : ws.packages.filter((p) => has(p, task));
    if (pkgs.length === 0) continue;
    // Needs: turbo's edges folded per task (same package → `x`, another package → `^x`).
    const same = new Set<string>();
    const up = new Set<string>();
    if (ws.turbo) {
      for (const t of ws.turbo) {
        if (t.task !== task) continue;
        for (const d of t.dependencies) {
          const [pkg, dep] = [d.slice(0, d.lastIndexOf('#')), d.slice(d.lastIndexOf('#') + 1)];
          if (pkg === '//') continue;
          (pkg === t.package ? same : up).add(dep);
        }
      }
    } else if (ws.turboDependsOn?.has(task)) {
      // turbo is not installed yet: turbo.json's own `dependsOn` says the same edges.
      for (const d of ws.turboDependsOn.get(task)!)
        if (d.startsWith('^')) up.add(d.slice(1));
        else same.add(d);
    } else if (task === 'test' && hasBuild) {
      // No task graph to ask: a package's tests may read its own build (`../dist`), and the
      // project runs every build before any test (`npm run build --workspaces && npm test …`).
      // With only `^build` the test would race its own build, or read the dist of an earlier one.
      same.add('build');
    } else if (hasBuild && ws.packages.some((p) => p.deps.length > 0)) up.add('build');
    const gateTasks = new Set(TASKS.map(([t]) => t));
    const needs = [
      ...[...same].filter((x) => gateTasks.has(x) && x !== task),
      ...[...up].filter((x) => gateTasks.has(x) && !same.has(x)).map((x) => `^${x}`),
    ].sort();
    const gate: UserGate = { kind, packages: { script: task } };
    if (needs.length > 0) gate.needs = needs;
    if (task === 'build') gate.outputs = buildOutputs.length > 0 ? [...buildOutputs] : ['dist/**'];
    gates[task] = gate;
    const names = pkgs.map((p) => slugs.get(p.name)!);
    comments[task] = [
      `${task} — each package's own \`${task}\` script, run in its directory: ${pkgs.length} package${pkgs.length === 1 ? '' : 's'} (${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}), gates \`<package>-${task}\`.`,
      ...(needs.length > 0
        ? [
            `needs ${needs.join(', ')}: ${ws.turbo ? "from turbo's task graph" : ws.turboDependsOn?.has(task) ? "from turbo.json's dependsOn" : same.has('build') ? "the package's own build and its workspace dependencies' first (its tests may read what they build)" : 'the build of the workspace dependencies first'}${needs.some((n) => n.startsWith('^')) ? ' (`^x` = the `x` of the workspace dependencies)' : ''}.`,
          ]
        : []),
    ];
    detected.push(
      `${task}: ${pkgs.length} package${pkgs.length === 1 ? '' : 's'} with a \`${task}\` script`,
    );
  }
  if (Object.keys(gates).length === 0) return null;
  detected.unshift(
    `workspace: ${ws.packages.length} packages${ws.turbo ? `; dependencies from ${ws.turboWhy}` : ws.turboWhy ? ` (${ws.turboWhy}; dependencies: ${ws.turboDependsOn ? "turbo.json's dependsOn" : '^build'})` : ''}`,
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
