/**
 * Reading files a gate could have written — its `$GATEHOUSE_OUT`, a directory exported from
 * a Docker build — without trusting them: a path is resolved (links included) and must stay
 * inside its directory, only regular files are opened (never a FIFO or a device), the open
 * itself does not follow a link, and reads are bounded. Nothing here writes.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Why a file was not opened. `missing` is the only one that is not a refusal. */
export type NotOpened = {
  ok: false;
  kind: 'missing' | 'outside' | 'link' | 'special' | 'unreadable';
  /** Says what is wrong with the file, without naming it, e.g. `is a symbolic link …`. */
  reason: string;
};

export type Opened = { ok: true; fh: FileHandle; size: number } | NotOpened;

/** `O_NOFOLLOW` where the platform has it: the last component is opened only if it is no link. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** `path` is `root` or below it (both absolute and normalised). */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

const isMissing = (err: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes(errCode(err) ?? '');

/**
 * Open `rel` under `root` for reading. `rootName` names the directory in reasons (e.g.
 * `$GATEHOUSE_OUT`). Refused: a path that leaves `root`, a `root` that is itself a link,
 * a file that resolves (through a link anywhere on its path) outside `root`, and anything
 * that is not a regular file. Links that stay inside `root` are followed.
 */
export async function openConfined(root: string, rel: string, rootName: string): Promise<Opened> {
  const base = resolve(root);
  const full = resolve(base, rel);
  if (!isWithin(base, full))
    return { ok: false, kind: 'outside', reason: `path leaves ${rootName}` };
  if (full === base) return { ok: false, kind: 'special', reason: 'not a regular file' };
  let rootStat: Stats;
  try {
    rootStat = await lstat(base);
  } catch (err) {
    if (isMissing(err)) return { ok: false, kind: 'missing', reason: 'file missing' };
    return { ok: false, kind: 'unreadable', reason: `unreadable (${errCode(err) ?? String(err)})` };
  }
  if (rootStat.isSymbolicLink())
    return { ok: false, kind: 'link', reason: `${rootName} is a symbolic link; not followed` };
  if (!rootStat.isDirectory())
    return { ok: false, kind: 'special', reason: `${rootName} is not a directory` };

  let own: Stats;
  try {
    own = await lstat(full);
  } catch (err) {
    if (isMissing(err)) return { ok: false, kind: 'missing', reason: 'file missing' };
    return { ok: false, kind: 'unreadable', reason: `unreadable (${errCode(err) ?? String(err)})` };
  }
  const what = own.isSymbolicLink() ? 'is a symbolic link' : 'is reached through a symbolic link';
  let real: string;
  try {
    real = await realpath(full);
  } catch (err) {
    if (isMissing(err))
      return { ok: false, kind: 'link', reason: `${what} to nothing; not followed` };
    return { ok: false, kind: 'unreadable', reason: `unreadable (${errCode(err) ?? String(err)})` };
  }
  if (!isWithin(await realpath(base), real))
    return { ok: false, kind: 'link', reason: `${what} leading outside ${rootName}; not followed` };

  let target: Stats;
  let fh: FileHandle;
  try {
    target = await lstat(real);
    if (!target.isFile()) return { ok: false, kind: 'special', reason: 'not a regular file' };
    fh = await open(real, OPEN_FLAGS);
  } catch (err) {
    if (isMissing(err)) return { ok: false, kind: 'missing', reason: 'file missing' };
    if (errCode(err) === 'ELOOP')
      return { ok: false, kind: 'link', reason: 'is a symbolic link; not followed' };
    return { ok: false, kind: 'unreadable', reason: `unreadable (${errCode(err) ?? String(err)})` };
  }
  const st = await fh.stat();
  if (!st.isFile() || st.ino !== target.ino || st.dev !== target.dev) {
    await fh.close();
    return { ok: false, kind: 'special', reason: 'changed while it was being opened' };
  }
  return { ok: true, fh, size: st.size };
}

/** {@link openConfined}, then read the whole file when it is at most `maxBytes`. */
export async function readConfined(
  root: string,
  rel: string,
  rootName: string,
  maxBytes: number,
): Promise<{ ok: true; bytes: Buffer } | NotOpened | { ok: false; kind: 'large'; reason: string }> {
  const opened = await openConfined(root, rel, rootName);
  if (!opened.ok) return opened;
  try {
    if (opened.size > maxBytes)
      return { ok: false, kind: 'large', reason: `too large (${opened.size} bytes)` };
    const bytes = Buffer.alloc(opened.size);
    let at = 0;
    while (at < bytes.length) {
      const { bytesRead } = await opened.fh.read(bytes, at, bytes.length - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return { ok: true, bytes: bytes.subarray(0, at) };
  } catch (err) {
    return { ok: false, kind: 'unreadable', reason: `unreadable (${errCode(err) ?? String(err)})` };
  } finally {
    await opened.fh.close();
  }
}

/** What {@link scanFile} saw of a whole file. */
export interface FileScan {
  /** sha256 of every byte read. */
  sha256: string;
  /** Bytes read: the file's size when it did not change meanwhile. */
  bytes: number;
  /** The first `headBytes` bytes (fewer when the file is shorter). */
  head: Buffer;
  /** The last `tailBytes` bytes (fewer when the file is shorter). */
  tail: Buffer;
}

const CHUNK = 1024 * 1024;

/**
 * Read an open file from start to end in chunks, hashing all of it and keeping only a
 * bounded head and tail: memory stays bounded whatever the file's size. Closes `fh`.
 */
export async function scanFile(
  fh: FileHandle,
  opts: { headBytes: number; tailBytes: number },
): Promise<FileScan> {
  const hash = createHash('sha256');
  const heads: Buffer[] = [];
  let headLen = 0;
  let tail = Buffer.alloc(0);
  let bytes = 0;
  const buf = Buffer.alloc(CHUNK);
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, bytes);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      bytes += bytesRead;
      if (headLen < opts.headBytes) {
        const part = Buffer.from(chunk.subarray(0, opts.headBytes - headLen));
        heads.push(part);
        headLen += part.length;
      }
      if (opts.tailBytes > 0) {
        const keep = chunk.subarray(Math.max(0, chunk.length - opts.tailBytes));
        const joined = Buffer.concat([tail, keep]);
        tail = Buffer.from(joined.subarray(Math.max(0, joined.length - opts.tailBytes)));
      }
    }
  } finally {
    await fh.close();
  }
  return { sha256: hash.digest('hex'), bytes, head: Buffer.concat(heads), tail };
}
