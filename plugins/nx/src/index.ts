/**
 * @gatehouse-ci/nx — Gatehouse inside nx, through nx's own APIs:
 * - `createNodesV2`: an nx plugin (list `@gatehouse-ci/nx` under `plugins` in nx.json) that adds,
 *   to each project with gates of `packages:`, a `gatehouse` target running all of them and a
 *   `gatehouse-<gate>` target per gate, so `nx run web:gatehouse` and
 *   `nx affected -t gatehouse` run the gates through Gatehouse (one report, its own cache);
 * - `readNxWorkspace`: nx's project graph (`createProjectGraphAsync`, inferred projects
 *   included) as a Gatehouse `Workspace`; `readNxProjectGraph` also gives the targets'
 *   outputs and `dependsOn`, which `gatehouse init` writes as the outputs and needs of gates.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  discoverWorkspace,
  validateConfig,
  type ResolvedGate,
  type ResolvedPipeline,
  type Workspace,
} from '@gatehouse-ci/core';

/** Options of the plugin, as written in nx.json: `{ plugin: '@gatehouse-ci/nx', options: {…} }`. */
export interface GatehouseNxOptions {
  /** The Gatehouse config, relative to the nx workspace root. @default 'gatehouse.yml' */
  config?: string;
  /** How a target calls the CLI. @default 'npx --no-install gatehouse' */
  cli?: string;
  /** Name of the target that runs every gate of a project. @default 'gatehouse' */
  targetName?: string;
}

/** An nx target as `createNodesV2` returns it (the subset written here). */
export interface NxTarget {
  executor: 'nx:run-commands';
  options: { command: string; cwd: string };
  cache: boolean;
  outputs?: string[];
  metadata?: { description: string; technologies?: string[] };
}

/** What `createNodesV2` returns for one `package.json`. */
export type NxNodes = { projects?: Record<string, { targets: Record<string, NxTarget> }> };

/** The subset of nx's `CreateNodesContextV2` used here. */
export interface NxContext {
  readonly workspaceRoot: string;
}

// nx runs the targets of several projects at once: each run waits for the others (see Lock in docs/running.md).
const SAFE = /^[A-Za-z0-9._/@=:+-]+$/;
const word = (s: string): string => (SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The targets of each project directory (POSIX, relative to the workspace root): `gatehouse`
 * (every gate of the package, with what they need) and `gatehouse-<gate>` per gate.
 */
export function gatehouseTargets(
  pipeline: ResolvedPipeline,
  options: GatehouseNxOptions = {},
): Map<string, Record<string, NxTarget>> {
  const cli = options.cli ?? 'npx --no-install gatehouse';
  const config = options.config ?? 'gatehouse.yml';
  const all = options.targetName ?? 'gatehouse';
  const byDir = new Map<string, ResolvedGate[]>();
  for (const g of pipeline.gates) {
    if (!g.package) continue;
    byDir.set(g.package.dir, [...(byDir.get(g.package.dir) ?? []), g]);
  }
  const run = (ids: string[]) =>
    `${cli} run --config ${word(config)} --wait 3600 ${ids.map((id) => `--gate ${id}`).join(' ')}`;
  const out = new Map<string, Record<string, NxTarget>>();
  for (const [dir, gates] of byDir) {
    const pkg = gates[0]!.package!.name;
    // Gatehouse caches and reports each gate itself: nx replaying a terminal would skip the report.
    const targets: Record<string, NxTarget> = {
      [all]: {
        executor: 'nx:run-commands',
        options: { command: run(gates.map((g) => g.id)), cwd: '{workspaceRoot}' },
        cache: false,
        metadata: {
          description: `Gatehouse gates of ${pkg}: ${gates.map((g) => g.id).join(', ')}`,
          technologies: ['gatehouse'],
        },
      },
    };
    for (const g of gates) {
      targets[`${all}-${g.package!.gate}`] = {
        executor: 'nx:run-commands',
        options: { command: run([g.id]), cwd: '{workspaceRoot}' },
        cache: false,
        ...(g.outputs.length > 0
          ? {
              outputs: g.outputs
                .filter((o) => !o.startsWith('!'))
                .map((o) => `{workspaceRoot}/${o}`),
            }
          : {}),
        metadata: {
          description: `Gatehouse gate ${g.id} (${g.kind})`,
          technologies: ['gatehouse'],
        },
      };
    }
    out.set(dir, targets);
  }
  return out;
}

async function pipelineOf(
  root: string,
  options: GatehouseNxOptions,
): Promise<ResolvedPipeline | null> {
  const v = await validateConfig(join(root, options.config ?? 'gatehouse.yml')).catch(() => null);
  return v?.pipeline ?? null;
}

/** The plugin's name, as nx shows it. */
export const name = '@gatehouse-ci/nx';

/** The nx plugin: `createNodesV2` over every `package.json`. */
export const createNodesV2 = [
  '**/package.json',
  async (
    files: readonly string[],
    options: GatehouseNxOptions | undefined,
    context: NxContext,
  ): Promise<Array<readonly [string, NxNodes]>> => {
    const pipeline = await pipelineOf(context.workspaceRoot, options ?? {});
    if (!pipeline) return [];
    const targets = gatehouseTargets(pipeline, options);
    const out: Array<readonly [string, NxNodes]> = [];
    for (const f of files) {
      const dir = dirname(f);
      const t = targets.get(dir);
      if (t) out.push([f, { projects: { [dir]: { targets: t } } }] as const);
    }
    return out;
  },
] as const;

const run = promisify(execFile);

/** The nx project graph, as nx computes it in `root` (plugins and inferred projects included). */
export interface NxProjectGraphSummary {
  projects: Array<{
    name: string;
    root: string;
    targets: string[];
    deps: string[];
    /**
     * Per target whose configuration declares `outputs` (its own, a target default's or an
     * inferring plugin's): those outputs with their tokens (`{projectRoot}`, `{workspaceRoot}`,
     * `{options.outputPath}`) resolved by nx's `getOutputsForTargetAndConfiguration`, as nx
     * caches them: relative to the workspace root. Targets without `outputs` are absent.
     */
    outputs: Record<string, string[]>;
    /**
     * Per target whose configuration has a `dependsOn` list: that list as nx merged it (the
     * project's own, else a target default's or an inferring plugin's), entries as written
     * (`^build`, `{ target, projects }`). Targets without one are absent: nx runs nothing
     * before them.
     */
    dependsOn: Record<string, unknown[]>;
  }>;
}

/**
 * Read nx's project graph of `root` with nx's own `createProjectGraphAsync`, in a child
 * process (nx fixes its workspace root from the working directory when it loads).
 */
export async function readNxProjectGraph(root: string): Promise<NxProjectGraphSummary> {
  const devkit = createRequire(import.meta.url).resolve('nx/src/devkit-exports.js');
  const script = `
    const { createProjectGraphAsync, getOutputsForTargetAndConfiguration } = require(${JSON.stringify(devkit)});
    const outputsOf = (n) => {
      const out = {};
      for (const [t, c] of Object.entries(n.data.targets ?? {})) {
        if (!c || !Array.isArray(c.outputs)) continue;
        try {
          out[t] = getOutputsForTargetAndConfiguration({ project: n.name, target: t }, {}, n);
        } catch {
          // outputs nx itself refuses (a misplaced {workspaceRoot}): left out, as unknown
        }
      }
      return out;
    };
    const dependsOnOf = (n) => {
      const out = {};
      for (const [t, c] of Object.entries(n.data.targets ?? {}))
        if (c && Array.isArray(c.dependsOn)) out[t] = c.dependsOn;
      return out;
    };
    createProjectGraphAsync({ exitOnError: false }).then((g) => {
      const projects = Object.values(g.nodes).map((n) => ({
        name: n.name,
        root: n.data.root,
        targets: Object.keys(n.data.targets ?? {}).sort(),
        deps: (g.dependencies[n.name] ?? []).map((d) => d.target).filter((t) => t in g.nodes).sort(),
        outputs: outputsOf(n),
        dependsOn: dependsOnOf(n),
      }));
      process.stdout.write(JSON.stringify({ projects }));
    }, (e) => { console.error(e && e.message ? e.message : String(e)); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ['-e', script], {
    cwd: root,
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const g = JSON.parse(stdout) as NxProjectGraphSummary;
  g.projects.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return g;
}

/**
 * A project graph read by {@link readNxProjectGraph} as a Gatehouse {@link Workspace}: each
 * project with its root, its dependencies (declared and inferred, e.g. from imports) and its
 * targets. A project at the root is left out, and so are the dependencies on it.
 */
export function nxWorkspaceOf(root: string, g: NxProjectGraphSummary): Workspace {
  const inside = g.projects.filter((p) => p.root !== '.' && p.root !== '');
  const names = new Set(inside.map((p) => p.name));
  const packages = inside.map((p) => ({
    name: p.name,
    dir: p.root,
    scripts: {},
    deps: p.deps.filter((d) => names.has(d)),
    targets: p.targets,
  }));
  const { packageManager, yarnPnp } = discoverWorkspace(root);
  return {
    root,
    source: 'nx',
    patterns: [],
    packages,
    packageManager,
    ...(yarnPnp === undefined ? {} : { yarnPnp }),
  };
}

/** nx's project graph of `root` as a Gatehouse {@link Workspace} (see {@link nxWorkspaceOf}). */
export async function readNxWorkspace(root: string): Promise<Workspace> {
  return nxWorkspaceOf(root, await readNxProjectGraph(root));
}
