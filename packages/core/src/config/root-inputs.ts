/**
 * Inputs rooted at the workspace root (`//tsconfig.base.json`): a config below that root (a
 * package's own `gatehouse.yml`) names the shared files its gates read. Outputs may be rooted
 * there only in a config at that root, where a gate of `packages:` names what a package's build
 * writes outside the package (`//dist/libs/ui`). Checked before gates of `packages:` expand
 * (where the config wrote them), rewritten after (see
 * docs/decisions/0016-workspace-root-inputs.md).
 */
import { realpathSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { formatPath } from '../diagnostics.js';
import { ROOT_GLOB_PREFIX, splitInputGlob } from '../glob.js';
import { isPlainObject } from '../object.js';
import { findWorkspaceRoot, type WorkspaceRoot } from '../workspace.js';
import type { Collector, PathSeg } from './collector.js';

/** Every `inputs` (or `outputs`) list of a parsed config, with its config path. */
function inputLists(
  value: Record<string, unknown>,
  key: 'inputs' | 'outputs' = 'inputs',
): Array<[PathSeg[], unknown[]]> {
  const out: Array<[PathSeg[], unknown[]]> = [];
  const add = (path: PathSeg[], v: unknown) => {
    if (Array.isArray(v)) out.push([path, v]);
  };
  if (isPlainObject(value.setup) && key === 'inputs') add(['setup', 'inputs'], value.setup.inputs);
  const gates = isPlainObject(value.gates) ? value.gates : {};
  for (const [id, g] of Object.entries(gates)) {
    if (!isPlainObject(g)) continue;
    add(['gates', id, key], g[key]);
    const overrides = isPlainObject(g.packages) ? g.packages.overrides : undefined;
    if (isPlainObject(overrides))
      for (const [name, o] of Object.entries(overrides))
        if (isPlainObject(o)) add(['gates', id, 'packages', 'overrides', name, key], o[key]);
  }
  return out;
}

const rooted = (x: unknown): x is string => typeof x === 'string' && splitInputGlob(x).rooted;

/**
 * The workspace root of a config whose `inputs` name it, or null when none does. A config
 * outside every workspace and git work tree gets `GH_NO_WORKSPACE_ROOT` at each such input.
 */
export function checkRootInputs(
  value: Record<string, unknown>,
  configDir: string,
  c: Collector,
): WorkspaceRoot | null {
  const uses: PathSeg[][] = [];
  for (const [path, list] of inputLists(value))
    list.forEach((x, i) => {
      if (rooted(x)) uses.push([...path, i]);
    });
  const writes: PathSeg[][] = [];
  for (const [path, list] of inputLists(value, 'outputs'))
    list.forEach((x, i) => {
      if (rooted(x)) writes.push([...path, i]);
    });
  if (uses.length === 0 && writes.length === 0) return null;
  const root = findWorkspaceRoot(configDir);
  // A gate writes inside the config directory: `//` outputs only where it is the root.
  if (!root || root.dir !== real(configDir))
    for (const p of writes) {
      const r = c.ranges.get(formatPath(p));
      c.report(
        'GH_PATH_ESCAPES_ROOT',
        p,
        r ? (r.value ?? r.key) : null,
        `\`${String(list(value, p))}\` names the workspace root, above the directory of this config: a gate writes its outputs inside that directory`,
        {
          hint: '`//` in `outputs` is for a config at the workspace root (where a gate of `packages` names what it writes outside the package); write the path relative to this directory',
        },
      );
    }
  if (root) return root;
  for (const p of uses) {
    const r = c.ranges.get(formatPath(p));
    c.report(
      'GH_NO_WORKSPACE_ROOT',
      p,
      r ? (r.value ?? r.key) : null,
      `\`${String(list(value, p))}\` names the workspace root, but ${configDir} is in no workspace and no git work tree`,
      {
        hint: 'a workspace root holds pnpm-workspace.yaml or a package.json with `workspaces`, else it is the top of the git work tree; without one, write the path relative to this directory',
      },
    );
  }
  return null;
}

function list(value: Record<string, unknown>, path: PathSeg[]): unknown {
  let v: unknown = value;
  for (const seg of path)
    v = Array.isArray(v) ? v[seg as number] : isPlainObject(v) ? v[seg] : undefined;
  return v;
}

function real(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/**
 * `inputs` and `outputs` of a checked (and expanded) config with each `//` glob written canonically: relative
 * to the config directory when that is the workspace root (`//x` is then `x`), else as
 * `//<normalised path>`. `workspaceRoot` is set when a `//` glob remains.
 */
export function resolveRootInputs(
  value: Record<string, unknown>,
  configDir: string,
  root: WorkspaceRoot,
): { value: Record<string, unknown>; workspaceRoot?: string } {
  const atConfig = root.dir === real(configDir);
  let kept = false;
  const map = (xs: unknown): unknown =>
    Array.isArray(xs)
      ? xs.map((x) => {
          if (!rooted(x)) return x;
          const { negate, body } = splitInputGlob(x);
          const norm = posix.normalize(body.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
          if (!atConfig) kept = true;
          return `${negate ? '!' : ''}${atConfig ? '' : ROOT_GLOB_PREFIX}${norm}`;
        })
      : xs;
  const out: Record<string, unknown> = { ...value };
  if (isPlainObject(value.setup) && value.setup.inputs !== undefined)
    out.setup = { ...value.setup, inputs: map(value.setup.inputs) };
  if (isPlainObject(value.gates))
    out.gates = Object.fromEntries(
      Object.entries(value.gates).map(([id, g]) => [
        id,
        isPlainObject(g)
          ? {
              ...g,
              ...(g.inputs !== undefined ? { inputs: map(g.inputs) } : {}),
              // Only a config at the root keeps `//` outputs: there they are the config's own.
              ...(g.outputs !== undefined ? { outputs: map(g.outputs) } : {}),
            }
          : g,
      ]),
    );
  return { value: out, ...(kept ? { workspaceRoot: root.dir } : {}) };
}
