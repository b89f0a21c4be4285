/**
 * The content-addressed gate cache under `<stateDir>/cache/`:
 * - `entries/<key>/` — `entry.json` (manifest, result, file list, checksum), `log.txt`,
 *   `evidence/**`, `outputs/**`; written to a temp dir and renamed into place;
 * - `index/<gate>.json` — the last manifest seen per gate, for `explain`;
 * - `setup.json` — key of the last setup that succeeded.
 * Last use is the entry directory's mtime; eviction removes the least recently used.
 */
import { randomBytes } from 'node:crypto';
import {
  copyFile,
  mkdir,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalJson, sha256, type GateResult } from '@gatehouse/core';
import { hashFile } from './glob.js';
import { CACHE_FORMAT, type GateManifest } from './manifest.js';

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
  /** sha256 of the canonical JSON of every field above. */
  checksum: string;
}

/** Outcome of a lookup. */
export type Lookup =
  | { kind: 'hit'; entry: CacheEntry; dir: string }
  | { kind: 'miss' }
  | { kind: 'corrupt'; reason: string };

function entryChecksum(e: Omit<CacheEntry, 'checksum'>): string {
  return sha256(canonicalJson(e));
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

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'cache');
  }

  private entryDir(key: string): string {
    return join(this.dir, 'entries', key);
  }

  /** Whether an entry directory exists (without verifying it). */
  async has(key: string): Promise<boolean> {
    return (await stat(join(this.entryDir(key), 'entry.json')).catch(() => null)) !== null;
  }

  /** Find and fully verify an entry; a damaged one is removed and reported as corrupt. */
  async lookup(key: string): Promise<Lookup> {
    const dir = this.entryDir(key);
    let raw: string;
    try {
      raw = await readFile(join(dir, 'entry.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        const exists = await stat(dir).catch(() => null);
        if (!exists) return { kind: 'miss' };
        await rm(dir, { recursive: true, force: true });
        return { kind: 'corrupt', reason: 'entry.json is missing' };
      }
      throw err;
    }
    const reason = await this.verify(key, dir, raw);
    if (typeof reason === 'string') {
      await rm(dir, { recursive: true, force: true });
      return { kind: 'corrupt', reason };
    }
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    return { kind: 'hit', entry: reason, dir };
  }

  private async verify(key: string, dir: string, raw: string): Promise<CacheEntry | string> {
    let entry: CacheEntry;
    try {
      entry = JSON.parse(raw) as CacheEntry;
    } catch {
      return 'entry.json is not valid JSON';
    }
    if (entry.format !== CACHE_FORMAT || entry.key !== key || !Array.isArray(entry.files)) {
      return 'entry.json does not describe this key';
    }
    const { checksum, ...rest } = entry;
    if (entryChecksum(rest) !== checksum) return 'entry.json checksum mismatch';
    for (const f of entry.files) {
      const p = join(dir, f.path);
      const st = await stat(p).catch(() => null);
      if (!st) return `${f.path} is missing`;
      if (st.size !== f.bytes) return `${f.path} has ${st.size} bytes, expected ${f.bytes}`;
      if ((await hashFile(p, st.size)) !== f.sha256)
        return `${f.path} content does not match its sha256`;
    }
    return entry;
  }

  /**
   * Store an entry atomically. `sources` maps entry sub-dirs/files to what to copy:
   * the log file, the evidence dir and the gate's output files (relative to `rootDir`).
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
  }): Promise<void> {
    const tmp = join(
      this.dir,
      'tmp',
      `${args.key}.${process.pid}.${randomBytes(4).toString('hex')}`,
    );
    await mkdir(tmp, { recursive: true });
    try {
      await copyFile(args.logPath, join(tmp, 'log.txt'));
      await copyTree(args.evidenceDir, join(tmp, 'evidence'));
      for (const rel of args.outputs) {
        await mkdir(dirname(join(tmp, 'outputs', rel)), { recursive: true });
        await copyFile(join(args.rootDir, rel), join(tmp, 'outputs', rel));
      }
      const files: EntryFile[] = [];
      for (const rel of await listTree(tmp)) {
        const p = join(tmp, rel);
        const { size } = await stat(p);
        files.push({ path: rel, sha256: await hashFile(p, size), bytes: size });
      }
      const body: Omit<CacheEntry, 'checksum'> = {
        format: CACHE_FORMAT,
        key: args.key,
        runId: args.runId,
        createdAt: new Date().toISOString(),
        manifest: args.manifest,
        result: args.result,
        files,
      };
      const entry: CacheEntry = { ...body, checksum: entryChecksum(body) };
      await writeFile(join(tmp, 'entry.json'), `${JSON.stringify(entry, null, 2)}\n`);
      await mkdir(join(this.dir, 'entries'), { recursive: true });
      const dest = this.entryDir(args.key);
      await rm(dest, { recursive: true, force: true });
      await rename(tmp, dest);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Copy an entry's log, evidence and outputs back out. */
  async restore(
    dir: string,
    entry: CacheEntry,
    to: { logPath: string; evidenceDir: string; rootDir: string },
  ): Promise<void> {
    await mkdir(dirname(to.logPath), { recursive: true });
    await copyFile(join(dir, 'log.txt'), to.logPath);
    await mkdir(to.evidenceDir, { recursive: true });
    for (const f of entry.files) {
      if (f.path.startsWith('evidence/')) {
        const dest = join(to.evidenceDir, f.path.slice('evidence/'.length));
        await mkdir(dirname(dest), { recursive: true });
        await copyFile(join(dir, f.path), dest);
      } else if (f.path.startsWith('outputs/')) {
        const dest = join(to.rootDir, f.path.slice('outputs/'.length));
        await mkdir(dirname(dest), { recursive: true });
        await copyFile(join(dir, f.path), dest);
      }
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
      const st = await stat(dir).catch(() => null);
      if (!st) continue;
      let bytes = 0;
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

  /** The last manifest seen for a gate (for explain), or null. */
  async readIndex(id: string): Promise<{ key: string; manifest: GateManifest } | null> {
    try {
      return JSON.parse(await readFile(join(this.dir, 'index', `${id}.json`), 'utf8')) as {
        key: string;
        manifest: GateManifest;
      };
    } catch {
      return null;
    }
  }

  /** Record the manifest a gate was last seen with; a no-op when the index already holds that key (so the manifest). */
  async writeIndex(id: string, key: string, manifest: GateManifest): Promise<void> {
    if ((await this.readIndex(id))?.key === key) return;
    await atomicWrite(
      join(this.dir, 'index', `${id}.json`),
      `${JSON.stringify({ key, manifest }, null, 2)}\n`,
    );
  }

  async readSetupKey(): Promise<string | null> {
    try {
      return (JSON.parse(await readFile(join(this.dir, 'setup.json'), 'utf8')) as { key: string })
        .key;
    } catch {
      return null;
    }
  }

  async writeSetupKey(key: string): Promise<void> {
    await atomicWrite(
      join(this.dir, 'setup.json'),
      `${JSON.stringify({ key, at: new Date().toISOString() })}\n`,
    );
  }
}

/** Write a file via temp + rename so readers never see half of it. */
export async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
