/**
 * The workspace that gates of `packages:` expand over, when it is not the package manager's:
 * an nx workspace whose projects are `project.json` files (`usesNxProjects`) is read from
 * nx's project graph, through nx's own API, by the optional package `@gatehouse-ci/nx`.
 */
import { GatehouseError, usesNxProjects, type Workspace } from '@gatehouse-ci/core';
import { isMissing, optionalPackage } from './plugins.js';
import type { NxProjectGraphSummary } from '@gatehouse-ci/nx';

/** The first lines of what a failed nx process said. */
function reason(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  const text = (e.stderr?.trim() || e.message || String(err)).trim();
  return text.split('\n').slice(0, 5).join('\n');
}

/** `@gatehouse-ci/nx`, or `GH_PLUGIN_NOT_FOUND` with the command that installs it. */
function nxPackage(): Promise<typeof import('@gatehouse-ci/nx')> {
  return optionalPackage(
    '@gatehouse-ci/nx',
    "reading nx's project graph (gates of `packages:` over nx projects)",
    import('@gatehouse-ci/nx'),
  );
}

/** What reading nx's project graph of `root` failed with, as the error the CLI reports. */
function nxGraphError(root: string, err: unknown): GatehouseError {
  if (isMissing(err, 'nx/src/devkit-exports.js'))
    return new GatehouseError(
      'GH_PLUGIN_NOT_FOUND',
      "reading nx's project graph needs nx, which is not installed next to @gatehouse-ci/nx",
      { hint: 'install nx in the workspace (npm install --save-dev nx)', cause: err },
    );
  return new GatehouseError(
    'GH_NX_GRAPH',
    `nx cannot compute the project graph of ${root}: ${reason(err)}`,
    {
      hint: 'run `npx nx show projects` in the workspace to see the problem',
      cause: err,
    },
  );
}

/**
 * nx's project graph of `root` as a workspace when `root` is an nx workspace with projects
 * outside its package-manager workspace; null otherwise (validation then reads
 * `pnpm-workspace.yaml` / `package.json#workspaces`). Throws `GH_PLUGIN_NOT_FOUND` when
 * `@gatehouse-ci/nx` or nx is not installed, `GH_NX_GRAPH` when nx fails.
 */
export async function readProjectWorkspace(root: string): Promise<Workspace | null> {
  if (!usesNxProjects(root)) return null;
  const nx = await nxPackage();
  try {
    return await nx.readNxWorkspace(root);
  } catch (err) {
    throw nxGraphError(root, err);
  }
}

/**
 * nx's project graph of `root` and the workspace validation makes of it (the one
 * {@link readProjectWorkspace} returns), read once, for `init`, which also wants the targets'
 * outputs. Throws as {@link readProjectWorkspace} does.
 */
export async function readNxProjects(
  root: string,
): Promise<{ workspace: Workspace; graph: NxProjectGraphSummary }> {
  const nx = await nxPackage();
  try {
    const graph = await nx.readNxProjectGraph(root);
    return { workspace: nx.nxWorkspaceOf(root, graph), graph };
  } catch (err) {
    throw nxGraphError(root, err);
  }
}
