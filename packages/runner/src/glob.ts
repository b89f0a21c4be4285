/**
 * A small glob matcher for `inputs`/`outputs` (Node 20 has no stable `fs.glob`).
 * Supported: `*`, `?`, `**` (any number of directories), `{a,b}`, `[abc]`, a leading `!`
 * to exclude, and a pattern naming a directory (or ending in `/`) meaning everything in it.
 * Paths are POSIX, relative to the root; `.git` and `.gatehouse` are never matched, and
 * `node_modules` directories are entered only when a pattern's literal prefix names one.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
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
import { HashIndex, nowNs } from './hash-index.js';

export { globToRegExp, workTreeTop };

const ALWAYS_IGNORED = new Set(['.git', '.gatehouse']);

function hasMagic(segment: string): boolean {
  return /[*?[{]/.test(segment);
}

interface Compiled {
  negate: boolean;
  re: RegExp;
  /** Also matches everything under a matched directory. */
  under: RegExp;
  /** Leading literal directory, where walking starts. */
  base: string;
  /** For `X/**`: matches what `X` matches (every path below such a directory matches). */
  dirOfAll: RegExp | null;
}

function compile(pattern: string): Compiled {
  const negate = pattern.startsWith('!');
  let p = negate ? pattern.slice(1) : pattern;
  p = p.replace(/^\.\//, '').replace(/\/+$/, '');
  const segments = p.split('/');
  const literal: string[] = [];
  for (const s of segments.slice(0, -1)) {
    if (hasMagic(s)) break;
    literal.push(s);
  }
  const re = globToRegExp(p);
  const under = new RegExp(`${re.source.slice(0, -1)}/.*$`);
  const dirOfAll = p.endsWith('/**') && p.length > 3 ? globToRegExp(p.slice(0, -3)) : null;
  return { negate, re, under, base: literal.join('/'), dirOfAll };
}

/** Every path below directory `dir` is matched by `c` (its own verdict, before negation). */
function coversAllUnder(c: Compiled, dir: string): boolean {
  if (c.re.test(dir) || c.under.test(dir)) return true;
  if (c.dirOfAll === null) return false;
  for (let at = dir.length; at > 0; at = dir.lastIndexOf('/', at - 1)) {
    if (c.dirOfAll.test(dir.slice(0, at))) return true;
  }
  return false;
}

/** Some path below directory `dir` may be matched by `c` (a superset: true when unsure). */
function mayMatchUnder(c: Compiled, dir: string): boolean {
  if (c.base === '') return true;
  return c.base === dir || c.base.startsWith(`${dir}/`) || dir.startsWith(`${c.base}/`);
}

/**
 * Whether a file below directory `dir` can be matched at all: the last pattern that excludes
 * everything below it hides what came before, so only the patterns after it can add a file.
 * Skipping such a directory leaves the result as it was and spares the walk: a package gate's
 * inputs (the files at the top, then its own packages) would otherwise read the whole workspace.
 */
function worthWalking(compiled: readonly Compiled[], dir: string): boolean {
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

/** Every file under `root` matched by the patterns, sorted, as POSIX relative paths. */
export async function matchFiles(root: string, patterns: readonly string[]): Promise<string[]> {
  const compiled = patterns.filter((p) => p.trim() !== '').map(compile);
  const positives = compiled.filter((c) => !c.negate);
  if (positives.length === 0) return [];
  const bases = [...new Set(positives.map((c) => c.base))].sort();
  // Walk each base once; a base inside another base is covered by it.
  const roots = bases.filter(
    (b, i) => !bases.slice(0, i).some((o) => o === '' || b.startsWith(`${o}/`)),
  );
  const found = new Set<string>();
  const isMatch = (rel: string) => {
    let hit = false;
    for (const c of compiled) {
      if (c.re.test(rel) || c.under.test(rel)) hit = !c.negate;
    }
    return hit;
  };
  let insideModules = false;
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(rel === '' ? root : join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (ALWAYS_IGNORED.has(e.name)) continue;
      if (e.name === 'node_modules' && e.isDirectory() && !insideModules) continue;
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (worthWalking(compiled, childRel)) await walk(childRel);
      } else if ((e.isFile() || e.isSymbolicLink()) && isMatch(childRel)) found.add(childRel);
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
    await walk(base);
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

async function hashFileMemo(path: string, index: HashIndex): Promise<string> {
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
    const sha = await hashFileMemo(join(root, path), index).catch(() => null);
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
    const sha = await hashFileMemo(full, index).catch(() => null);
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
      const sha = await hashFileMemo(full, index).catch(() => null);
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
