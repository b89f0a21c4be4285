import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GatehouseError } from '@gatehouse/core';

/** Contents of `.gatehouse/lock`. */
export interface LockInfo {
  pid: number;
  startedAt: string;
  runId: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

/**
 * Remove a lock left by a dead process. Two runs may find the same stale lock: a short-lived
 * `<lock>.takeover` file (O_EXCL) lets only one of them re-check and remove it, so neither
 * removes the fresh lock the other just took.
 */
async function removeStale(path: string, stale: LockInfo): Promise<void> {
  const guard = `${path}.takeover`;
  let fh;
  try {
    fh = await open(guard, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = await stat(guard).catch(() => null);
    // A takeover that crashed midway leaves its guard behind.
    if (st && Date.now() - st.mtimeMs > 10_000) await rm(guard, { force: true });
    else await new Promise((r) => setTimeout(r, 20));
    return;
  }
  try {
    const cur = await readLock(path);
    if (cur && cur.pid === stale.pid && cur.runId === stale.runId && cur.startedAt === stale.startedAt) {
      await rm(path, { force: true });
    }
  } finally {
    await fh.close();
    await rm(guard, { force: true });
  }
}

/** A held lock; `release()` removes it. */
export interface HeldLock {
  path: string;
  release(): Promise<void>;
}

/**
 * Take `path` with O_EXCL. A lock left by a dead process is taken over; a live holder is
 * waited for up to `waitMs`, then `GH_LOCKED` names it.
 */
export async function acquireLock(path: string, runId: string, waitMs: number): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + waitMs;
  const info: LockInfo = { pid: process.pid, startedAt: new Date().toISOString(), runId };
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(`${JSON.stringify(info)}\n`);
      } finally {
        await fh.close();
      }
      return {
        path,
        release: async () => {
          const cur = await readLock(path);
          if (cur?.pid === process.pid && cur.runId === runId) await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(path);
    if (holder === null) {
      // Unreadable: maybe being written right now. Give the writer a moment, then treat as stale.
      await new Promise((r) => setTimeout(r, 50));
      if ((await readLock(path)) === null) await rm(path, { force: true });
      continue;
    }
    if (!pidAlive(holder.pid)) {
      await removeStale(path, holder);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new GatehouseError(
        'GH_LOCKED',
        `another gatehouse run (pid ${holder.pid}, started ${holder.startedAt}) holds ${path}`,
        { hint: 'wait for it to finish, or pass --wait SECONDS' },
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(200, Math.max(10, deadline - Date.now()))));
  }
}
