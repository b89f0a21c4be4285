/**
 * A small glob matcher for `inputs`/`outputs` (Node 20 has no stable `fs.glob`).
 * Supported: `*`, `?`, `**` (any number of directories), `{a,b}`, `[abc]`, a leading `!`
 * to exclude, and a pattern naming a directory (or ending in `/`) meaning everything in it.
 * Paths are POSIX, relative to the root; `.git` and `.gatehouse` are never matched, and
 * `node_modules` directories are entered only when a pattern's literal prefix names one.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import {
  discoverWorkspace,
  findWorkspaceRoot,
  realPathOf,
  globToRegExp,
  isRootGlob,
  ROOT_GLOB_PREFIX,
  splitInputGlob,
  workTreeTop,
} from '@gatehouse-ci/core';
import { HashIndex, nowNs, RACY_WINDOW_NS } from './hash-index.js';

export { globToRegExp, workTreeTop };

const ALWAYS_IGNORED = new Set(['.git', '.gatehouse']);

/** One pattern with wildcards, matched by regular expressions. */
interface Compiled {
  kind: 'glob';
  negate: boolean;
  re: RegExp;
  /** Also matches everything under a matched directory. */
  under: RegExp;
  /** Leading literal directory, where walking starts. */
  base: string;
  /** For `X/**`: matches what `X` matches (every path below such a directory matches). */
  dirOfAll: RegExp | null;
}

/**
 * A run of consecutive patterns of the same sign with no wildcard (`packages/a/**`,
 * `!packages/b/**`, `package.json`), matched by looking up a path's directories in sets instead
 * of testing one expression per pattern: the default inputs of a package gate exclude every
 * other package this way, tens of patterns tried on every file. Same-sign patterns next to each
 * other commute under "the last pattern that matches decides", so joining them changes nothing.
 */
interface Literals {
  kind: 'literals';
  negate: boolean;
  /** `L`: L itself and every path below it. */
  selfAndBelow: Set<string>;
  /** `L/**`: every path strictly below L. */
  below: Set<string>;
  /** Where walking starts, one per pattern (as {@link Compiled.base}). */
  bases: Set<string>;
  /** Every base and each directory above it (for {@link mayMatchUnder}). */
  baseAndAbove: Set<string>;
}

type Matcher = Compiled | Literals;

function hasMagic(segment: string): boolean {
  return /[*?[{]/.test(segment);
}

/** A pattern without `!`, `./` and trailing `/`. */
function normalise(pattern: string): { negate: boolean; p: string } {
  const negate = pattern.startsWith('!');
  const p = (negate ? pattern.slice(1) : pattern).replace(/^\.\//, '').replace(/\/+$/, '');
  return { negate, p };
}

/** The leading literal directories of a pattern, where walking starts. */
function baseOf(p: string): string {
  const literal: string[] = [];
  for (const s of p.split('/').slice(0, -1)) {
    if (hasMagic(s)) break;
    literal.push(s);
  }
  return literal.join('/');
}

const compiledMemo = new Map<string, Compiled>();

function compile(pattern: string): Compiled {
  const known = compiledMemo.get(pattern);
  if (known) return known;
  const { negate, p } = normalise(pattern);
  const re = globToRegExp(p);
  const under = new RegExp(`${re.source.slice(0, -1)}/.*$`);
  const dirOfAll = p.endsWith('/**') && p.length > 3 ? globToRegExp(p.slice(0, -3)) : null;
  const c: Compiled = { kind: 'glob', negate, re, under, base: baseOf(p), dirOfAll };
  if (compiledMemo.size < 10_000) compiledMemo.set(pattern, c);
  return c;
}

/** `L` or `L/**` with no wildcard in L, as `{ dir: L, strict }`; null for any other pattern. */
function literalOf(p: string): { dir: string; strict: boolean } | null {
  const strict = p.endsWith('/**');
  const dir = strict ? p.slice(0, -3) : p;
  if (dir === '' || hasMagic(dir) || dir.split('/').some((s) => s === '' || s === '**'))
    return null;
  return { dir, strict };
}

const compiledListMemo = new Map<string, Matcher[]>();

/** The patterns as matchers, in order, consecutive literal patterns of one sign joined. */
function compileAll(patterns: readonly string[]): Matcher[] {
  // The gates of one package share their lists: compile each list once per process.
  const memoKey = JSON.stringify(patterns);
  const known = compiledListMemo.get(memoKey);
  if (known) return known;
  const out: Matcher[] = [];
  for (const pattern of patterns) {
    if (pattern.trim() === '') continue;
    const { negate, p } = normalise(pattern);
    const lit = literalOf(p);
    if (lit === null) {
      out.push(compile(pattern));
      continue;
    }
    let group = out.at(-1);
    if (group?.kind !== 'literals' || group.negate !== negate) {
      group = {
        kind: 'literals',
        negate,
        selfAndBelow: new Set(),
        below: new Set(),
        bases: new Set(),
        baseAndAbove: new Set(),
      };
      out.push(group);
    }
    (lit.strict ? group.below : group.selfAndBelow).add(lit.dir);
    const base = baseOf(p);
    group.bases.add(base);
    for (let at = base.length; at > 0; at = base.lastIndexOf('/', at - 1))
      group.baseAndAbove.add(base.slice(0, at));
  }
  if (compiledListMemo.size < 10_000) compiledListMemo.set(memoKey, out);
  return out;
}

/** `rel` is matched by `m` (before negation): the path itself, or a directory above it. */
function matches(m: Matcher, rel: string): boolean {
  if (m.kind === 'glob') return m.re.test(rel) || m.under.test(rel);
  if (m.selfAndBelow.has(rel)) return true;
  for (let at = rel.lastIndexOf('/'); at > 0; at = rel.lastIndexOf('/', at - 1)) {
    const dir = rel.slice(0, at);
    if (m.selfAndBelow.has(dir) || m.below.has(dir)) return true;
  }
  return false;
}

/** Every path below directory `dir` is matched by `m` (its own verdict, before negation). */
function coversAllUnder(m: Matcher, dir: string): boolean {
  if (m.kind === 'literals') {
    for (let at = dir.length; at > 0; at = dir.lastIndexOf('/', at - 1)) {
      const d = dir.slice(0, at);
      if (m.selfAndBelow.has(d) || m.below.has(d)) return true;
    }
    return false;
  }
  if (m.re.test(dir) || m.under.test(dir)) return true;
  if (m.dirOfAll === null) return false;
  for (let at = dir.length; at > 0; at = dir.lastIndexOf('/', at - 1)) {
    if (m.dirOfAll.test(dir.slice(0, at))) return true;
  }
  return false;
}

/** Some path below directory `dir` may be matched by `m` (a superset: true when unsure). */
function mayMatchUnder(m: Matcher, dir: string): boolean {
  if (m.kind === 'glob') {
    if (m.base === '') return true;
    return m.base === dir || m.base.startsWith(`${dir}/`) || dir.startsWith(`${m.base}/`);
  }
  // A base at the top, the directory itself or one below it (`baseAndAbove`), or one above it.
  if (m.bases.has('') || m.baseAndAbove.has(dir)) return true;
  for (let at = dir.lastIndexOf('/'); at > 0; at = dir.lastIndexOf('/', at - 1)) {
    if (m.bases.has(dir.slice(0, at))) return true;
  }
  return false;
}

/**
 * Whether a file below directory `dir` can be matched at all: the last pattern that excludes
 * everything below it hides what came before, so only the patterns after it can add a file.
 * Skipping such a directory leaves the result as it was and spares the walk: a package gate's
 * inputs (the files at the top, then its own packages) would otherwise read the whole workspace.
 */
function worthWalking(compiled: readonly Matcher[], dir: string): boolean {
  let from = 0;
  for (let i = compiled.length - 1; i >= 0; i--) {
    if (compiled[i]!.negate && coversAllUnder(compiled[i]!, dir)) {
      from = i + 1;
      break;
    }
  }
  for (let i = from; i < compiled.length; i++) {
    const c = compiled[i]!;
    if (!c.negate && mayMatchUnder(c, dir)) return true;
  }
  return false;
}

/** One entry of a directory, as the walk needs it. */
interface DirEntry {
  name: string;
  /** A directory (not a link to one): walked into. */
  dir: boolean;
  /** A regular file or a symbolic link: a candidate path. */
  file: boolean;
}

/**
 * Directory listings of this process, kept with the directory's stat. Every package gate walks
 * the same directories (the workspace's top, `packages/`, a dependency's `src/`): a listing is
 * reused while the directory's mtime, ctime, inode and device are unchanged (adding, removing
 * or renaming an entry moves its mtime), and only when they are older than the listing by more
 * than the racy window, so a change within the filesystem's timestamp granularity is never missed.
 */
const LISTINGS_MAX = 50_000;
const listings = new Map<string, { stamp: string; settled: bigint; entries: DirEntry[] }>();

/** The entries of directory `abs`, or null when it cannot be read. */
function listDir(abs: string): DirEntry[] | null {
  let st;
  try {
    st = statSync(abs, { bigint: true });
  } catch {
    return null;
  }
  const stamp = `${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`;
  const known = listings.get(abs);
  if (known?.stamp === stamp && st.mtimeNs < known.settled && st.ctimeNs < known.settled)
    return known.entries;
  const listedAt = nowNs();
  let entries: DirEntry[];
  try {
    entries = readdirSync(abs, { withFileTypes: true }).map((e) => ({
      name: e.name,
      dir: e.isDirectory(),
      file: e.isFile() || e.isSymbolicLink(),
    }));
  } catch {
    return null;
  }
  if (listings.size >= LISTINGS_MAX) listings.clear();
  listings.set(abs, { stamp, settled: listedAt - RACY_WINDOW_NS, entries });
  return entries;
}

/** Every file under `root` matched by the patterns, sorted, as POSIX relative paths. */
export async function matchFiles(root: string, patterns: readonly string[]): Promise<string[]> {
  const compiled = compileAll(patterns);
  const positives = compiled.filter((c) => !c.negate);
  if (positives.length === 0) return [];
  const bases = [
    ...new Set(positives.flatMap((c) => (c.kind === 'glob' ? [c.base] : [...c.bases]))),
  ].sort();
  // Walk each base once; a base inside another base is covered by it.
  const roots = bases.filter(
    (b, i) => !bases.slice(0, i).some((o) => o === '' || b.startsWith(`${o}/`)),
  );
  const found = new Set<string>();
  const isMatch = (rel: string) => {
    let hit = false;
    for (const c of compiled) {
      if (matches(c, rel)) hit = !c.negate;
    }
    return hit;
  };
  let insideModules = false;
  const walk = (rel: string): void => {
    const entries = listDir(rel === '' ? root : join(root, rel));
    if (entries === null) return;
    for (const e of entries) {
      if (ALWAYS_IGNORED.has(e.name)) continue;
      if (e.name === 'node_modules' && e.dir && !insideModules) continue;
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.dir) {
        if (worthWalking(compiled, childRel)) walk(childRel);
      } else if (e.file && isMatch(childRel)) found.add(childRel);
    }
  };
  for (const base of roots) {
    if (base !== '') {
      const st = await stat(join(root, base)).catch(() => null);
      if (st?.isFile()) {
        if (isMatch(base)) found.add(base);
        continue;
      }
      if (!st) continue;
    }
    insideModules = base.split('/').includes('node_modules');
    walk(base);
  }
  return [...found].sort();
}

/** Files up to this size are hashed from one read: a stream's setup and 64 KiB buffer cost more than the file. */
const ONE_READ_MAX = 1024 * 1024;

/**
 * sha256 of a file's bytes: read at once when `size` (from a `stat` the caller already made)
 * is small, streamed otherwise.
 */
export async function hashFile(path: string, size?: number): Promise<string> {
  if (size !== undefined && size <= ONE_READ_MAX)
    // One synchronous read: a small file costs one system call each for open, read and close
    // instead of four round trips through the thread pool.
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

// Gates often share inputs (`src/**`): hash each file version once per process. A file is
// re-hashed when its size, mtime, ctime, inode or device changed. Across runs, the run's
// persisted index (see `hash-index.ts`) answers for files whose stat is unchanged and settled.
const hashMemo = new Map<string, { stamp: string; sha: Promise<string> }>();
const MEMO_MAX = 200_000;

/** sha256 of a file, answered by this process's memo or `index` when its stat is unchanged. */
export async function hashFileIndexed(path: string, index: HashIndex): Promise<string> {
  const st = statSync(path, { bigint: true });
  const stamp = `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`;
  const known = hashMemo.get(path);
  if (known && known.stamp === stamp) return known.sha;
  if (hashMemo.size >= MEMO_MAX) hashMemo.clear();
  const indexed = index.lookup(path, st);
  const startedAt = nowNs();
  const sha =
    indexed !== null
      ? Promise.resolve(indexed)
      : hashFile(path, Number(st.size)).then((h) => {
          index.record(path, st, h, startedAt);
          return h;
        });
  hashMemo.set(path, { stamp, sha });
  sha.catch(() => hashMemo.delete(path));
  return sha;
}

/** Files under `root` matched by `patterns`, with their content hashes, named `${prefix}<path>`. */
async function hashMatched(
  root: string,
  patterns: readonly string[],
  prefix: string,
  index: HashIndex,
): Promise<Array<{ path: string; sha256: string }>> {
  const out: Array<{ path: string; sha256: string }> = [];
  for (const path of await matchFiles(root, patterns)) {
    const sha = await hashFileIndexed(join(root, path), index).catch(() => null);
    if (sha !== null) out.push({ path: `${prefix}${path}`, sha256: sha });
  }
  return out;
}

/**
 * Matched files with their content hashes, sorted by path; `index` remembers them across runs.
 * A pattern starting with `//` (`!//` to exclude) is matched in `workspaceRoot` (by default
 * the one core finds for `root`), and its files are named with the `//` (`//tsconfig.base.json`),
 * so they never read as files of `root`.
 */
export async function hashInputs(
  root: string,
  patterns: readonly string[],
  index: HashIndex = HashIndex.empty(),
  workspaceRoot?: string,
): Promise<Array<{ path: string; sha256: string }>> {
  const rooted = patterns.filter(isRootGlob);
  const out = await hashMatched(
    root,
    patterns.filter((p) => !isRootGlob(p)),
    '',
    index,
  );
  if (rooted.length > 0) {
    const top = workspaceRoot ?? findWorkspaceRoot(root)?.dir;
    if (top === undefined)
      throw new Error(`${rooted[0]} names the workspace root, and ${root} is in none`);
    const bodies = rooted.map((p) => {
      const { negate, body } = splitInputGlob(p);
      return `${negate ? '!' : ''}${body}`;
    });
    out.push(...(await hashMatched(top, bodies, ROOT_GLOB_PREFIX, index)));
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The files git knows in `root`: tracked, plus untracked ones it does not ignore (what
 * turbo hashes by default), with their content hashes, sorted by path. `.gatehouse/` and
 * `node_modules/` are left out, and so are files that no longer exist or are not regular
 * files. `null` when
 * `root` is not inside a git work tree.
 */
export async function hashTracked(
  root: string,
  index: HashIndex = HashIndex.empty(),
  keep: (path: string) => boolean = () => true,
): Promise<Array<{ path: string; sha256: string }> | null> {
  const listed = await new Promise<string | null>((resolve) => {
    execFile(
      'git',
      // Run in `root`: paths come relative to it, and only files below it.
      ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
      { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: gitEnv() },
      (err, stdout) => resolve(err ? null : stdout),
    );
  });
  if (listed === null) return null;
  const paths = [...new Set(listed.split('\0').filter(Boolean))]
    // Installed dependencies are setup's products, covered by its key and the lockfiles.
    .filter((p) => !p.split('/').some((seg) => ALWAYS_IGNORED.has(seg) || seg === 'node_modules'))
    .filter(keep)
    .sort();
  const out: Array<{ path: string; sha256: string }> = [];
  for (const path of paths) {
    const full = join(root, path);
    const st = await lstat(full).catch(() => null);
    if (!st?.isFile()) continue;
    const sha = await hashFileIndexed(full, index).catch(() => null);
    if (sha !== null) out.push({ path, sha256: sha });
  }
  return out;
}

/**
 * The workspace a config directory is a package of (a root declaring a workspace that lists the
 * directory among its packages), with every package's directory relative to it; else null.
 */
export function workspaceOfPackage(root: string): { dir: string; packageDirs: string[] } | null {
  const ws = findWorkspaceRoot(root);
  if (ws === null || ws.by === 'git') return null;
  const self = relative(ws.dir, realPathOf(root)).split(sep).join('/');
  if (self === '' || self.startsWith('..')) return null;
  const packageDirs = discoverWorkspace(ws.dir).packages.map((p) => p.dir);
  return packageDirs.includes(self) ? { dir: ws.dir, packageDirs } : null;
}

/**
 * For a config that is a package of a workspace (`packages/web/gatehouse.yml` under a root with
 * `pnpm-workspace.yaml` or `package.json#workspaces`): the files git knows at the workspace root
 * outside every workspace package (root configs such as `biome.json`, `tsconfig.base.json`,
 * shared scripts), as `//`-paths, with their content hashes. A gate without `inputs` is keyed on
 * them too, as a gate of `packages:` is (docs/decisions/0016-workspace-root-inputs.md): an edit
 * of a root config the package's tools read reruns it. Null for any other config.
 */
export async function hashWorkspaceShared(
  root: string,
  index: HashIndex = HashIndex.empty(),
): Promise<Array<{ path: string; sha256: string }> | null> {
  const ws = workspaceOfPackage(root);
  if (ws === null) return null;
  const inPackage = (p: string): boolean =>
    ws.packageDirs.some((d) => p === d || p.startsWith(`${d}/`));
  const listed = await hashTracked(ws.dir, index, (p) => !inPackage(p));
  return listed === null
    ? null
    : listed.map((f) => ({ path: `${ROOT_GLOB_PREFIX}${f.path}`, sha256: f.sha256 }));
}

/**
 * The package-manager files (lockfiles and their settings) of `root` and of every directory
 * above it up to the top of its git work tree: a project inside a workspace installs from
 * the workspace root's lockfile, which a change there must reach. Paths are relative to
 * `root` (`../../pnpm-lock.yaml`). Outside a git work tree only `root` itself is looked at.
 */
export async function hashLockfiles(
  root: string,
  names: readonly string[],
  index: HashIndex = HashIndex.empty(),
): Promise<Array<{ path: string; sha256: string }>> {
  const top = workTreeTop(root);
  const out: Array<{ path: string; sha256: string }> = [];
  // The top is a real path: compare real paths.
  let dir = await realpath(root).catch(() => resolve(root));
  const start = dir;
  const stop = top === null ? dir : resolve(top);
  for (;;) {
    for (const name of names) {
      const full = join(dir, name);
      const st = await lstat(full).catch(() => null);
      if (!st?.isFile()) continue;
      const sha = await hashFileIndexed(full, index).catch(() => null);
      if (sha !== null) out.push({ path: relative(start, full), sha256: sha });
    }
    // Stop at the work tree's top; a root outside it (odd) stops at once.
    if (dir === stop || !dir.startsWith(stop) || dirname(dir) === dir) break;
    dir = dirname(dir);
  }
  return out;
}

/** The environment for git: the user's, without variables that would point it elsewhere. */
function gitEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE']) delete env[k];
  return env;
}
