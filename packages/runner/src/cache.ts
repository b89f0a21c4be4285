/**
 * The content-addressed gate cache under `<stateDir>/cache/`:
 * - `entries/<key>/` — `entry.json` (manifest, result, file list, checksum), `log.txt`,
 *   `evidence/**`, `outputs/**`; written to a temp dir and renamed into place;
 * - `index/<gate>.json` — the last manifest seen per gate, for `explain`;
 * - `setup.json` — key of the last setup that succeeded;
 * - `hashes` — content hashes of files by stat, so unchanged files are not read again (`hash-index.ts`).
 * Last use is the entry directory's mtime; eviction removes the least recently used.
 *
 * Everything here is replayed into a run, and anything that can write the project can write
 * it, so entries, the index and the setup record carry an HMAC-SHA256 under the project's
 * state key (kept outside the project, see `@gatehouse-ci/core` `projectStateKey`). State that
 * does not authenticate, or is damaged in any way (a directory where a file belongs, a file
 * where a directory belongs), is removed and the work done again. Without a key the cache is
 * off. Restored files are written strictly inside their root (see `confine.ts`).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createWriteStream,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  utimesSync,
  type Stats,
} from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline as pipeStreams } from 'node:stream/promises';
import { canonicalJson, type GateResult, type StateKey } from '@gatehouse-ci/core';
import { NEVER_WRITTEN, openInside, unsafeRelPath, writeInside } from './confine.js';
import { hashFile, hashFileIndexed } from './glob.js';
import { HashIndex } from './hash-index.js';
import { CACHE_FORMAT, type GateManifest } from './manifest.js';

/** Labels of the MACs, one per kind of file, so a MAC made for one never fits another. */
const MAC = {
  entry: 'gatehouse cache entry',
  index: 'gatehouse cache index',
  setup: 'gatehouse cache setup',
} as const;

/** A file stored in an entry. */
export interface EntryFile {
  /** POSIX path inside the entry dir, e.g. `log.txt`, `evidence/junit.xml`, `outputs/dist/a.js`. */
  path: string;
  sha256: string;
  bytes: number;
}

/** `entry.json`. */
export interface CacheEntry {
  format: number;
  key: string;
  /** Run that produced the entry. */
  runId: string;
  createdAt: string;
  manifest: GateManifest;
  result: GateResult;
  files: EntryFile[];
  /** HMAC-SHA256, under the project's state key, of the canonical JSON of every field above. */
  mac: string;
}

/** Outcome of a lookup. */
export type Lookup =
  | { kind: 'hit'; entry: CacheEntry; dir: string }
  | { kind: 'miss' }
  | { kind: 'corrupt'; reason: string };

const errno = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

/** Why a file listed in an entry is not one the cache writes, or null. */
function unsafeEntryPath(path: unknown): string | null {
  if (path === 'log.txt') return null;
  if (typeof path === 'string' && path.startsWith('evidence/'))
    return unsafeRelPath(path.slice('evidence/'.length));
  if (typeof path === 'string' && path.startsWith('outputs/'))
    return unsafeRelPath(path.slice('outputs/'.length), NEVER_WRITTEN);
  return `an unexpected path (${String(path)})`;
}

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listTree(join(dir, e.name), rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out.sort();
}

/** Copy a file tree (files only), creating directories. */
export async function copyTree(from: string, to: string): Promise<void> {
  for (const rel of await listTree(from)) {
    await mkdir(dirname(join(to, rel)), { recursive: true });
    await copyFile(join(from, rel), join(to, rel));
  }
}

export class GateCache {
  readonly dir: string;
  readonly #key: StateKey | null;

  readonly #hashes: HashIndex | null;

  /**
   * `key`: the project's state key; without one nothing is read from or written to the cache.
   * `hashes`: the run's index of content hashes, which then also answers for an entry's files
   * whose stat is unchanged and settled (an edit moves a file's ctime, which no one can set back).
   */
  constructor(stateDir: string, key: StateKey | null, hashes: HashIndex | null = null) {
    this.dir = join(stateDir, 'cache');
    this.#key = key;
    this.#hashes = hashes;
  }

  /** Whether the cache can be used (there is a state key). */
  get enabled(): boolean {
    return this.#key !== null;
  }

  private entryDir(key: string): string {
    return join(this.dir, 'entries', key);
  }

  /**
   * `<cache>/<sub>` as a real directory: anything else in the way (a file, a symbolic link) at
   * `cache/` or below is removed first.
   */
  private async ensureDir(sub: string): Promise<string> {
    let dir = this.dir;
    for (const seg of ['', ...sub.split('/').filter((s) => s !== '')]) {
      dir = seg === '' ? dir : join(dir, seg);
      const st = await lstat(dir).catch(() => null);
      if (st?.isDirectory()) continue;
      if (st) await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
    }
    return dir;
  }

  /** Whether an entry directory exists (without verifying it). */
  async has(key: string): Promise<boolean> {
    if (!this.enabled) return false;
    return (await stat(join(this.entryDir(key), 'entry.json')).catch(() => null)) !== null;
  }

  /**
   * Find and fully verify an entry; a damaged or unauthenticated one (or anything else standing
   * where it belongs) is removed and reported as corrupt. Never throws for what is on disk.
   */
  async lookup(key: string): Promise<Lookup> {
    if (!this.#key) return { kind: 'miss' };
    const dir = this.entryDir(key);
    const corrupt = async (reason: string): Promise<Lookup> => {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      return { kind: 'corrupt', reason };
    };
    // Synchronous calls: a replay makes a dozen small ones per gate, each cheaper without a round
    // trip through the thread pool.
    let st;
    try {
      st = lstatSync(dir);
    } catch (err) {
      if (errno(err) === 'ENOENT') return { kind: 'miss' };
      if (errno(err) === 'ENOTDIR') {
        // `cache` or `cache/entries` is a file: clear the way.
        await this.ensureDir('entries').catch(() => undefined);
        return { kind: 'corrupt', reason: 'cache/entries is not a directory' };
      }
      return corrupt(`the entry cannot be read (${errno(err) ?? (err as Error).message})`);
    }
    if (!st.isDirectory())
      return corrupt(`the entry is a ${st.isSymbolicLink() ? 'symbolic link' : 'file'}`);
    let raw: string;
    try {
      raw = readFileSync(join(dir, 'entry.json'), 'utf8');
    } catch (err) {
      return corrupt(
        errno(err) === 'ENOENT'
          ? 'entry.json is missing'
          : `entry.json cannot be read (${errno(err) ?? (err as Error).message})`,
      );
    }
    const reason = await this.verify(key, dir, raw);
    if (typeof reason === 'string') return corrupt(reason);
    try {
      const now = new Date();
      utimesSync(dir, now, now);
    } catch {
      // only the eviction order
    }
    return { kind: 'hit', entry: reason, dir };
  }

  private async verify(key: string, dir: string, raw: string): Promise<CacheEntry | string> {
    let entry: CacheEntry;
    try {
      entry = JSON.parse(raw) as CacheEntry;
    } catch {
      return 'entry.json is not valid JSON';
    }
    if (
      typeof entry !== 'object' ||
      entry === null ||
      entry.format !== CACHE_FORMAT ||
      entry.key !== key ||
      !Array.isArray(entry.files)
    ) {
      return 'entry.json does not describe this key';
    }
    const { mac, ...rest } = entry;
    if (!this.#key!.verify(MAC.entry, canonicalJson(rest), mac))
      return 'entry.json is not authenticated by the state key';
    if (!entry.files.some((f) => f.path === 'log.txt')) return 'log.txt is not listed';
    for (const f of entry.files) {
      const unsafe = unsafeEntryPath(f.path);
      if (unsafe !== null) return `entry.json lists ${unsafe}`;
      const p = join(dir, f.path);
      const st = lstatOrNull(p);
      if (!st) return `${f.path} is missing`;
      if (!st.isFile()) return `${f.path} is not a regular file`;
      if (st.size !== f.bytes) return `${f.path} has ${st.size} bytes, expected ${f.bytes}`;
      const sha =
        this.#hashes === null
          ? await hashFile(p, st.size)
          : await hashFileIndexed(p, this.#hashes).catch(() => null);
      if (sha !== f.sha256) return `${f.path} content does not match its sha256`;
    }
    return entry;
  }

  /**
   * Store an entry atomically: the log file, the evidence dir and the gate's output files
   * (relative to `rootDir`). Throws (and stores nothing) when an output resolves outside the
   * project or the evidence directory was replaced by a link.
   */
  async store(args: {
    key: string;
    runId: string;
    manifest: GateManifest;
    result: GateResult;
    logPath: string;
    evidenceDir: string;
    rootDir: string;
    outputs: string[];
  }): Promise<CacheEntry | null> {
    if (!this.#key) return null;
    const tmp = join(
      await this.ensureDir('tmp'),
      `${args.key}.${process.pid}.${randomBytes(4).toString('hex')}`,
    );
    await mkdir(tmp, { recursive: true });
    try {
      await copyFile(args.logPath, join(tmp, 'log.txt'));
      const evidence = await lstat(args.evidenceDir).catch(() => null);
      if (evidence?.isSymbolicLink())
        throw new Error('$GATEHOUSE_OUT was replaced by a symbolic link');
      if (evidence) await copyTree(args.evidenceDir, join(tmp, 'evidence'));
      for (const rel of args.outputs) {
        const from = await openInside(args.rootDir, rel);
        const to = join(tmp, 'outputs', rel);
        await mkdir(dirname(to), { recursive: true });
        await pipeStreams(from.createReadStream(), createWriteStream(to, { flags: 'wx' }));
      }
      const files: EntryFile[] = [];
      for (const rel of await listTree(tmp)) {
        const p = join(tmp, rel);
        const { size } = await stat(p);
        files.push({ path: rel, sha256: await hashFile(p, size), bytes: size });
      }
      const body: Omit<CacheEntry, 'mac'> = {
        format: CACHE_FORMAT,
        key: args.key,
        runId: args.runId,
        createdAt: new Date().toISOString(),
        manifest: args.manifest,
        result: args.result,
        files,
      };
      return await this.commit(tmp, body);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Authenticate `body` under the state key, write its entry.json into `tmp` and move it into place. */
  private async commit(tmp: string, body: Omit<CacheEntry, 'mac'>): Promise<CacheEntry> {
    const entry: CacheEntry = { ...body, mac: this.#key!.mac(MAC.entry, canonicalJson(body)) };
    await writeFile(join(tmp, 'entry.json'), `${JSON.stringify(entry, null, 2)}\n`);
    await this.ensureDir('entries');
    const dest = this.entryDir(body.key);
    await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
    return entry;
  }

  /**
   * Store an entry received from elsewhere (a remote cache), whose files were already checked
   * against its list: their paths must be ones the cache writes, and the entry is authenticated
   * under this project's key, so it is looked up and restored like any other. Throws (and
   * stores nothing) otherwise.
   */
  async importEntry(body: Omit<CacheEntry, 'mac'>, files: ReadonlyMap<string, Buffer>) {
    if (!this.#key) return;
    if (!body.files.some((f) => f.path === 'log.txt')) throw new Error('log.txt is not listed');
    for (const f of body.files) {
      const unsafe = unsafeEntryPath(f.path);
      if (unsafe !== null) throw new Error(`it lists ${unsafe}`);
    }
    const tmp = join(
      await this.ensureDir('tmp'),
      `${body.key}.${process.pid}.${randomBytes(4).toString('hex')}`,
    );
    try {
      for (const f of body.files) {
        await mkdir(dirname(join(tmp, f.path)), { recursive: true });
        await writeFile(join(tmp, f.path), files.get(f.path)!, { flag: 'wx' });
      }
      await mkdir(tmp, { recursive: true });
      await this.commit(tmp, body);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** The bytes of every file of a stored entry, by its path in the entry. */
  async entryFiles(entry: CacheEntry): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const f of entry.files)
      out.set(f.path, await readFile(join(this.entryDir(entry.key), f.path)));
    return out;
  }

  /**
   * Copy an entry's log, evidence and outputs back out. Outputs are written only inside
   * `rootDir` (never through a linked directory, never into `.git/` or `.gatehouse/`); throws
   * at the first file that cannot be, leaving the rest unrestored.
   */
  async restore(
    dir: string,
    entry: CacheEntry,
    to: { logPath: string; evidenceDir: string; rootDir: string },
  ): Promise<void> {
    mkdirSync(dirname(to.logPath), { recursive: true });
    copyFileSync(join(dir, 'log.txt'), to.logPath);
    mkdirSync(to.evidenceDir, { recursive: true });
    for (const f of entry.files) {
      if (f.path.startsWith('evidence/'))
        await writeInside(
          to.evidenceDir,
          f.path.slice('evidence/'.length),
          join(dir, f.path),
          new Set(),
        );
      else if (f.path.startsWith('outputs/'))
        await writeInside(
          to.rootDir,
          f.path.slice('outputs/'.length),
          join(dir, f.path),
          NEVER_WRITTEN,
          async (dest, size) =>
            size === f.bytes &&
            (await hashFileIndexed(dest, this.#hashes ?? HashIndex.empty()).catch(() => null)) ===
              f.sha256,
        );
    }
  }

  /**
   * Remove least recently used entries until the total size is at most `maxBytes`, never an
   * entry used within the last `spareUsedWithinMs` (another run may be restoring it).
   */
  async evict(
    maxBytes: number,
    opts: { spareUsedWithinMs?: number } = {},
  ): Promise<{ removed: string[]; totalBytes: number }> {
    const root = join(this.dir, 'entries');
    const keys = await readdir(root).catch(() => [] as string[]);
    const items: Array<{ key: string; used: number; bytes: number }> = [];
    for (const key of keys) {
      const dir = join(root, key);
      const st = await lstat(dir).catch(() => null);
      if (!st) continue;
      let bytes = st.isDirectory() ? 0 : st.size;
      if (st.isDirectory())
        for (const rel of await listTree(dir))
          bytes += (await stat(join(dir, rel)).catch(() => null))?.size ?? 0;
      items.push({ key, used: st.mtimeMs, bytes });
    }
    items.sort((a, b) => a.used - b.used || a.key.localeCompare(b.key));
    let total = items.reduce((s, i) => s + i.bytes, 0);
    const removed: string[] = [];
    const spareAfter = Date.now() - (opts.spareUsedWithinMs ?? 0);
    for (const i of items) {
      if (total <= maxBytes) break;
      if (opts.spareUsedWithinMs !== undefined && i.used >= spareAfter) continue;
      await rm(join(root, i.key), { recursive: true, force: true });
      total -= i.bytes;
      removed.push(i.key);
    }
    return { removed, totalBytes: total };
  }

  /** Read an authenticated state file; one that is damaged or does not authenticate is removed. */
  private async readState<T extends object>(path: string, purpose: string): Promise<T | null> {
    if (!this.#key) return null;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (errno(err) !== 'ENOENT')
        await rm(path, { recursive: true, force: true }).catch(() => undefined);
      return null;
    }
    try {
      const { mac, ...rest } = JSON.parse(text) as { mac?: unknown };
      if (this.#key.verify(purpose, canonicalJson(rest), mac)) return rest as T;
    } catch {
      // not JSON: damaged
    }
    await rm(path, { force: true }).catch(() => undefined);
    return null;
  }

  /** Write an authenticated state file (temp + rename), clearing anything in its way. */
  private async writeState(sub: string, name: string, purpose: string, value: object) {
    if (!this.#key) return;
    const path = join(await this.ensureDir(sub), name);
    if ((await lstat(path).catch(() => null))?.isDirectory())
      await rm(path, { recursive: true, force: true });
    const mac = this.#key.mac(purpose, canonicalJson(value));
    await atomicWrite(path, `${JSON.stringify({ ...value, mac }, null, 2)}\n`);
  }

  /** The last manifest seen for a gate (for explain), or null. */
  async readIndex(id: string): Promise<{ key: string; manifest: GateManifest } | null> {
    const v = await this.readState<{ gate: string; key: string; manifest: GateManifest }>(
      join(this.dir, 'index', `${id}.json`),
      MAC.index,
    );
    return v && v.gate === id ? { key: v.key, manifest: v.manifest } : null;
  }

  /**
   * Record the manifest a gate was last seen with; a no-op when the index already names that
   * key. That check skips the MAC: it decides only whether to write, and a record that does
   * not authenticate is still discarded by every read ({@link readIndex}).
   */
  async writeIndex(id: string, key: string, manifest: GateManifest): Promise<void> {
    if (!this.#key) return;
    if (indexNames(join(this.dir, 'index', `${id}.json`), id, key)) return;
    await this.writeState('index', `${id}.json`, MAC.index, { gate: id, key, manifest });
  }

  async readSetupKey(): Promise<string | null> {
    const v = await this.readState<{ key: unknown }>(join(this.dir, 'setup.json'), MAC.setup);
    return typeof v?.key === 'string' ? v.key : null;
  }

  async writeSetupKey(key: string): Promise<void> {
    await this.writeState('', 'setup.json', MAC.setup, { key, at: new Date().toISOString() });
  }
}

/**
 * Whether the index record at `path` names gate `id` with `key`, read from its first bytes
 * (a record is written with `gate` and `key` first, before a manifest of every input): a cache
 * hit rewrites the record only when it named another key. A record damaged further on is found
 * by `explain`, which authenticates it before use.
 */
function indexNames(path: string, id: string, key: string): boolean {
  const head = `{\n  "gate": ${JSON.stringify(id)},\n  "key": ${JSON.stringify(key)},\n`;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const buf = Buffer.alloc(Buffer.byteLength(head));
    return readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.toString('utf8') === head;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Write a file via temp + rename so readers never see half of it. */
export async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** `lstat` of `path`, or null when it cannot be taken. */
function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
