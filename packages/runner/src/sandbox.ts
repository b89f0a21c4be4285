/**
 * `gatehouse run --sandbox`: each gate runs under bubblewrap (`bwrap`) and sees only what its
 * cache key covers, so a gate that passes there has declared everything it reads.
 *
 * What a sandboxed gate sees:
 * - the host's system, read-only: `/usr`, `/bin`, `/sbin`, `/lib*`, `/etc`, `/opt`, `/sys`,
 *   Node's install directory and every directory on `PATH` outside the project;
 * - a fresh `/tmp` and `/var/tmp`, a minimal `/dev`, and a private `/proc` in its own pid
 *   namespace; the network is the host's;
 * - `$HOME` as an empty writable tmpfs holding, read-only, the package managers' config files
 *   (`.npmrc`, `.yarnrc*`, `.gitconfig`), corepack's and the browsers' caches, and the tool
 *   directories on `PATH` that live in the home;
 * - the project directory, at its real path, holding copies of exactly the files the gate's key
 *   covers (its inputs, or every file git knows when it declares none, plus the lockfiles),
 *   copies of the outputs of the gates it needs (transitively), and setup's products
 *   ({@link setupProducts}) bound read-only. The gate may write anywhere in it: only files
 *   matching its `outputs` are copied back into the project, and only when it passed;
 * - `$GATEHOUSE_OUT`, writable.
 *
 * Everything else about a gate (environment, secrets, timeout, redaction, the supervisor and
 * the tree kill, evidence) is what it is outside: the sandbox wraps the command, nothing more.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, type Dirent } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  readFile,
  readdir,
  readlink,
  realpath,
  rm,
  writeFile,
} from 'node:fs/promises';
import {
  basename,
  delimiter,
  dirname,
  isAbsolute,
  join,
  normalize,
  relative,
  resolve,
} from 'node:path';
import {
  GatehouseError,
  PACKAGE_MANAGER_FILES,
  ROOT_GLOB_PREFIX,
  type ResolvedGate,
} from '@gatehouse-ci/core';
import { isInside, writeInside } from './confine.js';
import { matchFiles } from './glob.js';

/** bwrap refuses more arguments than this (9000 in 0.8); we stay well below. */
const MAX_BWRAP_ARGS = 8000;

/** System directories shown read-only (a symbolic link, as on merged-/usr systems, is recreated). */
const SYSTEM_DIRS = [
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
  '/opt',
];

/** Files and directories of `$HOME` shown read-only when they exist: package managers' config and caches. */
const HOME_KEEP = [
  '.npmrc',
  '.yarnrc',
  '.yarnrc.yml',
  '.gitconfig',
  '.cache/node/corepack',
  '.cache/ms-playwright',
  '.cache/puppeteer',
];

/** Home directories whose subdirectories on `PATH` are shown alone (they hold unrelated data). */
const HOME_SHARED = new Set(['.local', '.config', '.cache']);

/** Entries of a `node_modules` that are tools' caches, not installed packages: not shown. */
const MODULE_CACHES = new Set(['.cache', '.vite', '.vite-temp', '.vitest']);

/** Files at the project's root that an install writes (Yarn Plug'n'Play). */
const ROOT_PRODUCTS = ['.pnp.cjs', '.pnp.loader.mjs', '.pnp.data.json'];

/** Directories never walked or shown. */
const NEVER_SHOWN = new Set(['.git', '.gatehouse']);

/** Where bwrap is, from `PATH`, or null. */
export function findBwrap(pathEnv: string | undefined): string | null {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, 'bwrap');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

const INSTALL_HINT =
  'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap); as a non-root user it needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04 and later, kernel.apparmor_restrict_unprivileged_userns=0)';

/**
 * Throws `GH_SANDBOX_UNAVAILABLE` unless bwrap is on `PATH` and can make a sandbox here (a pid
 * namespace with its own `/proc`). Returns bwrap's path.
 */
export async function checkSandbox(pathEnv: string | undefined): Promise<string> {
  const bwrap = findBwrap(pathEnv);
  if (bwrap === null)
    throw new GatehouseError(
      'GH_SANDBOX_UNAVAILABLE',
      '--sandbox needs bubblewrap, and no `bwrap` is on PATH; nothing was run',
      { hint: INSTALL_HINT },
    );
  const problem = await new Promise<string | null>((done) => {
    execFile(
      bwrap,
      [
        '--ro-bind',
        '/',
        '/',
        '--unshare-pid',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '--die-with-parent',
        'true',
      ],
      { timeout: 15_000, encoding: 'utf8' },
      (err, _out, stderr) => {
        if (!err) done(null);
        else done(stderr.trim().split('\n')[0] || err.message);
      },
    );
  });
  if (problem !== null)
    throw new GatehouseError(
      'GH_SANDBOX_UNAVAILABLE',
      `--sandbox: ${bwrap} cannot create a sandbox here (${problem}); nothing was run`,
      { hint: INSTALL_HINT },
    );
  return bwrap;
}

/**
 * Setup's products: what an install leaves in the project that no gate declares. Every
 * `node_modules` directory (at any depth, not looking inside one) and the Yarn Plug'n'Play files
 * at the root. Paths are relative to `rootDir`, sorted.
 */
export async function setupProducts(rootDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(rel === '' ? rootDir : join(rootDir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || NEVER_SHOWN.has(e.name)) continue;
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.name === 'node_modules') found.push(child);
      else await walk(child);
    }
  };
  await walk('');
  for (const f of ROOT_PRODUCTS) if (await lstat(join(rootDir, f)).catch(() => null)) found.push(f);
  return found.sort();
}

/** Whether `rel` is `base` or below it. */
const under = (rel: string, base: string) => rel === base || rel.startsWith(`${base}/`);

/** Options of {@link GateSandbox.open}. */
export interface SandboxOptions {
  bwrap: string;
  rootDir: string;
  /**
   * The workspace root that `//` inputs name (`ResolvedPipeline.workspaceRoot`): those files are
   * shown at their real paths, read-only.
   */
  workspaceRoot?: string;
  /** A directory of this run where each gate's sandbox is laid out (removed afterwards). */
  workDir: string;
  /** The environment gates get (its `PATH` and `HOME` decide what of the host is shown). */
  env: Record<string, string | undefined>;
}

/** A gate's sandbox, laid out and ready to run. */
export interface PreparedSandbox {
  /** For `runProcess`: bwrap and its arguments file, before `/bin/sh -c <run>`. */
  wrap: { argv: string[]; argsFile: string };
  /** The host directory shown as the project. */
  scratch: string;
  /** Removes the layout. */
  dispose(): Promise<void>;
}

/** One run's sandboxes: the host part is worked out once, the project part per gate. */
export class GateSandbox {
  private constructor(
    private readonly opts: SandboxOptions,
    private readonly hostArgs: string[],
    /** Setup's products, relative to the root. */
    readonly products: string[],
  ) {}

  /** The project directory. */
  get rootDir(): string {
    return this.opts.rootDir;
  }

  /** Work out what of the host is shown, and find setup's products (call after setup). */
  static async open(opts: SandboxOptions): Promise<GateSandbox> {
    const hostArgs = await hostMounts(opts.rootDir, opts.env);
    return new GateSandbox(opts, hostArgs, await setupProducts(opts.rootDir));
  }

  /**
   * The project files a gate sees: the files its key covers (`inputs`, from its manifest;
   * every file of the project when it has no key), the lockfiles, and the outputs of the gates
   * it needs, transitively. Relative to the root, sorted.
   */
  async visibleFiles(
    gate: ResolvedGate,
    keyed: readonly string[] | null,
    byId: ReadonlyMap<string, ResolvedGate>,
  ): Promise<string[]> {
    const root = this.opts.rootDir;
    const files = new Set<string>(keyed ?? (await matchFiles(root, ['**'])));
    for (const f of PACKAGE_MANAGER_FILES)
      if ((await lstat(join(root, f)).catch(() => null))?.isFile()) files.add(f);
    // A package's own config that names the workspace root sees the root's lockfiles too.
    const top = this.opts.workspaceRoot;
    if (top !== undefined)
      for (const f of PACKAGE_MANAGER_FILES)
        if ((await lstat(join(top, f)).catch(() => null))?.isFile())
          files.add(`${ROOT_GLOB_PREFIX}${f}`);
    const seen = new Set<string>();
    const needs = [...gate.needs];
    while (needs.length > 0) {
      const id = needs.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const need = byId.get(id);
      if (!need) continue;
      for (const f of await matchFiles(root, need.outputs)) files.add(f);
      needs.push(...need.needs);
    }
    return [...files].filter((f) => !this.products.some((p) => under(f, p))).sort();
  }

  /**
   * Lay out a sandbox for `id` showing `files` (copied) and setup's products (bound), with
   * `outDir` writable.
   */
  async prepare(id: string, files: readonly string[], outDir: string): Promise<PreparedSandbox> {
    const root = this.opts.rootDir;
    const base = join(this.opts.workDir, `${id}-${Math.random().toString(36).slice(2, 10)}`);
    const scratch = join(base, 'root');
    await mkdir(scratch, { recursive: true });
    const { inProject, outside } = await this.placeRootFiles(files);
    await copyFiles(root, scratch, inProject);
    const args = [...this.hostArgs, '--bind', scratch, root];
    for (const abs of outside) args.push('--ro-bind', abs, abs);
    const budget = MAX_BWRAP_ARGS - args.length - 16;
    args.push(...(await productMounts(root, scratch, this.products, budget)));
    args.push('--bind', outDir, outDir, '--chdir', root);
    const argsFile = join(base, 'bwrap.args');
    await writeFile(argsFile, `${args.join('\0')}\0`);
    return {
      wrap: { argv: [this.opts.bwrap, '--args', '3', '--'], argsFile },
      scratch,
      dispose: () => rm(base, { recursive: true, force: true }),
    };
  }

  /**
   * `files` of the project (copied into the sandbox) and the workspace root's files named `//…`
   * that lie outside it (bound read-only, at their real paths). A root file that resolves
   * outside the workspace root, or is not a regular file, is not shown.
   */
  private async placeRootFiles(
    files: readonly string[],
  ): Promise<{ inProject: string[]; outside: string[] }> {
    const root = this.opts.rootDir;
    const top = this.opts.workspaceRoot;
    const inProject: string[] = [];
    const outside: string[] = [];
    const realTop = top === undefined ? null : await realpath(top).catch(() => null);
    for (const f of files) {
      if (!f.startsWith(ROOT_GLOB_PREFIX)) {
        inProject.push(f);
        continue;
      }
      if (top === undefined || realTop === null) continue;
      const abs = join(top, f.slice(ROOT_GLOB_PREFIX.length));
      if (isInside(root, abs)) {
        inProject.push(relative(root, abs).split('\\').join('/'));
        continue;
      }
      const real = await realpath(abs).catch(() => null);
      if (real === null || !isInside(realTop, real)) continue;
      if (!(await lstat(real).catch(() => null))?.isFile()) continue;
      outside.push(real);
    }
    return { inProject, outside };
  }

  /**
   * Copy the files a passed gate wrote that match its `outputs` from the sandbox into the
   * project (regular files only, never through a link, never into `.git/` or `.gatehouse/`).
   * Returns the files that could not be copied, with why.
   */
  async copyOutputs(prepared: PreparedSandbox, outputs: readonly string[]): Promise<string[]> {
    const problems: string[] = [];
    for (const rel of await matchFiles(prepared.scratch, outputs)) {
      if (this.products.some((p) => under(rel, p))) continue;
      const from = join(prepared.scratch, rel);
      if (!(await lstat(from)).isFile()) {
        problems.push(`${rel}: not a regular file`);
        continue;
      }
      await writeInside(this.opts.rootDir, rel, from).catch((err: unknown) =>
        problems.push(`${rel}: ${(err as Error).message}`),
      );
    }
    return problems;
  }

  /** Every file of the project not in `visible` (nor a product): what bisecting picks from. */
  async hiddenFiles(visible: ReadonlySet<string>): Promise<string[]> {
    return (await matchFiles(this.opts.rootDir, ['**'])).filter(
      (f) => !visible.has(f) && !this.products.some((p) => under(f, p)),
    );
  }

  /**
   * Project files named in a gate's log (`ENOENT … open '/p/src/x.js'`, `Cannot find module`,
   * `cat: notes.txt: No such file or directory`, …) that exist but were not shown. A directory
   * named stands for the files in it.
   */
  async namedInLog(text: string, visible: ReadonlySet<string>): Promise<string[]> {
    const root = this.opts.rootDir;
    const tokens = pathTokens(text);
    const absDirs = [
      ...new Set(tokens.filter((t) => isAbsolute(t) && isInside(root, t)).map((t) => dirname(t))),
    ].slice(0, 50);
    const found = new Set<string>();
    const consider = async (abs: string): Promise<boolean> => {
      if (!isInside(root, abs) || abs === root) return false;
      const rel = relative(root, abs).split('\\').join('/');
      if (rel.split('/').some((s) => NEVER_SHOWN.has(s))) return false;
      if (this.products.some((p) => under(rel, p))) return false;
      const st = await lstat(abs).catch(() => null);
      if (!st) return false;
      if (st.isDirectory()) {
        const inside = (await matchFiles(root, [rel])).filter((f) => !visible.has(f)).slice(0, 200);
        for (const f of inside) found.add(f);
        return inside.length > 0;
      }
      if (visible.has(rel)) return false;
      found.add(rel);
      return true;
    };
    for (const t of tokens.slice(0, 5000)) {
      const bases = isAbsolute(t) ? [''] : [root, ...(/^\.\.?\//.test(t) ? absDirs : [])];
      for (const b of bases) {
        const abs = b === '' ? normalize(t) : resolve(b, t);
        let hit = await consider(abs);
        // `Cannot find module './pages'` names a file without its extension.
        for (const ext of ['.js', '.mjs', '.cjs', '.json', '.ts', '/index.js']) {
          if (hit) break;
          if (!/\.[a-z]+$/i.test(abs) || ext === '/index.js') hit = await consider(abs + ext);
        }
        if (hit) break;
      }
    }
    return [...found].sort();
  }
}

/** Path-like words of a log: quoted strings and words with a `/` or a file extension. */
export function pathTokens(text: string): string[] {
  const out = new Set<string>();
  const add = (raw: string) => {
    let t = raw.trim().replace(/^file:\/\//, '');
    t = t.replace(/[:.,;]+$/, '').replace(/(?::\d+){1,2}$/, '');
    if (t.length === 0 || t.length > 4096 || t.includes('\0')) return;
    if (!t.includes('/') && !/\.[A-Za-z0-9]{1,8}$/.test(t)) return;
    if (/^[a-z]+:\/\//i.test(t)) return;
    out.add(t);
  };
  for (const m of text.matchAll(/'([^'\n]+)'|"([^"\n]+)"|`([^`\n]+)`/g))
    add(m[1] ?? m[2] ?? m[3] ?? '');
  for (const word of text.split(/[\s'"`()<>[\]{},;=]+/)) add(word);
  return [...out];
}

/** Copy `files` (relative) from `root` into `dest`, making directories; files gone meanwhile are left out. */
async function copyFiles(root: string, dest: string, files: readonly string[]): Promise<void> {
  const made = new Set<string>();
  const one = async (rel: string) => {
    const dir = dirname(join(dest, rel));
    if (!made.has(dir)) {
      await mkdir(dir, { recursive: true });
      made.add(dir);
    }
    // A clone where the filesystem can; a plain copy elsewhere.
    await copyFile(join(root, rel), join(dest, rel), constants.COPYFILE_FICLONE).catch(
      (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' && err.code !== 'EISDIR') throw err;
      },
    );
  };
  for (let i = 0; i < files.length; i += 32) await Promise.all(files.slice(i, i + 32).map(one));
}

/**
 * bwrap arguments showing setup's products. A `node_modules` is a writable directory of the
 * sandbox whose entries are bound read-only (links recreated as links, so pnpm's layout
 * resolves), so tools can still create their caches in it; tools' caches already there are
 * not shown. Past `budget` arguments, the rest are bound whole.
 */
async function productMounts(
  root: string,
  scratch: string,
  products: readonly string[],
  budget: number,
): Promise<string[]> {
  const args: string[] = [];
  // Shallow ones first: the root's node_modules is where caches are written.
  const ordered = [...products].sort((a, b) => a.split('/').length - b.split('/').length);
  for (const rel of ordered) {
    const abs = join(root, rel);
    const st = await lstat(abs).catch(() => null);
    if (!st) continue;
    if (!st.isDirectory()) {
      args.push('--ro-bind', abs, abs);
      continue;
    }
    const entries = await readdir(abs, { withFileTypes: true }).catch(() => [] as Dirent[]);
    if (args.length + entries.length * 3 > budget) {
      args.push('--ro-bind', abs, abs);
      continue;
    }
    await mkdir(join(scratch, rel), { recursive: true });
    for (const e of entries) {
      if (MODULE_CACHES.has(e.name)) continue;
      const p = join(abs, e.name);
      if (e.isSymbolicLink()) args.push('--symlink', await readlink(p), p);
      else args.push('--ro-bind', p, p);
    }
  }
  return args;
}

/** bwrap arguments for everything outside the project. */
async function hostMounts(
  rootDir: string,
  env: Record<string, string | undefined>,
): Promise<string[]> {
  const args: string[] = [];
  const shown: string[] = [];
  const covered = (p: string) => shown.some((s) => isInside(s, p));
  for (const dir of SYSTEM_DIRS) {
    const st = await lstat(dir).catch(() => null);
    if (!st) continue;
    if (st.isSymbolicLink()) args.push('--symlink', await readlink(dir), dir);
    else if (st.isDirectory()) {
      args.push('--ro-bind', dir, dir);
      shown.push(dir);
    }
  }
  if ((await lstat('/sys').catch(() => null))?.isDirectory())
    args.push('--ro-bind', '/sys', '/sys');
  // /etc/resolv.conf may link into /run (systemd-resolved): show its target too.
  const resolvConf = await realpath('/etc/resolv.conf').catch(() => null);
  if (resolvConf !== null && !covered(resolvConf)) args.push('--ro-bind', resolvConf, resolvConf);
  args.push('--tmpfs', '/tmp', '--tmpfs', '/var/tmp', '--dev', '/dev');
  args.push('--unshare-pid', '--proc', '/proc', '--die-with-parent');

  const extra = new Set<string>();
  const nodePrefix = dirname(dirname(await realpath(process.execPath)));
  extra.add(nodePrefix);
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const d = normalize(dir);
    extra.add(d);
    // A prefix keeps its programs in bin/ as links into its lib/ (npm -g, yarn, nvm's Node):
    // show the prefix, or the links dangle. Never one that holds the project (skipped below).
    if (basename(d) === 'bin' && dirname(d) !== '/') extra.add(dirname(d));
  }

  const home = env.HOME && isAbsolute(env.HOME) ? normalize(env.HOME) : null;
  const homeShown =
    home !== null && home !== '/' && !covered(home) && !isInside(rootDir, home) ? home : null;
  const homeBinds = new Set<string>();
  for (const dir of extra) {
    if (covered(dir) || isInside(rootDir, dir) || isInside(dir, rootDir)) continue;
    if (!(await lstat(dir).catch(() => null))) continue;
    if (homeShown !== null && isInside(homeShown, dir)) {
      if (dir === homeShown) continue;
      const first = relative(homeShown, dir).split('/')[0]!;
      homeBinds.add(HOME_SHARED.has(first) ? dir : join(homeShown, first));
    } else args.push('--ro-bind', dir, dir);
  }
  if (homeShown !== null) {
    args.push('--tmpfs', homeShown);
    for (const rel of HOME_KEEP) homeBinds.add(join(homeShown, rel));
    for (const p of [...homeBinds].sort())
      if (await lstat(p).catch(() => null)) args.push('--ro-bind', p, p);
  }
  return args;
}

/**
 * Find files that make a gate pass in the sandbox, by rerunning it with more of the project
 * shown. `probe(extra)` runs the gate sandboxed with `extra` files added and says whether it
 * passed. `first` (files named in the log) are tried first.
 *
 * Assumes that showing more files never makes the gate fail. With that, it finds, one at a time,
 * the file whose adding makes the shortest passing prefix of the candidates pass (a binary
 * search), until the files found so far are enough. At most `maxRuns` probes.
 */
export async function bisectMissing(
  candidates: readonly string[],
  probe: (extra: string[]) => Promise<boolean>,
  maxRuns: number,
): Promise<{ files: string[]; runs: number; outcome: 'found' | 'none' | 'budget' }> {
  let runs = 0;
  const tryWith = async (extra: string[]) => {
    runs++;
    return probe(extra);
  };
  if (candidates.length === 0) return { files: [], runs, outcome: 'none' };
  if (runs >= maxRuns) return { files: [], runs, outcome: 'budget' };
  if (!(await tryWith([...candidates]))) return { files: [], runs, outcome: 'none' };
  const required: string[] = [];
  let pool = [...candidates];
  for (;;) {
    // Invariant: required + pool passes; required alone was not shown to pass.
    let lo = 0;
    let hi = pool.length;
    while (hi - lo > 1) {
      if (runs >= maxRuns) return { files: required, runs, outcome: 'budget' };
      const mid = Math.floor((lo + hi) / 2);
      if (await tryWith([...required, ...pool.slice(0, mid)])) hi = mid;
      else lo = mid;
    }
    required.push(pool[hi - 1]!);
    pool = pool.slice(0, hi - 1);
    if (pool.length === 0) return { files: required, runs, outcome: 'found' };
    if (runs >= maxRuns) return { files: required, runs, outcome: 'budget' };
    if (await tryWith([...required])) return { files: required, runs, outcome: 'found' };
  }
}

/** At most this many bytes of a log are searched for file names (its start and its end). */
const LOG_SCAN_BYTES = 2 * 1024 * 1024;

/** The text of a log to look for file names in (its start and end when it is long). */
export async function readLogForNames(path: string | null): Promise<string> {
  if (path === null) return '';
  const buf = await readFile(path).catch(() => Buffer.alloc(0));
  if (buf.length <= 2 * LOG_SCAN_BYTES) return buf.toString('utf8');
  return `${buf.subarray(0, LOG_SCAN_BYTES).toString('utf8')}\n${buf.subarray(-LOG_SCAN_BYTES).toString('utf8')}`;
}

/** `a, b and 3 more` */
function listed(files: readonly string[], max = 10): string {
  const shown = files.slice(0, max).join(', ');
  return files.length > max ? `${shown} and ${files.length - max} more` : shown;
}

/**
 * Why a gate that passes outside the sandbox fails in it: the project files it is missing, taken
 * from its log and confirmed by a sandboxed rerun, else found by bisecting over the files it was
 * not shown (at most `maxRuns` sandboxed reruns), else that nothing in the project explains it.
 * `probe(extra, n)` reruns the gate sandboxed with `extra` shown too and says whether it passed.
 */
export async function diagnoseSandboxFailure(args: {
  sandbox: GateSandbox;
  gate: ResolvedGate;
  gates: readonly ResolvedGate[];
  visible: readonly string[];
  logPath: string | null;
  maxRuns: number;
  probe: (extra: string[], n: number) => Promise<{ passed: boolean; log: string }>;
}): Promise<string> {
  const visible = new Set(args.visible);
  const text = await readLogForNames(args.logPath);
  const bwrapLine = /^bwrap: .*$/m.exec(text);
  if (bwrapLine) return `the sandbox could not be set up: ${bwrapLine[0]}`;
  const named = await args.sandbox.namedInLog(text, visible);
  let runs = 0;
  // Every sandboxed rerun goes through here: `runs` counts them all.
  const probeLog = (extra: string[]) => args.probe(extra, ++runs);
  const probe = async (extra: string[]) => (await probeLog(extra)).passed;
  const advice = async (files: string[]) => {
    const notes: string[] = [];
    for (const other of args.gates) {
      if (other.id === args.gate.id || other.outputs.length === 0) continue;
      const outs = new Set(await matchFiles(args.sandbox.rootDir, other.outputs));
      const theirs = files.filter((f) => outs.has(f));
      if (theirs.length > 0)
        notes.push(
          `${listed(theirs, 3)} ${theirs.length === 1 ? 'is an output' : 'are outputs'} of gate ${other.id}: add it to \`needs\` (transitively)`,
        );
    }
    if (notes.length > 0) return `; ${notes.join('; ')}`;
    return files.length === 1 ? '; add it to `inputs`' : '; add them to `inputs`';
  };
  // Follow the log: show what it names, and what the next log names (an import chain), while
  // each rerun names something new.
  const fromLog: string[] = [...named];
  while (fromLog.length > 0 && runs < args.maxRuns) {
    const r = await probeLog(fromLog);
    if (r.passed)
      return `inputs incomplete: it reads ${listed(fromLog)}, not shown in the sandbox (named in its log; the gate passes in the sandbox with ${fromLog.length === 1 ? 'it' : 'them'})${await advice(fromLog)}`;
    const shown = new Set([...visible, ...fromLog]);
    const more = await args.sandbox.namedInLog(r.log, shown);
    if (more.length === 0) break;
    fromLog.push(...more);
  }
  const hidden = await args.sandbox.hiddenFiles(visible);
  const rest = new Set(fromLog);
  const candidates = [...fromLog, ...hidden.filter((f) => !rest.has(f))];
  const found = await bisectMissing(candidates, probe, Math.max(0, args.maxRuns - runs));
  const how = `${runs} sandboxed rerun${runs === 1 ? '' : 's'} over ${candidates.length} project file${candidates.length === 1 ? '' : 's'} not shown`;
  if (found.outcome === 'found')
    return `inputs incomplete: it needs ${listed(found.files)}, not shown in the sandbox (found by bisecting: ${how})${await advice(found.files)}`;
  if (found.outcome === 'none')
    return `passes outside the sandbox but not in it, and no file of the project makes it pass there (${how}): it depends on something the sandbox does not show, such as a path outside the project, .git, or a tool's cache`;
  const sofar = found.files.length > 0 ? `; needed so far: ${listed(found.files)}` : '';
  const inLog = fromLog.length > 0 ? `; its logs name ${listed(fromLog)}` : '';
  return `inputs incomplete: bisecting stopped at the limit of ${args.maxRuns} sandboxed reruns (${how})${sofar}${inLog}`;
}
