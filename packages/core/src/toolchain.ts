/**
 * What a Node project runs on: its package manager and its Node version, read from the
 * project's own files. `init` uses it to write setup commands, CI targets to set up the
 * same toolchain on a runner as the gates get locally or in their image.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { findWorkspaceRoot } from './workspace.js';

/** Package manager facts, from the lockfile (and `packageManager`). */
export interface PackageManagerFacts {
  name: 'npm' | 'pnpm' | 'yarn';
  /**
   * Lockfile relative to the directory the facts were read from (the project root for
   * {@link packageManagerOf}; the config directory for {@link detectNodeToolchain}, which
   * may give `../../pnpm-lock.yaml`), or null when there is none.
   */
  lockfile: string | null;
  /** Yarn 2+ (`--immutable`) vs classic (`--frozen-lockfile`); false for npm/pnpm. */
  yarnBerry: boolean;
  /** Why this manager was chosen, for the printed summary. */
  reason: string;
  /** package.json's `packageManager` (e.g. `pnpm@10.12.1`), or null. */
  declared: string | null;
}

/** Files that decide the package manager. */
export const PACKAGE_MANAGER_FILES = [
  'pnpm-lock.yaml',
  'yarn.lock',
  '.yarnrc.yml',
  'package-lock.json',
  'npm-shrinkwrap.json',
] as const;

type ManagerName = PackageManagerFacts['name'];

/** What a command word runs: `npx` is npm's, `pnpx` pnpm's, `yarnpkg` yarn's. */
const MANAGER_WORDS: Readonly<Record<string, ManagerName>> = {
  npm: 'npm',
  npx: 'npm',
  pnpm: 'pnpm',
  pnpx: 'pnpm',
  yarn: 'yarn',
  yarnpkg: 'yarn',
};

/** Commands that only prepare the shell for the one that installs. */
const PREPARING = new Set(['cd', 'set', 'export', 'true', ':']);

/**
 * The package manager a setup command runs, read from its first command: leading `VAR=value`
 * assignments (and `env`) are skipped, and so are commands that only prepare the shell
 * (`cd x &&`, `set -e`, `export …`, `corepack enable &&`, comment lines). `npm`/`npx` → npm,
 * `pnpm` → pnpm, `yarn` → yarn; `corepack pnpm …` runs pnpm, and `npx pnpm@10 install` too (npx
 * runs the manager it names). Null when the first command runs none of them (`make deps`).
 */
export function packageManagerRunBy(run: string): ManagerName | null {
  for (const command of run.split(/&&|\|\||[;|\n]/)) {
    const words = command.trim().split(/\s+/).filter(Boolean);
    while (words.length > 0 && (words[0] === 'env' || /^[A-Za-z_]\w*=/.test(words[0]!))) {
      words.shift();
    }
    const [first, second] = words;
    if (first === undefined || first.startsWith('#') || PREPARING.has(first)) continue;
    if (first === 'corepack') {
      if (second === 'enable') continue;
      return MANAGER_WORDS[second ?? ''] ?? null;
    }
    if (first === 'npx') {
      const named = /^(npm|pnpm|yarn)(?:@\S*)?$/.exec(
        words.find((w, i) => i > 0 && !w.startsWith('-')) ?? '',
      );
      return (named?.[1] as ManagerName | undefined) ?? 'npm';
    }
    return MANAGER_WORDS[first] ?? null;
  }
  return null;
}

/**
 * The package manager of a project: the lockfile of the one `packageManager` declares (what
 * corepack enforces), else, when lockfiles of more than one manager are there, the lockfile of
 * the one the setup runs ({@link packageManagerRunBy}), else the first lockfile found (pnpm,
 * yarn, npm), else the declared one, else npm. The setup only chooses among the lockfiles
 * present: a single lockfile decides even when the setup runs another manager.
 * @param packageManager the `packageManager` field of package.json, if any
 * @param present which of {@link PACKAGE_MANAGER_FILES} exist at the root
 * @param setupRuns the package manager the config's `setup.run` runs, if known
 */
export function packageManagerOf(
  packageManager: unknown,
  present: ReadonlySet<string>,
  setupRuns: ManagerName | null = null,
): PackageManagerFacts {
  const declared = typeof packageManager === 'string' ? packageManager : '';
  const declaredName = /^(npm|pnpm|yarn)@/.exec(declared)?.[1] as
    PackageManagerFacts['name'] | undefined;
  const yarnMajor = Number(/^yarn@(\d+)/.exec(declared)?.[1] ?? 'NaN');
  const yarnBerry = present.has('.yarnrc.yml') || yarnMajor >= 2;
  const locks: Array<[PackageManagerFacts['name'], string]> = [];
  if (present.has('pnpm-lock.yaml')) locks.push(['pnpm', 'pnpm-lock.yaml']);
  if (present.has('yarn.lock')) locks.push(['yarn', 'yarn.lock']);
  if (present.has('package-lock.json')) locks.push(['npm', 'package-lock.json']);
  if (present.has('npm-shrinkwrap.json')) locks.push(['npm', 'npm-shrinkwrap.json']);
  const byDeclared = locks.find(([n]) => n === declaredName);
  const ambiguous = new Set(locks.map(([n]) => n)).size > 1;
  const bySetup = ambiguous ? locks.find(([n]) => n === setupRuns) : undefined;
  const pick = byDeclared ?? bySetup ?? locks[0];
  if (pick) {
    const [name, lockfile] = pick;
    const others = locks.filter((l) => l[1] !== lockfile).map((l) => l[1]);
    const why = byDeclared
      ? ` (packageManager: ${declared})`
      : bySetup
        ? ` (setup runs ${name})`
        : '';
    const reason = `${lockfile} found${why}${
      others.length ? `; also found ${others.join(', ')}, ignored` : ''
    }`;
    return {
      name,
      lockfile,
      yarnBerry: name === 'yarn' && yarnBerry,
      reason,
      declared: declared || null,
    };
  }
  if (declaredName) {
    return {
      name: declaredName,
      lockfile: null,
      yarnBerry: declaredName === 'yarn' && yarnBerry,
      reason: `packageManager: ${declared}, no lockfile`,
      declared,
    };
  }
  return {
    name: 'npm',
    lockfile: null,
    yarnBerry: false,
    reason: 'no lockfile found, assuming npm',
    declared: declared || null,
  };
}

/** Where a project's Node version comes from, for a CI runner's setup. */
export type NodeVersionSource =
  /** A version spec taken from the tag of the config's `node` image (`node:22-bookworm-slim` → `22`). */
  | { kind: 'image'; version: string; image: string }
  /**
   * A file the setup tool reads itself: `.nvmrc`, `.node-version`, or package.json
   * (`engines.node`), relative to the config directory (`../../.nvmrc` at a workspace root).
   */
  | { kind: 'file'; file: string }
  | { kind: 'none' };

/** The project's toolchain. */
export interface NodeToolchain {
  node: NodeVersionSource;
  packageManager: PackageManagerFacts;
  /**
   * Where the package manager facts come from, relative to the config directory: `` for the
   * config directory itself, `../..` for the root of the workspace it is a package of.
   */
  packageManagerDir: string;
  /**
   * The directory of the package.json whose `packageManager` is `packageManager.declared`,
   * relative to the config directory (`` or `../..`); null when none declares one.
   */
  declaredDir: string | null;
}

/** Official `node` images, with or without a registry or `library/` prefix. */
const NODE_IMAGE =
  /^(?:(?:docker\.io|registry-1\.docker\.io|index\.docker\.io)\/)?(?:library\/)?node(?::([^@]+))?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * The Node version an official `node` image tag stands for: `22-bookworm-slim` → `22`,
 * `20.19.1-alpine` → `20.19.1`, `lts-slim` → `lts/*`; null for other images or tags.
 */
export function nodeVersionOfImage(image: string): string | null {
  const m = NODE_IMAGE.exec(image);
  if (!m) return null;
  const tag = m[1] ?? 'latest';
  const version = /^(\d+(?:\.\d+){0,2})(?:-|$)/.exec(tag)?.[1];
  if (version) return version;
  if (/^lts(?:-|$)/.test(tag)) return 'lts/*';
  if (/^(?:latest|current)(?:-|$)/.test(tag)) return 'node';
  return null;
}

function readJson(path: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** `rel` joined under `dir` (both POSIX, relative): `'' + x` is `x`, `'../..' + x` is `../../x`. */
function under(dir: string, rel: string): string {
  return dir === '' ? rel : `${dir}/${rel}`;
}

function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/**
 * The root of the workspace `rootDir` belongs to, as a POSIX path relative to `rootDir`
 * (`../..`), when it is another directory: the nearest directory above with
 * `pnpm-workspace.yaml` or a package.json with `workspaces` ({@link findWorkspaceRoot}), never
 * above the top of the git work tree. Null at a root, outside a workspace, or when only the top
 * of the git work tree was found (a repository that is no workspace shares no install).
 */
export function workspaceRootAbove(rootDir: string): { dir: string; rel: string } | null {
  const found = findWorkspaceRoot(rootDir);
  if (found === null || found.by === 'git') return null;
  const rel = relative(realDir(rootDir), found.dir);
  if (rel === '' || !rel.split(sep).every((s) => s === '..')) return null;
  return { dir: found.dir, rel: rel.split(sep).join('/') };
}

/** Which of {@link PACKAGE_MANAGER_FILES} exist in `dir`. */
function managerFilesIn(dir: string): Set<string> {
  return new Set<string>(PACKAGE_MANAGER_FILES.filter((f) => existsSync(join(dir, f))));
}

/**
 * Reads the toolchain of the project at `rootDir`. The package manager comes from the
 * config directory's lockfile; a config directory without one that is a package of a
 * workspace takes the workspace root's (lockfile, `packageManager`), which is what installs it.
 * The Node version comes from the config's image when it is an official `node` image (the gates
 * run on it), else from `.nvmrc` or `.node-version` in the config directory, then at the
 * workspace root, else from `engines.node` of the config directory's package.json, then the
 * root's: a version file pins the Node the project is developed on, `engines` only a range.
 * `lookAbove: false` reads the config directory only (a CI checkout whose top it is).
 * `setupRun`, the config's `setup.run`, chooses among lockfiles of several managers when
 * `packageManager` does not ({@link packageManagerOf}): the CI cache is then the one the
 * setup's install fills.
 */
export function detectNodeToolchain(
  rootDir: string,
  image: string,
  lookAbove = true,
  setupRun: string | null = null,
): NodeToolchain {
  const pkg = readJson(join(rootDir, 'package.json'));
  const present = managerFilesIn(rootDir);
  const ws = lookAbove ? workspaceRootAbove(rootDir) : null;
  const rootPkg = ws ? readJson(join(ws.dir, 'package.json')) : {};
  const setupRuns = setupRun === null ? null : packageManagerRunBy(setupRun);
  let packageManager = packageManagerOf(pkg.packageManager, present, setupRuns);
  let packageManagerDir = '';
  let declaredDir: string | null = typeof pkg.packageManager === 'string' ? '' : null;
  if (ws && packageManager.lockfile === null && !present.has('.yarnrc.yml')) {
    const rootPresent = managerFilesIn(ws.dir);
    const fromRoot = packageManagerOf(
      rootPkg.packageManager ?? pkg.packageManager,
      rootPresent,
      setupRuns,
    );
    if (rootPresent.size > 0 || typeof rootPkg.packageManager === 'string') {
      packageManager = {
        ...fromRoot,
        lockfile: fromRoot.lockfile === null ? null : under(ws.rel, fromRoot.lockfile),
        reason: `${fromRoot.reason}, at the workspace root ${ws.rel}`,
      };
      packageManagerDir = ws.rel;
      if (typeof rootPkg.packageManager === 'string') declaredDir = ws.rel;
    }
  }
  const dirs = ws ? ['', ws.rel] : [''];
  const abs = (d: string) => (d === '' ? rootDir : ws!.dir);
  const fromImage = nodeVersionOfImage(image);
  let node: NodeVersionSource = { kind: 'none' };
  if (fromImage) node = { kind: 'image', version: fromImage, image };
  else {
    const versionFile = dirs
      .flatMap((d) => ['.nvmrc', '.node-version'].map((f) => ({ d, f })))
      .find(({ d, f }) => existsSync(join(abs(d), f)));
    const engines = dirs.find((d) => {
      const e = (d === '' ? pkg : rootPkg).engines as { node?: unknown } | undefined;
      return !!e && typeof e === 'object' && typeof e.node === 'string';
    });
    if (versionFile) node = { kind: 'file', file: under(versionFile.d, versionFile.f) };
    else if (engines !== undefined) node = { kind: 'file', file: under(engines, 'package.json') };
  }
  return { node, packageManager, packageManagerDir, declaredDir };
}
