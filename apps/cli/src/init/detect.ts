/**
 * Reads an existing Node project (package.json, lockfiles, tool configs, CI folders) and
 * returns plain facts. No decisions about gates are made here: see `plan.ts`.
 */
import { nxDependsOn, turboTaskNames, type WorkspaceFacts } from './monorepo.js';
import { readTurboTasks } from './turbo.js';
import { accessSync, constants, existsSync } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { basename, delimiter, dirname, join, relative, resolve, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  discoverWorkspace,
  findWorkspaceRoot,
  GatehouseError,
  packageManagerOf,
  PACKAGE_MANAGER_FILES,
  realPathOf,
  workspaceRootAbove,
  usesNxProjects,
  type PackageManagerFacts,
} from '@gatehouse-ci/core';
import { readNxProjects } from '../workspace.js';

/** The parts of package.json that init reads. */
export interface PackageJson {
  name?: unknown;
  scripts?: unknown;
  dependencies?: unknown;
  devDependencies?: unknown;
  optionalDependencies?: unknown;
  peerDependencies?: unknown;
  engines?: unknown;
  workspaces?: unknown;
  packageManager?: unknown;
  jest?: unknown;
  eslintConfig?: unknown;
}

export type { PackageManagerFacts };

/** A monorepo task runner found at the root. */
export interface MonorepoFacts {
  tool: 'turbo' | 'nx';
  /** The config file that revealed it (`turbo.json`, `nx.json`). */
  file: string;
  /** Task names the tool knows (`lint`, `test`, `build`, …). */
  tasks: Set<string>;
  /** Turbo: the `outputs` globs of each task (relative to each package). */
  outputs: Map<string, string[]>;
  /**
   * The `dependsOn` of each task as `^x` (the dependencies' `x`) or `x` (the same package's):
   * turbo.json's, for when turbo itself cannot be asked (not installed yet), tasks of one named
   * package left out; nx.json's `targetDefaults` keyed by a target name (not an executor).
   */
  dependsOn?: Map<string, string[]>;
}

/** Everything `gatehouse init` knows about the project. */
export interface ProjectFacts {
  dir: string;
  /** `name` from package.json, else the directory name. */
  name: string;
  scripts: Record<string, string>;
  /** Names in dependencies, devDependencies, optionalDependencies and peerDependencies. */
  deps: Set<string>;
  /** Files and directories (relative paths) that exist among those init looks for. */
  present: Set<string>;
  packageManager: PackageManagerFacts;
  /** Node major for the image, and where it came from. */
  node: { major: number; source: string };
  /** Workspace package globs (npm/yarn `workspaces` or `pnpm-workspace.yaml`). */
  workspaces: string[];
  monorepo: MonorepoFacts | null;
  /**
   * The workspace packages (pnpm-workspace.yaml, package.json#workspaces), or the projects of
   * nx's project graph in an nx workspace of `project.json` projects, when there are any.
   */
  workspace: WorkspaceFacts | null;
  /** `compilerOptions.outDir` of tsconfig.json, when readable. */
  tsOutDir: string | null;
  /** The URLs of the pa11y-ci config (JSON forms only), in its order. */
  pa11yUrls: string[];
  /** `jest` config key in package.json. */
  jestInPackageJson: boolean;
  /** `eslintConfig` key in package.json (legacy config). */
  eslintInPackageJson: boolean;
  /** Names of the regular files at the project root, sorted. */
  rootFiles: string[];
  /** Known source directories ({@link SOURCE_DIRS}) that exist at the root, in that order. */
  sourceDirs: string[];
  /**
   * Per workspace glob (`packages/*`), the known source directories found in at least one
   * of its packages. Globs that cannot be listed simply (`apps/**`) are absent.
   */
  workspaceSourceDirs: Array<{ glob: string; dirs: string[] }>;
  /**
   * The workspace this project is a package of, when init runs in a package directory: its
   * root installs it, and the config names the root's files with `//`.
   */
  memberOf: WorkspaceMember | null;
  /** Things the user should know, printed as `warning:` lines (a package manager not installed). */
  warnings: string[];
  /** Findings printed as they are: why nx's project graph was not used. */
  notes: string[];
}

/** The workspace a package directory belongs to (see {@link ProjectFacts.memberOf}). */
export interface WorkspaceMember {
  /** The workspace root, absolute. */
  root: string;
  /** The root from the package directory, POSIX: `../..`. */
  up: string;
  /** The package directory from the root, POSIX: `packages/web`. */
  dir: string;
  /** Of {@link ROOT_PROBES} and the install files, those present at the root. */
  rootPresent: Set<string>;
  /** The root's workspace globs, `!` exclusions left out. */
  globs: string[];
  /**
   * Config files at the root that the package's tools read (tsconfig `extends` of the
   * package's tsconfig.json, biome, ESLint, Prettier configs the package has none of), as
   * paths from the root.
   */
  sharedConfigs: string[];
  /**
   * Names in the root's dependencies, devDependencies, optionalDependencies and
   * peerDependencies: what the workspace's install puts at its root for every package.
   */
  rootDeps: Set<string>;
}

/** The lockfiles and package-manager settings init looks for, at a project's or a workspace's root. */
const MANAGER_FILES = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  'yarn.lock',
  '.yarnrc.yml',
  '.npmrc',
] as const;
/** The files a Node version is read from. */
const NODE_VERSION_FILES = ['.nvmrc', '.node-version'] as const;

/** Root files init looks at for a package: what decides the install, and the CI folders. */
export const ROOT_PROBES: readonly string[] = [
  ...MANAGER_FILES,
  ...NODE_VERSION_FILES,
  '.github',
  '.gitlab-ci.yml',
];

/** Root config files a package's tools find by looking up from the package directory. */
const LOOKUP_CONFIGS: ReadonlyArray<readonly string[]> = [
  ['biome.json', 'biome.jsonc'],
  [
    'eslint.config.js',
    'eslint.config.mjs',
    'eslint.config.cjs',
    'eslint.config.ts',
    'eslint.config.mts',
    'eslint.config.cts',
  ],
  [
    '.prettierrc',
    '.prettierrc.json',
    '.prettierrc.yaml',
    '.prettierrc.yml',
    '.prettierrc.js',
    '.prettierrc.cjs',
    '.prettierrc.mjs',
    'prettier.config.js',
    'prettier.config.cjs',
    'prettier.config.mjs',
  ],
];

/** Whether an executable of that name is on `PATH`. */
export function onPath(name: string, path = process.env.PATH ?? ''): boolean {
  return path
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

const LOCKFILES: Record<PackageManagerFacts['name'], readonly string[]> = {
  pnpm: ['pnpm-lock.yaml'],
  yarn: ['yarn.lock'],
  npm: ['package-lock.json', 'npm-shrinkwrap.json'],
};

/**
 * The package manager the project declares (packageManager, else its lockfile) when it is
 * installed; else another whose lockfile is there and which is installed, with a warning;
 * else the declared one, with a warning that it must be installed.
 */
export function choosePackageManager(
  declared: unknown,
  present: ReadonlySet<string>,
  installed: (name: string) => boolean,
): { facts: PackageManagerFacts; warning: string | null } {
  const facts = packageManagerOf(declared, present);
  if (installed(facts.name)) return { facts, warning: null };
  for (const alt of ['pnpm', 'yarn', 'npm'] as const) {
    if (alt === facts.name || !installed(alt)) continue;
    const lockfile = LOCKFILES[alt].find((l) => present.has(l));
    if (!lockfile) continue;
    return {
      facts: {
        name: alt,
        lockfile,
        yarnBerry: alt === 'yarn' && present.has('.yarnrc.yml'),
        reason: `${lockfile} found and ${alt} is installed; ${facts.name} (${facts.reason}) is not`,
        declared: facts.declared,
      },
      warning: `${facts.name} is what the project declares (${facts.reason}), but it is not installed here: using ${alt} (${lockfile}). Install ${facts.name} (or \`corepack enable\`) and rerun init to use it.`,
    };
  }
  return {
    facts,
    warning: `${facts.name} (${facts.reason}) is not installed here: install it (or \`corepack enable\`) before running the gates.`,
  };
}

/** Directories that usually hold code, tests or assets a gate reads, in the order init lists them. */
export const SOURCE_DIRS = [
  'src',
  'lib',
  'app',
  'pages',
  'components',
  'public',
  'scripts',
  'test',
  'tests',
  '__tests__',
] as const;

/** Config files of ESLint (flat, then legacy), in the order init prefers them. */
export const ESLINT_FILES: readonly string[] = [
  'eslint.config.js',
  'eslint.config.mjs',
  'eslint.config.cjs',
  'eslint.config.ts',
  'eslint.config.mts',
  'eslint.config.cts',
  '.eslintrc',
  '.eslintrc.js',
  '.eslintrc.cjs',
  '.eslintrc.json',
  '.eslintrc.yaml',
  '.eslintrc.yml',
];
/** Config and workspace files of Vitest, in the order init prefers them. */
export const VITEST_FILES: readonly string[] = [
  'vitest.config.ts',
  'vitest.config.mts',
  'vitest.config.cts',
  'vitest.config.js',
  'vitest.config.mjs',
  'vitest.config.cjs',
  'vitest.workspace.ts',
  'vitest.workspace.js',
];
/** Config files of Jest, in the order init prefers them. */
export const JEST_FILES: readonly string[] = [
  'jest.config.js',
  'jest.config.cjs',
  'jest.config.mjs',
  'jest.config.ts',
  'jest.config.json',
];
/**
 * Files besides the manifest and lockfile that change what an install does: package-manager
 * hooks and patches, and the configs of install scripts (Puppeteer's says whether to
 * download a browser). Setup must see them, or a clean install (a Docker stage, a CI job)
 * does something else than the install on the developer's machine.
 */
export const INSTALL_FILES: readonly string[] = [
  '.pnpmfile.cjs',
  '.yarnrc',
  'patches',
  '.puppeteerrc',
  '.puppeteerrc.cjs',
  '.puppeteerrc.js',
  '.puppeteerrc.json',
  '.puppeteerrc.yaml',
  '.puppeteerrc.yml',
  'puppeteer.config.cjs',
  'puppeteer.config.js',
];

/** Config files of pa11y-ci, in the order init prefers them. */
export const PA11Y_FILES: readonly string[] = [
  '.pa11yci',
  '.pa11yci.json',
  '.pa11yci.yaml',
  '.pa11yci.yml',
  '.pa11yci.js',
  '.pa11yci.cjs',
];

/** Files and directories whose mere presence matters. */
const PROBES = [
  ...MANAGER_FILES,
  ...INSTALL_FILES,
  ...NODE_VERSION_FILES,
  ...ESLINT_FILES,
  ...VITEST_FILES,
  ...JEST_FILES,
  ...PA11Y_FILES,
  'sonar-project.properties',
  'turbo.json',
  'nx.json',
  'tsconfig.json',
  'dist',
  'build',
  '.github',
  'Jenkinsfile',
  '.buildkite',
  '.gitlab-ci.yml',
] as const;

/** Text a config may not contain (NUL, lone surrogates): such a package name is not used. */
const UNWRITABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function sourceDirsIn(dir: string): Promise<string[]> {
  const found = await Promise.all(SOURCE_DIRS.map((d) => isDir(join(dir, d))));
  return SOURCE_DIRS.filter((_, i) => found[i]);
}

/** Source directories of the packages a workspace glob names; only `dir` and `dir/*` are listed. */
async function workspaceSourceDirsOf(
  dir: string,
  globs: string[],
): Promise<ProjectFacts['workspaceSourceDirs']> {
  const out: ProjectFacts['workspaceSourceDirs'] = [];
  for (const glob of globs) {
    const clean = glob.replace(/^\.\//, '').replace(/\/+$/, '');
    if (clean === '' || clean.startsWith('/') || clean.split('/').includes('..')) continue;
    const parent = clean.endsWith('/*') ? clean.slice(0, -2) : clean;
    if (/[*?[{]/.test(parent)) continue;
    let packages: string[] = [join(dir, parent)];
    if (clean.endsWith('/*')) {
      const entries = await readdir(join(dir, parent), { withFileTypes: true }).catch(() => []);
      packages = entries.filter((e) => e.isDirectory()).map((e) => join(dir, parent, e.name));
    }
    const dirs = new Set<string>();
    for (const pkgDir of packages) for (const d of await sourceDirsIn(pkgDir)) dirs.add(d);
    out.push({ glob: clean, dirs: SOURCE_DIRS.filter((d) => dirs.has(d)) });
  }
  return out;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/** JSON with `//` and `/* *\/` comments and trailing commas (tsconfig.json, turbo.json). */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      out += text.slice(start, ++i);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/**
 * The Node major a version range asks for: the highest lower bound among its
 * alternatives (`>=20.19` → 20, `^18 || ^22` → 22). Null when none can be read.
 */
export function nodeMajorFromRange(range: string): number | null {
  let best: number | null = null;
  for (const alt of range.split('||')) {
    const parts = alt.trim().split(/[\s,]+/);
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      // Upper bounds (`<21`) and the right side of a hyphen range (`18 - 20`) are not asks.
      if (part.startsWith('<') || part === '-' || parts[i - 1] === '-') continue;
      const m = /^(?:>=?|\^|~|=)?v?(\d+)(?:\.(?:\d+|x|\*)){0,2}$/.exec(part);
      if (!m) continue;
      const major = Number(m[1]);
      if (major >= 4 && major < 100 && (best === null || major > best)) best = major;
    }
  }
  return best;
}

async function workspacesOf(
  dir: string,
  pkg: PackageJson,
  present: Set<string>,
): Promise<string[]> {
  let globs: unknown = pkg.workspaces;
  if (isRecord(globs)) globs = globs.packages;
  if (present.has('pnpm-workspace.yaml')) {
    const text = await readText(join(dir, 'pnpm-workspace.yaml'));
    try {
      const doc: unknown = text === null ? null : parseYaml(text);
      if (isRecord(doc)) globs = doc.packages;
    } catch {
      // An unreadable workspace file only loses the guess of per-package outputs.
    }
  }
  return Array.isArray(globs)
    ? globs.filter((g): g is string => typeof g === 'string' && g !== '' && !g.startsWith('!'))
    : [];
}

/** Task name of a turbo task key: `build`, `web#build` and `//#lint` all name their task. */
function turboTaskName(key: string): string {
  const hash = key.lastIndexOf('#');
  return hash < 0 ? key : key.slice(hash + 1);
}

/** Nx plugins that infer targets, and the target names they add by default. */
const NX_PLUGIN_TARGETS: Record<string, string[]> = {
  '@nx/eslint/plugin': ['lint'],
  '@nx/vite/plugin': ['build', 'test'],
  '@nx/vitest': ['test'],
  '@nx/jest/plugin': ['test'],
  '@nx/webpack/plugin': ['build'],
  '@nx/rollup/plugin': ['build'],
  '@nx/next/plugin': ['build'],
  '@nx/js/typescript': ['build'],
};

/** Whether `nx` is installed for `dir`: a `node_modules/nx` there or above, as Node resolves it. */
function nxInstalled(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', 'nx', 'package.json'))) return true;
    if (dirname(d) === d) return false;
  }
}

/**
 * The projects of nx's project graph, read as validation reads them (`@gatehouse-ci/nx`),
 * with the outputs of their `build` targets and the `dependsOn` of their targets as nx merges
 * them (nx.json's targetDefaults, the project's own); or why they could not be read.
 */
async function nxProjectFactsOf(
  dir: string,
  monorepo: MonorepoFacts | null,
): Promise<{ facts: WorkspaceFacts | null; why: string }> {
  if (!nxInstalled(dir)) return { facts: null, why: 'nx is not installed (node_modules/nx)' };
  let read: Awaited<ReturnType<typeof readNxProjects>>;
  try {
    read = await readNxProjects(dir);
  } catch (err) {
    const e = err as GatehouseError;
    // One line of init's findings: nx's reason may span several.
    const why = `${e.message}${e.hint ? ` (${e.hint})` : ''}`.replace(/\s*\n\s*/g, ' ');
    return { facts: null, why };
  }
  if (read.workspace.packages.length === 0)
    return { facts: null, why: "nx's project graph has no project outside the root" };
  const buildOutputs = new Map<string, string[]>();
  const targetDependsOn = new Map<string, Record<string, unknown[]>>();
  for (const p of read.graph.projects) {
    if (p.outputs?.build) buildOutputs.set(p.name, p.outputs.build);
    if (p.dependsOn) targetDependsOn.set(p.name, p.dependsOn);
  }
  // An @gatehouse-ci/nx older than the CLI gives no dependsOn: nx.json's targetDefaults then.
  const older = read.graph.projects.every((p) => p.dependsOn === undefined);
  return {
    facts: {
      source: 'nx',
      packages: read.workspace.packages,
      turbo: null,
      turboWhy: null,
      buildOutputs,
      configAtRoot: findWorkspaceRoot(dir)?.dir === realPathOf(dir),
      ...(!older
        ? { targetDependsOn }
        : monorepo?.tool === 'nx' && monorepo.dependsOn
          ? { dependsOn: monorepo.dependsOn, dependsOnFrom: "nx.json's targetDefaults" }
          : {}),
    },
    why: "nx's project graph",
  };
}

/**
 * The workspace packages, with turbo's task graph when the repository uses turbo; in an nx
 * workspace of `project.json` projects, nx's projects (a note says why when they cannot be read).
 */
async function workspaceFactsOf(
  dir: string,
  monorepo: MonorepoFacts | null,
  notes: string[],
): Promise<WorkspaceFacts | null> {
  const ws = discoverWorkspace(dir);
  if (usesNxProjects(dir, ws)) {
    const nx = await nxProjectFactsOf(dir, monorepo);
    if (nx.facts) return nx.facts;
    notes.push(
      `nx projects: not read, ${nx.why}; ${ws.packages.length > 0 ? 'gates of the package-manager workspace packages' : 'whole-repository gates'} instead; rerun init once nx's graph can be read, for gates per nx project`,
    );
  }
  if (ws.packages.length === 0) return null;
  if (monorepo?.tool !== 'turbo')
    return {
      source: ws.source,
      packages: ws.packages,
      turbo: null,
      turboWhy: null,
      ...(monorepo?.dependsOn
        ? { dependsOn: monorepo.dependsOn, dependsOnFrom: "nx.json's targetDefaults" }
        : {}),
    };
  const t = await readTurboTasks(dir, turboTaskNames(monorepo.tasks));
  return {
    source: ws.source,
    packages: ws.packages,
    turbo: t.tasks,
    turboWhy: t.why,
    ...(monorepo.dependsOn
      ? { dependsOn: monorepo.dependsOn, dependsOnFrom: "turbo.json's dependsOn" }
      : {}),
  };
}

async function monorepoOf(
  dir: string,
  present: Set<string>,
  scripts: Record<string, string>,
): Promise<MonorepoFacts | null> {
  if (present.has('turbo.json')) {
    const tasks = new Set<string>();
    const outputs = new Map<string, string[]>();
    const dependsOn = new Map<string, string[]>();
    try {
      const json = parseJsonc((await readText(join(dir, 'turbo.json'))) ?? '{}');
      const table = isRecord(json) ? (json.tasks ?? json.pipeline) : null;
      if (isRecord(table)) {
        for (const [key, def] of Object.entries(table)) {
          const task = turboTaskName(key);
          tasks.add(task);
          if (isRecord(def) && Array.isArray(def.outputs)) {
            const globs = def.outputs.filter(
              (o): o is string => typeof o === 'string' && !o.startsWith('!'),
            );
            outputs.set(task, [...(outputs.get(task) ?? []), ...globs]);
          }
          if (!key.includes('#') && isRecord(def) && Array.isArray(def.dependsOn)) {
            const deps = def.dependsOn.filter(
              (d): d is string => typeof d === 'string' && !d.includes('#') && !d.startsWith('$'),
            );
            dependsOn.set(task, [...(dependsOn.get(task) ?? []), ...deps]);
          }
        }
      }
    } catch {
      // Unparseable turbo.json: fall back to root scripts that call turbo.
    }
    for (const [name, body] of Object.entries(scripts))
      if (/\bturbo\s+(run\s+)?/.test(body)) tasks.add(name);
    return { tool: 'turbo', file: 'turbo.json', tasks, outputs, dependsOn };
  }
  if (present.has('nx.json')) {
    const tasks = new Set<string>();
    const dependsOn = new Map<string, string[]>();
    try {
      const json = parseJsonc((await readText(join(dir, 'nx.json'))) ?? '{}');
      if (isRecord(json)) {
        if (isRecord(json.targetDefaults))
          for (const [k, def] of Object.entries(json.targetDefaults)) {
            tasks.add(k.includes(':') ? k.slice(k.lastIndexOf(':') + 1) : k);
            // A key with `:` is an executor (`@nx/vite:test`): its defaults are not one task's.
            if (!k.includes(':') && isRecord(def) && Array.isArray(def.dependsOn))
              dependsOn.set(k, nxDependsOn(def.dependsOn).needs);
          }
        if (Array.isArray(json.plugins)) {
          for (const p of json.plugins) {
            const name =
              typeof p === 'string'
                ? p
                : isRecord(p) && typeof p.plugin === 'string'
                  ? p.plugin
                  : null;
            for (const t of (name && NX_PLUGIN_TARGETS[name]) ?? []) tasks.add(t);
          }
        }
      }
    } catch {
      // Unparseable nx.json: fall back to root scripts that call nx.
    }
    for (const [name, body] of Object.entries(scripts))
      if (/\bnx\s+(run-many|affected|run)\b/.test(body)) tasks.add(name);
    return { tool: 'nx', file: 'nx.json', tasks, outputs: new Map(), dependsOn };
  }
  return null;
}

/**
 * The workspace `dir` is a package of: the root {@link workspaceRootAbove} finds (never above
 * the top of the git work tree), when that root's workspace lists `dir` among its packages.
 */
async function workspaceMemberOf(dir: string): Promise<WorkspaceMember | null> {
  const above = workspaceRootAbove(dir);
  if (above === null) return null;
  const ws = discoverWorkspace(above.dir);
  const pkgDir = relative(above.dir, await realpath(dir).catch(() => resolve(dir)))
    .split(sep)
    .join('/');
  if (!ws.packages.some((p) => p.dir === pkgDir)) return null;
  const rootPresent = new Set<string>();
  for (const f of [...ROOT_PROBES, ...INSTALL_FILES])
    if (await exists(join(above.dir, f))) rootPresent.add(f);
  // As for a project's own `.github/`: workflows say "GitHub CI", issue templates alone do not.
  if (!(await isDir(join(above.dir, '.github/workflows')))) rootPresent.delete('.github');
  const rootPkg = await readText(join(above.dir, 'package.json'));
  let parsed: PackageJson = {};
  try {
    const v: unknown = rootPkg === null ? null : JSON.parse(rootPkg);
    if (isRecord(v)) parsed = v;
  } catch {
    // An unreadable root manifest: the install files alone decide.
  }
  const globs = (await workspacesOf(above.dir, parsed, rootPresent)).filter(
    (g) => safeGlob(g) !== null,
  );
  return {
    root: above.dir,
    up: above.rel,
    dir: pkgDir,
    rootPresent,
    globs,
    sharedConfigs: await sharedConfigsOf(dir, above.dir),
    rootDeps: dependencyNames(parsed),
  };
}

/** Names in a manifest's dependencies, devDependencies, optionalDependencies and peerDependencies. */
function dependencyNames(pkg: PackageJson): Set<string> {
  const deps = new Set<string>();
  for (const field of [
    pkg.dependencies,
    pkg.devDependencies,
    pkg.optionalDependencies,
    pkg.peerDependencies,
  ]) {
    for (const k of Object.keys(stringRecord(field))) deps.add(k);
  }
  return deps;
}

function safeGlob(p: string): string | null {
  const clean = p.replace(/^\.\//, '').replace(/\/+$/, '');
  if (clean === '' || clean.startsWith('/') || clean.split('/').includes('..')) return null;
  return clean;
}

/** Root config files the package's tools read (see {@link WorkspaceMember.sharedConfigs}). */
async function sharedConfigsOf(dir: string, root: string): Promise<string[]> {
  const out = new Set<string>();
  // tsconfig `extends` chains that reach files inside the root but outside the package.
  let ts = join(dir, 'tsconfig.json');
  for (let hops = 0; hops < 8; hops++) {
    let ext: unknown;
    try {
      const json = parseJsonc((await readText(ts)) ?? '{}');
      ext = isRecord(json) ? json.extends : undefined;
    } catch {
      break;
    }
    const first = Array.isArray(ext) ? ext[0] : ext;
    if (typeof first !== 'string' || !first.startsWith('.')) break;
    let next = resolve(dirname(ts), first);
    if (!next.endsWith('.json') && !(await exists(next))) next += '.json';
    const rel = relative(root, next).split(sep).join('/');
    if (rel.startsWith('..') || !(await exists(next))) break;
    if (!relative(dir, next).split(sep).join('/').startsWith('..')) {
      ts = next;
      continue;
    }
    out.add(rel);
    ts = next;
  }
  for (const names of LOOKUP_CONFIGS) {
    const ownFound: string[] = [];
    for (const n of names) if (await exists(join(dir, n))) ownFound.push(n);
    // A package's biome.json that extends the root's, or is not a root itself, reads it too.
    const nested =
      names[0] === 'biome.json' &&
      ownFound.length > 0 &&
      /"extends"|"root"\s*:\s*false/.test((await readText(join(dir, ownFound[0]!))) ?? '');
    if (ownFound.length > 0 && !nested) continue;
    for (const n of names) if (await exists(join(root, n))) out.add(n);
  }
  return [...out].sort();
}

async function rootManifest(root: string): Promise<PackageJson> {
  try {
    const v: unknown = JSON.parse((await readText(join(root, 'package.json'))) ?? 'null');
    return isRecord(v) ? v : {};
  } catch {
    return {};
  }
}

/** The root's choice, its lockfile named from the root and its reason saying where it was found. */
function fromWorkspaceRoot(
  chosen: ReturnType<typeof choosePackageManager>,
  member: WorkspaceMember,
): ReturnType<typeof choosePackageManager> {
  return {
    facts: { ...chosen.facts, reason: `${chosen.facts.reason} at the workspace root ${member.up}` },
    warning: chosen.warning,
  };
}

/** Node's major from the root of a workspace: engines, .nvmrc, .node-version. */
async function workspaceRootNode(root: string): Promise<ProjectFacts['node'] | null> {
  const pkg = await rootManifest(root);
  const engines =
    isRecord(pkg.engines) && typeof pkg.engines.node === 'string' ? pkg.engines.node : null;
  const fromEngines = engines === null ? null : nodeMajorFromRange(engines);
  if (fromEngines !== null)
    return { major: fromEngines, source: `engines.node "${engines}" at the workspace root` };
  for (const f of ['.nvmrc', '.node-version']) {
    const v = ((await readText(join(root, f))) ?? '').trim();
    const major = /^v?(\d+)(\.\d+){0,2}$/.test(v) ? Number(/\d+/.exec(v)![0]) : null;
    if (major !== null) return { major, source: `${f} "${v}" at the workspace root` };
  }
  return null;
}

/** Reads the project in `dir`. Throws `GH_INIT_NO_PACKAGE_JSON` / `GH_INIT_BAD_PACKAGE_JSON`. */
export async function detectProject(
  dir: string,
  runningNode: string = process.versions.node,
  installed: (name: string) => boolean = (name) => onPath(name),
): Promise<ProjectFacts> {
  const text = await readText(join(dir, 'package.json'));
  if (text === null) {
    throw new GatehouseError(
      'GH_INIT_NO_PACKAGE_JSON',
      `no package.json in ${dir}: gatehouse init reads a Node project`,
      {
        hint: 'run it in the root of your project, or create a package.json first (`npm init -y`)',
      },
    );
  }
  let pkg: PackageJson;
  try {
    const parsed: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
    if (!isRecord(parsed)) throw new Error('the top level is not an object');
    pkg = parsed;
  } catch (err) {
    throw new GatehouseError(
      'GH_INIT_BAD_PACKAGE_JSON',
      `${join(dir, 'package.json')} is not valid JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }

  const present = new Set<string>();
  await Promise.all(
    PROBES.map(async (p) => ((await exists(join(dir, p))) ? present.add(p) : undefined)),
  );
  // `.github/` alone could hold only issue templates; workflows are what says "GitHub CI".
  if (
    present.has('.github') &&
    !(await readdir(join(dir, '.github')).catch(() => [] as string[])).includes('workflows')
  ) {
    present.delete('.github');
  }

  const scripts = stringRecord(pkg.scripts);
  const deps = dependencyNames(pkg);

  let node: ProjectFacts['node'] | null = null;
  const engines =
    isRecord(pkg.engines) && typeof pkg.engines.node === 'string' ? pkg.engines.node : null;
  const fromEngines = engines === null ? null : nodeMajorFromRange(engines);
  if (fromEngines !== null) node = { major: fromEngines, source: `engines.node "${engines}"` };
  for (const f of ['.nvmrc', '.node-version']) {
    if (node || !present.has(f)) continue;
    const v = ((await readText(join(dir, f))) ?? '').trim();
    const major = /^v?(\d+)(\.\d+){0,2}$/.test(v) ? Number(/\d+/.exec(v)![0]) : null;
    if (major !== null) node = { major, source: `${f} "${v}"` };
  }
  // A package of a workspace without its own: the root's.
  const memberOf = await workspaceMemberOf(dir);
  if (!node && memberOf) node = await workspaceRootNode(memberOf.root);
  node ??= {
    major: Number(runningNode.split('.')[0]),
    source: `the running Node (${runningNode})`,
  };

  let tsOutDir: string | null = null;
  if (present.has('tsconfig.json')) {
    try {
      const ts = parseJsonc((await readText(join(dir, 'tsconfig.json'))) ?? '{}');
      const outDir =
        isRecord(ts) && isRecord(ts.compilerOptions) ? ts.compilerOptions.outDir : undefined;
      if (typeof outDir === 'string')
        tsOutDir = outDir.replace(/^\.\//, '').replace(/\/+$/, '') || null;
    } catch {
      // tsconfig.json that does not parse: the output guess falls back to dist/.
    }
  }

  const pa11yUrls: string[] = [];
  for (const f of ['.pa11yci', '.pa11yci.json']) {
    if (!present.has(f) || pa11yUrls.length > 0) continue;
    try {
      const cfg = parseJsonc((await readText(join(dir, f))) ?? '{}');
      const urls = isRecord(cfg) && Array.isArray(cfg.urls) ? cfg.urls : [];
      for (const u of urls) {
        const url = typeof u === 'string' ? u : isRecord(u) ? u.url : undefined;
        if (typeof url === 'string') pa11yUrls.push(url);
      }
    } catch {
      // A config that does not parse: pa11y-ci will say so when the gate runs.
    }
  }

  const rootEntries = await readdir(dir, { withFileTypes: true });
  const ownLock = PACKAGE_MANAGER_FILES.some((p) => present.has(p));
  // A package of a workspace without a lockfile of its own is installed by the root's manager.
  const pm =
    memberOf && !ownLock
      ? fromWorkspaceRoot(
          choosePackageManager(
            (await rootManifest(memberOf.root)).packageManager ?? pkg.packageManager,
            memberOf.rootPresent,
            installed,
          ),
          memberOf,
        )
      : choosePackageManager(pkg.packageManager, present, installed);
  const workspaces = await workspacesOf(dir, pkg, present);
  const monorepo = await monorepoOf(dir, present, scripts);
  const notes: string[] = [];
  const workspace = await workspaceFactsOf(dir, monorepo, notes);

  return {
    dir,
    name:
      typeof pkg.name === 'string' && pkg.name.trim() !== '' && !UNWRITABLE.test(pkg.name)
        ? pkg.name
        : basename(dir),
    scripts,
    deps,
    present,
    packageManager: pm.facts,
    node,
    workspaces,
    monorepo,
    workspace,
    tsOutDir,
    pa11yUrls,
    jestInPackageJson: isRecord(pkg.jest),
    eslintInPackageJson: isRecord(pkg.eslintConfig),
    rootFiles: rootEntries
      .filter((e) => e.isFile() || e.isSymbolicLink())
      .map((e) => e.name)
      .sort(),
    sourceDirs: await sourceDirsIn(dir),
    workspaceSourceDirs: await workspaceSourceDirsOf(dir, workspaces),
    memberOf,
    warnings: pm.warning ? [pm.warning] : [],
    notes,
  };
}
