import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Attempts before giving up when other runs keep replacing the directory at the same moment. */
const MAX_SWAPS = 50;

/**
 * Replace the directory `dir` (the latest report, `.gatehouse/report/`) by one holding exactly
 * `files`, without a lock: the copy is built beside it, then swapped in by two renames. Readers
 * see the old set or the new set, never a mix (for an instant, no directory). When runs publish
 * at the same time, the last swap wins.
 */
export async function publishLatest(dir: string, files: string[]): Promise<void> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const fresh = join(parent, `.${basename(dir)}.new.${tag}`);
  await mkdir(fresh);
  try {
    for (const f of files) await copyFile(f, join(fresh, basename(f)));
    for (let attempt = 0; ; attempt++) {
      const old = join(parent, `.${basename(dir)}.old.${tag}.${attempt}`);
      try {
        await rename(dir, old);
      } catch (err) {
        // Absent: the first run, or another run's swap is between its two renames.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      try {
        await rename(fresh, dir);
        await rm(old, { recursive: true, force: true });
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        await rm(old, { recursive: true, force: true });
        // Another run put its directory in place between our renames: go again.
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt >= MAX_SWAPS) throw err;
      }
    }
  } finally {
    await rm(fresh, { recursive: true, force: true });
  }
}
