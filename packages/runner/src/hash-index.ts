/**
 * A stat-keyed index of content hashes, kept across runs like git's index: a file whose size,
 * mtime, ctime, inode and device are what they were when it was hashed is not read again.
 * Stored as `<stateDir>/cache/hashes`, authenticated with the state key: a forged entry would
 * make the runner trust an old hash for edited content (and replay a stale pass), so an index
 * that does not authenticate is ignored and every file is hashed again.
 *
 * Racily clean entries are never trusted. An edit made within the filesystem's timestamp
 * granularity of the moment a file was read can leave every stat field unchanged (Linux takes
 * file times from a clock that ticks every few milliseconds; some filesystems keep whole
 * seconds or two), so an entry counts only when the file's mtime and ctime are older than the
 * start of its hashing by more than {@link RACY_WINDOW_NS}; any later change to the file moves
 * its ctime past that point. A racily clean file is hashed again on every run until the
 * window has passed.
 */
import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StateKey } from '@gatehouse-ci/core';

/** MAC label of the index file. */
const PURPOSE = 'gatehouse hash index';
/** Format of the index file; another one is ignored. */
const FORMAT = 1;
/** Two seconds: FAT keeps mtimes in 2 s steps, ext3 and HFS+ in 1 s, Linux's clock ticks ≤ 10 ms. */
export const RACY_WINDOW_NS = 2_000_000_000n;
/** Entries kept at most; those not used by the last run go first. */
const MAX_ENTRIES = 200_000;

/** The stat fields an entry is keyed on, as decimal strings (bigint nanoseconds). */
type Stamp = [size: string, mtimeNs: string, ctimeNs: string, ino: string, dev: string];
/** One entry: stamp, sha256, and when hashing began (ns since the epoch, wall clock). */
type Row = [...Stamp, sha256: string, hashedAtNs: string];

function stampOf(st: BigIntStats): Stamp {
  return [String(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino), String(st.dev)];
}

/** Where the index of the project with state directory `stateDir` lives. */
export function hashIndexPath(stateDir: string): string {
  return join(stateDir, 'cache', 'hashes');
}

/** Now, in nanoseconds since the epoch. */
export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

/** Content hashes of files by absolute path, trusted only for an unchanged, non-racy stat. */
export class HashIndex {
  readonly #rows = new Map<string, Row>();
  readonly #used = new Set<string>();
  #changed = false;

  private constructor(
    readonly file: string | null,
    private readonly key: StateKey | null,
  ) {}

  /** An index that remembers nothing and saves nowhere. */
  static empty(): HashIndex {
    return new HashIndex(null, null);
  }

  /**
   * The index stored in `file`; empty (and saved afresh later) when it is missing, damaged,
   * of another format or does not authenticate under `key`, or when `read` is false (`--no-cache`:
   * hash everything, then save). Without a key nothing is read or written.
   */
  static async load(file: string, key: StateKey | null, read = true): Promise<HashIndex> {
    const index = new HashIndex(key ? file : null, key);
    if (!key || !read) return index;
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) return index;
    const nl = text.indexOf('\n');
    try {
      const head = JSON.parse(text.slice(0, nl)) as { format?: unknown; mac?: unknown };
      const body = text.slice(nl + 1);
      if (head.format !== FORMAT || !key.verify(PURPOSE, body, head.mac)) return index;
      const rows = JSON.parse(body) as Array<[string, ...Row]>;
      for (const [path, ...row] of rows) if (row.length === 7) index.#rows.set(path, row as Row);
    } catch {
      // damaged: start empty
    }
    return index;
  }

  /** The hash recorded for `path`, when its stat is unchanged and the entry is not racy. */
  lookup(path: string, st: BigIntStats): string | null {
    const row = this.#rows.get(path);
    if (!row) return null;
    const stamp = stampOf(st);
    for (let i = 0; i < stamp.length; i++) if (row[i] !== stamp[i]) return null;
    const settled = BigInt(row[6]) - RACY_WINDOW_NS;
    if (st.mtimeNs >= settled || st.ctimeNs >= settled) return null;
    this.#used.add(path);
    return row[5];
  }

  /** Record that `path`, with stat `st`, hashed to `sha256`; hashing began at `hashedAtNs`. */
  record(path: string, st: BigIntStats, sha256: string, hashedAtNs: bigint): void {
    this.#rows.set(path, [...stampOf(st), sha256, String(hashedAtNs)]);
    this.#used.add(path);
    this.#changed = true;
  }

  /** Write the index (temp file + rename) when something was recorded; errors are the caller's. */
  async save(): Promise<void> {
    if (!this.file || !this.key || !this.#changed) return;
    let paths = [...this.#rows.keys()];
    if (paths.length > MAX_ENTRIES)
      paths = [
        ...paths.filter((p) => this.#used.has(p)),
        ...paths.filter((p) => !this.#used.has(p)),
      ].slice(0, MAX_ENTRIES);
    const body = JSON.stringify(paths.sort().map((p) => [p, ...this.#rows.get(p)!]));
    const head = JSON.stringify({ format: FORMAT, mac: this.key.mac(PURPOSE, body) });
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, `${head}\n${body}`);
      await rename(tmp, this.file);
    } finally {
      await rm(tmp, { force: true });
    }
    this.#changed = false;
  }
}
