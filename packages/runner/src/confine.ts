/**
 * Reading and writing files of the project (or of a run directory) strictly inside it: paths
 * from cache entries and gate outputs are checked after resolving links, a symbolic link is
 * never followed out of the root, a linked directory is never written through, and nothing is
 * written into `.git/` or `.gatehouse/`.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  copyFile,
  lstat,
  mkdir,
  open,
  readlink,
  realpath,
  rename,
  rm,
  type FileHandle,
} from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

/** Directory names a restore never writes into, at any depth. */
export const NEVER_WRITTEN = new Set(['.git', '.gatehouse']);

/**
 * Why `rel` is not a plain relative POSIX path (no empty, `.` or `..` segment, not absolute,
 * no NUL, no segment in `forbid`), or null when it is one.
 */
export function unsafeRelPath(
  rel: unknown,
  forbid: ReadonlySet<string> = new Set(),
): string | null {
  if (typeof rel !== 'string' || rel === '') return 'an empty path';
  if (rel.includes('\0')) return 'a path with a NUL byte';
  if (rel.startsWith('/')) return `an absolute path (${rel})`;
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return `a path that is not plain (${rel})`;
    if (forbid.has(seg)) return `a path inside ${seg}/ (${rel})`;
  }
  return null;
}

/** Whether `path` is `root` or below it (both absolute, already resolved). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The path the kernel has for an open file (Linux `/proc`), or null where that is unknown. */
async function openedPath(fh: FileHandle): Promise<string | null> {
  return readlink(`/proc/self/fd/${fh.fd}`).catch(() => null);
}

/**
 * Open the regular file `rel` of `root` for reading, refusing one that resolves (through any
 * link) outside `root` or into a directory of {@link NEVER_WRITTEN}. Where `/proc` is there,
 * the opened file itself is checked, so a link swapped in meanwhile is caught too.
 */
export async function openInside(root: string, rel: string): Promise<FileHandle> {
  const why = unsafeRelPath(rel, NEVER_WRITTEN);
  if (why !== null) throw new Error(`refusing ${why}`);
  const realRoot = await realpath(root);
  const real = await realpath(join(realRoot, rel));
  const confined = (p: string) =>
    isInside(realRoot, p) &&
    !relative(realRoot, p)
      .split(sep)
      .some((s) => NEVER_WRITTEN.has(s));
  if (!confined(real)) throw new Error(`${rel} resolves outside the project (${real})`);
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!(await fh.stat()).isFile()) throw new Error(`${rel} is not a regular file`);
    const now = await openedPath(fh);
    if (now !== null && !confined(now))
      throw new Error(`${rel} resolves outside the project (${now})`);
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/**
 * Copy `source` to `rel` under `root`. Every directory on the way must be a real directory
 * (missing ones are created; a symbolic link or a file there is refused), the file is written
 * beside its destination and renamed over it (so a link at the destination is replaced, never
 * written through), and the directory is checked again right before the rename. With `same`,
 * a regular file already at the destination for which it answers true is not written again.
 */
export async function writeInside(
  root: string,
  rel: string,
  source: string,
  forbid: ReadonlySet<string> = NEVER_WRITTEN,
  same?: (dest: string, size: number) => Promise<boolean>,
): Promise<void> {
  const why = unsafeRelPath(rel, forbid);
  if (why !== null) throw new Error(`refusing ${why}`);
  const realRoot = await realpath(root);
  const segs = rel.split('/');
  let dir = realRoot;
  for (const seg of segs.slice(0, -1)) {
    dir = join(dir, seg);
    let st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (st === null) {
      await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      st = await lstat(dir);
    }
    const shownDir = relative(realRoot, dir);
    if (st.isSymbolicLink())
      throw new Error(`${shownDir} is a symbolic link; not writing ${rel} through it`);
    if (!st.isDirectory()) throw new Error(`${shownDir} is not a directory; cannot write ${rel}`);
  }
  const dest = join(dir, segs.at(-1)!);
  const there = await lstat(dest).catch(() => null);
  if (there?.isDirectory()) throw new Error(`${rel} is a directory; not replacing it`);
  // A regular file that already holds what would be written is left as it is (times included).
  if (there?.isFile() && same !== undefined && (await same(dest, there.size))) return;
  const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // COPYFILE_EXCL creates the file anew: it never follows a link planted at that name.
  await copyFile(source, tmp, constants.COPYFILE_EXCL);
  try {
    if ((await realpath(dirname(tmp))) !== dir)
      throw new Error(`${relative(realRoot, dir)} changed while ${rel} was written`);
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
