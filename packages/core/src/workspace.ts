/**
 * Workspace packages: discovered from `pnpm-workspace.yaml` or `package.json#workspaces`
 * (npm, yarn, bun), with the graph of their workspace dependencies. Synchronous, because
 * config validation is; it reads only `package.json` files and the workspace file. An nx
 * workspace whose projects these files do not list ({@link usesNxProjects}) is read from nx's
 * project graph instead, by `@gatehouse-ci/nx`, and handed to validation as a `Workspace`.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { CI_REPORT_DIR, CI_RESULTS_DIR } from './ci.js';
import { yaml } from './config/collector.js';
import { globToRegExp } from './glob.js';
import { isPlainObject } from './object.js';
import { STATE_DIR_NAME } from './run-state.js';

/** One package of the workspace. */
export interface WorkspacePackage {
  /** `name` of its package.json (its directory when it has none). */
  name: string;
  /** Its directory, POSIX, relative to the workspace root (never `.`). */
  dir: string;
  /** Its `scripts`. */
  scripts: Record<string, string>;
  /** Names of the workspace packages it depends on (any dependency field), sorted. */
  deps: string[];
  /**
   * Its nx targets, sorted, when the workspace is nx's project graph: `packages: { script }`
   * then selects the projects with that target, and runs it with `nx run`.
   */
  targets?: string[];
}

/** The packages of a workspace, by name, and where their list came from. */
export interface Workspace {
  /** Absolute root directory. */
  root: string;
  /** `pnpm-workspace.yaml`, `package.json#workspaces`, nx's project graph, or `none`. */
  source: 'pnpm-workspace.yaml' | 'package.json#workspaces' | 'nx' | 'none';
  /** The workspace globs as written (`!` excludes). */
  patterns: string[];
  /** Sorted by name. */
  packages: WorkspacePackage[];
  /** The package manager that runs scripts: from `packageManager`, else the lockfile. */
  packageManager: 'pnpm' | 'npm' | 'yarn' | 'bun';
  /**
   * In a yarn workspace, whether its installs are Plug'n'Play (no `node_modules`): yarn 2+
   * without `nodeLinker` in `.yarnrc.yml` (its default), `nodeLinker: pnp`, or a `.pnp.cjs`.
   */
  yarnPnp?: boolean;
}

const DEP_FIELDS = [
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'optionalDependencies',
] as const;
// Directories never searched for packages.
const SKIP_DIRS = new Set(['node_modules', '.git', '.gatehouse', '.turbo', '.nx', 'dist']);
const MAX_DEPTH = 8;

function readJson(path: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return isPlainObject(v) ? v : null;
  } catch {
    return null;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A plain scalar of a block sequence item that YAML reads as the same string. */
const PLAIN_ITEM = /^[A-Za-z0-9_.][A-Za-z0-9_./*@-]*$/;

/**
 * The `packages` list of a `pnpm-workspace.yaml` in its usual form, without loading the YAML
 * parser (a tenth of the start-up of `gatehouse affected`): a top-level `packages:` followed
 * by `- glob` items (plain, `'single'` or `"double"` quoted without escapes), with blank and
 * comment lines. Null for anything else, which the YAML parser then reads.
 */
export function simplePackageList(text: string): string[] | null {
  const items: string[] = [];
  let seen = false;
  let indent: string | null = null;
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.replace(/ +#.*$|^#.*$/, '');
    if (/^ *$/.test(line)) continue;
    if (/^packages: *$/.test(line)) {
      if (seen) return null;
      seen = true;
      continue;
    }
    // Every item at the same indentation: a deeper `- x` would continue the item above it.
    const item = seen ? /^( +)- (.*?) *$/.exec(line) : null;
    if (!item || (indent ??= item[1]!) !== item[1]) return null;
    const v = item[2]!;
    const quoted = /^'([^']*)'$/.exec(v) ?? /^"([^"\\]*)"$/.exec(v);
    if (quoted) items.push(quoted[1]!);
    else if (PLAIN_ITEM.test(v)) items.push(v);
    else return null;
  }
  return seen ? items : null;
}

/** The workspace globs of `root`, and which file lists them. */
function workspacePatterns(root: string): Pick<Workspace, 'source' | 'patterns'> {
  try {
    const text = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
    const simple = simplePackageList(text);
    const v: unknown = simple === null ? yaml().parse(text) : { packages: simple };
    const list = isPlainObject(v) && Array.isArray(v.packages) ? v.packages : [];
    return {
      source: 'pnpm-workspace.yaml',
      patterns: list.filter((x): x is string => typeof x === 'string'),
    };
  } catch {
    // no pnpm workspace: try package.json
  }
  const pkg = readJson(join(root, 'package.json'));
  const ws = pkg?.workspaces;
  const list = Array.isArray(ws)
    ? ws
    : isPlainObject(ws) && Array.isArray(ws.packages)
      ? ws.packages
      : null;
  if (list)
    return {
      source: 'package.json#workspaces',
      patterns: list.filter((x): x is string => typeof x === 'string'),
    };
  return { source: 'none', patterns: [] };
}

function packageManagerOf(root: string): Workspace['packageManager'] {
  const pm = readJson(join(root, 'package.json'))?.packageManager;
  if (typeof pm === 'string') {
    const name = pm.split('@')[0];
    if (name === 'pnpm' || name === 'npm' || name === 'yarn' || name === 'bun') return name;
  }
  if (exists(join(root, 'pnpm-lock.yaml')) || exists(join(root, 'pnpm-workspace.yaml')))
    return 'pnpm';
  if (exists(join(root, 'yarn.lock'))) return 'yarn';
  if (exists(join(root, 'bun.lockb')) || exists(join(root, 'bun.lock'))) return 'bun';
  return 'npm';
}

/**
 * Whether yarn installs the workspace at `root` with Plug'n'Play. Yarn 2+ (`packageManager`
 * `yarn@2` or later, else a `.yarnrc.yml`, which yarn classic does not read) does unless
 * `.yarnrc.yml` sets another `nodeLinker`; yarn classic never does.
 */
function yarnPnpOf(root: string): boolean {
  if (exists(join(root, '.pnp.cjs')) || exists(join(root, '.pnp.js'))) return true;
  const pm = readJson(join(root, 'package.json'))?.packageManager;
  const major = typeof pm === 'string' ? /^yarn@(\d+)/.exec(pm)?.[1] : undefined;
  let rc: unknown = null;
  try {
    const text = readFileSync(join(root, '.yarnrc.yml'), 'utf8');
    rc = yaml().parse(text);
  } catch {
    // no .yarnrc.yml, or not YAML: yarn's defaults
  }
  const berry = major !== undefined ? Number(major) >= 2 : rc !== null;
  if (!berry) return false;
  const linker = isPlainObject(rc) ? rc.nodeLinker : undefined;
  return linker === undefined || linker === 'pnp';
}

const clean = (p: string): string => p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

/** Whether a workspace glob list selects `dir` (the last matching pattern wins, like pnpm). */
export function workspaceGlobsMatch(patterns: readonly string[], dir: string): boolean {
  let hit = false;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    const re = globToRegExp(clean(neg ? p.slice(1) : p));
    if (re.test(dir)) hit = !neg;
  }
  return hit;
}

/** Directories under `root` holding a file named `file`, POSIX relative paths, not `.`. */
function dirsWith(root: string, file: string): string[] {
  return dirsWithEach(root, [file])[0]!;
}

/** {@link dirsWith} for several file names in one walk: one sorted list per name. */
function dirsWithEach(root: string, files: readonly string[]): string[][] {
  const out: string[][] = files.map(() => []);
  const walk = (rel: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || SKIP_DIRS.has(e.name) || e.name.startsWith('.')) continue;
      const child = rel ? posix.join(rel, e.name) : e.name;
      files.forEach((f, i) => {
        if (exists(join(root, child, f))) out[i]!.push(child);
      });
      if (depth < MAX_DEPTH) walk(child, depth + 1);
    }
  };
  walk('', 1);
  return out.map((dirs) => dirs.sort());
}

/**
 * The directories with a `project.json` that the walk of {@link discoverWorkspace} found, by the
 * workspace it returned: in an nx workspace (`nx.json`) the same walk looks for both files, so
 * {@link usesNxProjects} does not walk the tree again.
 */
const nxProjectDirs = new WeakMap<Workspace, string[]>();

/**
 * The workspace at `root`: its packages (directories with a package.json that the workspace
 * globs select), their scripts and their workspace dependencies. A root without workspace
 * globs has no packages.
 */
export function discoverWorkspace(root: string): Workspace {
  const { source, patterns } = workspacePatterns(root);
  const found: Array<{ dir: string; json: Record<string, unknown> }> = [];
  let projectDirs: string[] | null = null;
  if (patterns.length > 0) {
    let manifests: string[];
    if (exists(join(root, 'nx.json')))
      [manifests, projectDirs] = dirsWithEach(root, ['package.json', 'project.json']) as [
        string[],
        string[],
      ];
    else manifests = dirsWith(root, 'package.json');
    for (const dir of manifests) {
      if (!workspaceGlobsMatch(patterns, dir)) continue;
      const json = readJson(join(root, dir, 'package.json'));
      if (json) found.push({ dir, json });
    }
  }
  const names = new Set(
    found.map(({ dir, json }) => (typeof json.name === 'string' && json.name ? json.name : dir)),
  );
  const packages = found.map(({ dir, json }): WorkspacePackage => {
    const name = typeof json.name === 'string' && json.name ? json.name : dir;
    const scripts: Record<string, string> = {};
    if (isPlainObject(json.scripts))
      for (const [k, v] of Object.entries(json.scripts)) if (typeof v === 'string') scripts[k] = v;
    const deps = new Set<string>();
    for (const field of DEP_FIELDS) {
      const d = json[field];
      if (isPlainObject(d))
        for (const n of Object.keys(d)) if (names.has(n) && n !== name) deps.add(n);
    }
    return { name, dir, scripts, deps: [...deps].sort() };
  });
  packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const packageManager = packageManagerOf(root);
  const ws: Workspace = {
    root,
    source,
    patterns,
    packages,
    packageManager,
    ...(packageManager === 'yarn' ? { yarnPnp: yarnPnpOf(root) } : {}),
  };
  if (projectDirs !== null) nxProjectDirs.set(ws, projectDirs);
  return ws;
}

/** The workspace root of a config directory, and what made it one (see {@link findWorkspaceRoot}). */
export interface WorkspaceRoot {
  /** Absolute real path. */
  dir: string;
  /** `pnpm-workspace.yaml`, `package.json#workspaces`, or `git` (the top of the git work tree). */
  by: 'pnpm-workspace.yaml' | 'package.json#workspaces' | 'git';
}

/** Whether `dir` declares a workspace: `pnpm-workspace.yaml`, or `workspaces` in its package.json. */
function workspaceMarker(dir: string): WorkspaceRoot['by'] | null {
  if (exists(join(dir, 'pnpm-workspace.yaml'))) return 'pnpm-workspace.yaml';
  const ws = readJson(join(dir, 'package.json'))?.workspaces;
  if (Array.isArray(ws) || (isPlainObject(ws) && Array.isArray(ws.packages)))
    return 'package.json#workspaces';
  return null;
}

/** `path` with its links resolved, or resolved lexically when it does not exist (yet). */
export function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Whether `dir` holds a `.git` entry: a directory, or the file of a linked work tree or
 * submodule. That is where git puts the top of a work tree.
 */
function hasGitEntry(dir: string): boolean {
  try {
    const st = lstatSync(join(dir, '.git'));
    return st.isDirectory() || st.isFile();
  } catch {
    return false;
  }
}

/**
 * The top of the git work tree containing `start`, as a real path: the nearest directory at or
 * above it with a `.git` entry, found without starting git (a run asks on every run, cached
 * ones included). Null outside a work tree.
 */
export function workTreeTop(start: string): string | null {
  let dir = realPathOf(start);
  for (;;) {
    if (hasGitEntry(dir)) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Where a config sits in the repository that CI checks out. */
export interface Checkout {
  /** The top of the checkout: the git work tree's top, or the config directory outside git. */
  top: string;
  /** The config directory relative to `top`, POSIX, `''` when they are the same. */
  dir: string;
}

/**
 * Where the config directory `rootDir` sits in its git work tree (the repository a CI job checks
 * out and starts in). Outside git the config directory is taken as the top.
 */
export function checkoutOf(rootDir: string): Checkout {
  const real = realPathOf(rootDir);
  const top = workTreeTop(real);
  if (top === null) return { top: real, dir: '' };
  return { top, dir: relative(top, real).split(sep).join('/') };
}

/**
 * The workspace root that `//` in `inputs` names, for a config in `configDir`: the nearest
 * directory at or above it that declares a workspace (`pnpm-workspace.yaml`, or a package.json
 * with `workspaces`), else the top of its git work tree (the nearest directory holding `.git`).
 * Never above that top: a workspace file beyond the repository is not its root. Null when
 * neither exists. Real paths, found without starting git (see docs/decisions/0016).
 */
export function findWorkspaceRoot(configDir: string): WorkspaceRoot | null {
  let dir = realPathOf(configDir);
  for (;;) {
    const by = workspaceMarker(dir);
    if (by) return { dir, by };
    if (hasGitEntry(dir)) return { dir, by: 'git' };
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/**
 * Whether `root` is an nx workspace (`nx.json`) with projects that `ws` (the package-manager
 * workspace) does not list: it has no packages, or a `project.json` lies outside all of them.
 * The packages of gates of `packages:` then come from nx's project graph.
 */
export function usesNxProjects(root: string, ws: Workspace = discoverWorkspace(root)): boolean {
  if (!exists(join(root, 'nx.json'))) return false;
  if (ws.packages.length === 0) return true;
  const dirs = new Set(ws.packages.map((p) => p.dir));
  const found = ws.root === root ? nxProjectDirs.get(ws) : undefined;
  return (found ?? dirsWith(root, 'project.json')).some((d) => !dirs.has(d));
}

/** The workspace dependencies of `name`, transitively (without `name`), sorted. */
export function dependenciesOf(ws: Pick<Workspace, 'packages'>, name: string): string[] {
  const byName = new Map(ws.packages.map((p) => [p.name, p]));
  const out = new Set<string>();
  const todo = [...(byName.get(name)?.deps ?? [])];
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (out.has(n) || n === name) continue;
    out.add(n);
    todo.push(...(byName.get(n)?.deps ?? []));
  }
  return [...out].sort();
}

/** The packages that depend on any of `names`, transitively, plus `names` themselves; sorted. */
export function withDependents(ws: Pick<Workspace, 'packages'>, names: Iterable<string>): string[] {
  const dependents = new Map<string, string[]>();
  for (const p of ws.packages)
    for (const d of p.deps) dependents.set(d, [...(dependents.get(d) ?? []), p.name]);
  const out = new Set<string>();
  const todo = [...names];
  while (todo.length > 0) {
    const n = todo.pop()!;
    if (out.has(n)) continue;
    out.add(n);
    todo.push(...(dependents.get(n) ?? []));
  }
  return [...out].sort();
}

/**
 * The package that owns a file (POSIX, relative to the root): the one with the deepest
 * directory containing it, or null for a file of the root.
 */
export function packageOfFile(
  ws: Pick<Workspace, 'packages'>,
  file: string,
): WorkspacePackage | null {
  let best: WorkspacePackage | null = null;
  for (const p of ws.packages)
    if (file.startsWith(`${p.dir}/`) && (!best || p.dir.length > best.dir.length)) best = p;
  return best;
}

/**
 * The short, readable part of a gate id that names a package: its name without the npm
 * scope, lowercased, with anything but `a-z0-9` turned into `-` (`@acme/ui-kit` → `ui-kit`).
 */
export function packageSlug(name: string): string {
  const bare = name.replace(/^@[^/]+\//, '');
  return (
    bare
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'pkg'
  );
}

/** The full slug, scope included (`@acme/ui-kit` → `acme-ui-kit`), used when short slugs clash. */
export function packageScopedSlug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'pkg'
  );
}

/** What {@link affectedPackages} returns. */
export interface AffectedPackages {
  /** Packages that own a changed file, sorted. */
  changed: string[];
  /** `changed` plus every package that depends on one of them, transitively, sorted. */
  affected: string[];
  /**
   * Changed files outside every package that could change any package's result (root
   * configs, the lockfile): when there is one, every package is affected. Sorted.
   */
  global: string[];
}

// Files outside every package that no gate reads: documentation at the top of the repository,
// and the state of turbo and nx when a repository does not ignore it.
const NEVER_AFFECTS =
  /^(?:[^/]+\.(?:md|markdown|mdx|txt)|(?:LICEN[CS]E|COPYING|AUTHORS)(?:\.[^/]*)?|\.(?:turbo|nx)\/.*)$/i;

const CI_DIRS = [`${CI_RESULTS_DIR}/`, `${CI_REPORT_DIR}/`];

/**
 * Whether `file` (POSIX, relative to the config directory: the workspace root, for gates of
 * `packages:`) is one Gatehouse writes itself: its state directory `.gatehouse/`, at any depth
 * (a package's own config keeps one beside it), and the results and report that CI jobs write
 * between gates (`gatehouse-results/`, `gatehouse-report/`). No gate reads them (the runner never
 * hashes `.gatehouse/`, and a package gate's default inputs leave out the CI directories), so
 * where a repository does not ignore them they are no change.
 */
export function writtenByGatehouse(file: string): boolean {
  return (
    file.split('/').slice(0, -1).includes(STATE_DIR_NAME) || CI_DIRS.some((d) => file.startsWith(d))
  );
}

/**
 * The packages a change can affect: those that own a changed file (`files`: POSIX, relative to
 * the workspace root) and their dependents. A changed file outside every package affects every
 * package, except documentation at the top of the repository (`*.md`, `LICENSE`) and the state directories of
 * turbo and nx (`.turbo/`, `.nx/`): turbo and nx each ignore some root files, differently, and
 * Gatehouse errs on the side of running a gate. What Gatehouse writes itself
 * ({@link writtenByGatehouse}) affects no package, inside a package's directory too.
 */
export function affectedPackages(
  ws: Pick<Workspace, 'packages'>,
  files: Iterable<string>,
): AffectedPackages {
  const changed = new Set<string>();
  const global: string[] = [];
  for (const f of files) {
    if (writtenByGatehouse(f)) continue;
    const p = packageOfFile(ws, f);
    if (p) changed.add(p.name);
    else if (!NEVER_AFFECTS.test(f)) global.push(f);
  }
  const affected =
    global.length > 0 ? ws.packages.map((p) => p.name).sort() : withDependents(ws, changed);
  return { changed: [...changed].sort(), affected, global: global.sort() };
}
