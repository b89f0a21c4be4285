/**
 * The project lock under `<stateDir>/`: a reader/writer lock made of plain files, so it
 * needs nothing but the file system and works across processes.
 *
 * - `lock` — the exclusive (writer) lock: a full run (setup + gates) holds it.
 * - `locks/shared/<runId>.json` — one file per shared (reader) holder: `--only` runs.
 * - `locks/gate-<id>` — per-gate exclusive lock a shared holder takes for each of its gates,
 *   so two `--only` runs of the same gate take turns.
 *
 * A writer creates `lock` and then waits until no live reader is registered; a reader
 * registers first and then backs off while `lock` exists. Each side publishes its claim
 * before looking for the other's, so at least one of two racing runs sees the other.
 * Holders record pid and process start time; a claim whose process is gone (or whose pid was
 * reused by another process) is stale and taken over. A run's claims also record its run token,
 * which every process of its gates carries (see `proc-tree.mjs`): before a stale claim is taken
 * over, the processes the dead run left behind are stopped, so no gate runs beside an orphan.
 */
import { randomBytes } from 'node:crypto';
import {
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GatehouseError, OWN_PROC_START, processRunning } from '@gatehouse-ci/core';
import { newRunToken, RUN_TOKEN_RE, terminateTree } from './proc.js';

/** Contents of `.gatehouse/lock`, of a per-gate lock and of a shared-holder file. */
export interface LockInfo {
  pid: number;
  startedAt: string;
  runId: string;
  /**
   * Start time of the process `pid` as the kernel counts it (`/proc/<pid>/stat`, field 22),
   * so that a pid reused by an unrelated process does not keep a stale lock alive. Absent
   * where `/proc` is not available.
   */
  procStart?: string;
  /** Gates of a shared holder (`--only` run). */
  gates?: string[];
  /** The run token its gate processes carry in `GATEHOUSE_GATE_TOKEN` (`<token>.<nonce>`). */
  token?: string;
}

/** A held lock; `release()` removes it (only if it is still this run's). */
export interface HeldLock {
  path: string;
  release(): Promise<void>;
}

/** The project lock of a run, with the run token recorded in it. */
export interface RunLock extends HeldLock {
  /** Give it to every gate process of the run (`runProcess`'s `runToken`). */
  token: string;
}

/** How long a writer that sees readers (or a reader that sees a writer) re-checks before refusing. */
const SETTLE_MS = 60;
/** Temp files of an interrupted registration older than this are removed. */
const TEMP_STALE_MS = 60_000;
/** Between TERM and KILL for the processes a dead holder left behind. */
const ORPHAN_GRACE_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether the process that wrote `info` is still running. */
export function holderAlive(info: Pick<LockInfo, 'pid' | 'procStart'>): boolean {
  return processRunning(info.pid, info.procStart);
}

function newInfo(runId: string, gates?: string[], token?: string): LockInfo {
  return {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    runId,
    ...(OWN_PROC_START ? { procStart: OWN_PROC_START } : {}),
    ...(gates ? { gates } : {}),
    ...(token ? { token } : {}),
  };
}

/**
 * Stop the processes a dead holder's gates left behind (found by its run token), before its
 * claim is removed. A token that is not one (lock files are not trusted) finds nothing.
 */
async function stopOrphans(dead: LockInfo): Promise<void> {
  if (typeof dead.token !== 'string' || !RUN_TOKEN_RE.test(dead.token)) return;
  await terminateTree({ runToken: dead.token }, ORPHAN_GRACE_MS);
}

async function readLock(path: string): Promise<LockInfo | null> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

const sameHolder = (a: LockInfo, b: LockInfo) =>
  a.pid === b.pid && a.runId === b.runId && a.startedAt === b.startedAt;

/**
 * Create `path` holding `info`, failing with EEXIST when it exists. The content is written to
 * a temp file first and hard-linked into place, so a lock file is never seen empty.
 */
async function createExclusive(path: string, info: LockInfo): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // File systems without hard links: O_EXCL, accepting a short window where the file is empty.
    const fh = await open(path, 'wx', 0o644);
    try {
      await fh.writeFile(`${JSON.stringify(info)}\n`);
    } finally {
      await fh.close();
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Remove a lock left by a dead process. Two runs may find the same stale lock: a short-lived
 * `<lock>.takeover` file (O_EXCL) lets only one of them re-check and remove it, so neither
 * removes the fresh lock the other just took.
 */
async function removeStale(path: string, stale: LockInfo | null): Promise<void> {
  const guard = `${path}.takeover`;
  let fh;
  try {
    fh = await open(guard, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = await stat(guard).catch(() => null);
    // A takeover that crashed midway leaves its guard behind.
    if (st && Date.now() - st.mtimeMs > 10_000) await rm(guard, { force: true });
    else await sleep(20);
    return;
  }
  try {
    const cur = await readLock(path);
    if (stale === null ? cur === null : cur !== null && sameHolder(cur, stale)) {
      if (cur !== null) await stopOrphans(cur);
      await rm(path, { force: true });
    }
  } finally {
    await fh.close();
    await rm(guard, { force: true });
  }
}

function lockedError(message: string): GatehouseError {
  return new GatehouseError('GH_LOCKED', message, {
    hint: 'wait for it to finish, or pass --wait SECONDS',
  });
}

/** What `acquireLock` says about the holder when it gives up. */
export type LockDescription = (holder: LockInfo, path: string) => string;

const describeRun: LockDescription = (h, path) =>
  `another gatehouse run (pid ${h.pid}, started ${h.startedAt}) holds ${path}`;

/**
 * Take the exclusive lock file `path`, recording `token` (a run token) in it when given. A lock
 * left by a dead process is taken over, after the processes its run left behind are stopped; a
 * live holder is waited for up to `waitMs`, then `GH_LOCKED` names it.
 */
export async function acquireLock(
  path: string,
  runId: string,
  waitMs: number,
  describe: LockDescription = describeRun,
  token?: string,
): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + waitMs;
  const info = newInfo(runId, undefined, token);
  for (;;) {
    try {
      await createExclusive(path, info);
      return {
        path,
        release: async () => {
          const cur = await readLock(path);
          if (cur !== null && sameHolder(cur, info)) await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readLock(path);
    if (holder === null) {
      // Only a crash or a foreign file leaves an unreadable lock (it is never written in place).
      const st = await stat(path).catch(() => null);
      if (st && Date.now() - st.mtimeMs > 2_000) await removeStale(path, null);
      else await sleep(50);
      continue;
    }
    if (!holderAlive(holder)) {
      await removeStale(path, holder);
      continue;
    }
    if (Date.now() >= deadline) throw lockedError(describe(holder, path));
    await sleep(Math.min(200, Math.max(10, deadline - Date.now())));
  }
}

/** Where the parts of the project lock live. */
export function lockPaths(stateDir: string) {
  return {
    exclusive: join(stateDir, 'lock'),
    sharedDir: join(stateDir, 'locks', 'shared'),
    gate: (id: string) => join(stateDir, 'locks', `gate-${id}`),
  };
}

/** Live shared holders; files of dead ones are removed on the way. */
async function liveReaders(sharedDir: string): Promise<LockInfo[]> {
  const names = await readdir(sharedDir).catch(() => [] as string[]);
  const live: LockInfo[] = [];
  for (const name of names) {
    const p = join(sharedDir, name);
    if (name.endsWith('.tmp')) {
      const st = await stat(p).catch(() => null);
      if (st && Date.now() - st.mtimeMs > TEMP_STALE_MS) await rm(p, { force: true });
      continue;
    }
    if (!name.endsWith('.json')) continue;
    const info = await readLock(p);
    // Holder files are renamed into place whole: an unreadable one is damage, not a writer at work.
    if (info === null || !holderAlive(info)) {
      if (info !== null) await stopOrphans(info);
      await rm(p, { force: true });
    } else live.push(info);
  }
  return live.sort((a, b) => a.pid - b.pid);
}

function describeReaders(readers: LockInfo[], sharedDir: string): string {
  const who = readers.map(
    (r) =>
      `pid ${r.pid} (${r.gates && r.gates.length ? `--only ${r.gates.join(',')}` : 'shared'}, started ${r.startedAt})`,
  );
  return `${readers.length === 1 ? 'a gatehouse --only run holds' : `${readers.length} gatehouse --only runs hold`} the shared lock (${sharedDir}): ${who.join('; ')}`;
}

/** Options of {@link acquireRunLock}. */
export interface RunLockOptions {
  runId: string;
  /** How long to wait for conflicting holders before `GH_LOCKED`. */
  waitMs: number;
  /**
   * Take the shared lock plus a per-gate lock for each of these gates (an `--only` run).
   * Empty or absent: take the exclusive lock (a full run).
   */
  sharedGates?: string[];
  /** Recorded in every lock file the run takes. @default a new run token */
  token?: string;
}

/**
 * Take the project lock in `stateDir`: exclusive for a full run, shared (plus one exclusive
 * lock per gate) for an `--only` run. Waits up to `waitMs` for conflicting holders, then throws
 * `GH_LOCKED` naming their pids. Holders found dead are taken over once the processes their
 * gates left behind are stopped.
 */
export async function acquireRunLock(stateDir: string, options: RunLockOptions): Promise<RunLock> {
  const paths = lockPaths(stateDir);
  const gates = [...new Set(options.sharedGates ?? [])].sort();
  const token = options.token ?? newRunToken();
  const held =
    gates.length === 0
      ? await acquireExclusive(paths, options.runId, options.waitMs, token)
      : await acquireShared(paths, options.runId, options.waitMs, gates, token);
  return { ...held, token };
}

async function acquireExclusive(
  paths: ReturnType<typeof lockPaths>,
  runId: string,
  waitMs: number,
  token: string,
): Promise<HeldLock> {
  const start = Date.now();
  const held = await acquireLock(paths.exclusive, runId, waitMs, describeRun, token);
  // New readers back off while `lock` exists; wait for the ones already in.
  const refuseAt = Math.max(start + waitMs, Date.now() + SETTLE_MS);
  try {
    for (;;) {
      const readers = await liveReaders(paths.sharedDir);
      if (readers.length === 0) return held;
      if (Date.now() >= refuseAt) throw lockedError(describeReaders(readers, paths.sharedDir));
      await sleep(Math.min(200, Math.max(10, refuseAt - Date.now())));
    }
  } catch (err) {
    await held.release();
    throw err;
  }
}

async function acquireShared(
  paths: ReturnType<typeof lockPaths>,
  runId: string,
  waitMs: number,
  gates: string[],
  token: string,
): Promise<HeldLock> {
  const start = Date.now();
  const deadline = start + waitMs;
  await mkdir(paths.sharedDir, { recursive: true });
  const mine = join(paths.sharedDir, `${runId}.json`);
  const info = newInfo(runId, gates, token);
  const unregister = () => rm(mine, { force: true });
  let settled = false;
  for (;;) {
    const tmp = join(paths.sharedDir, `${basename(mine)}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
    await rename(tmp, mine);
    const writer = await readLock(paths.exclusive);
    const writerThere = writer !== null || (await stat(paths.exclusive).catch(() => null)) !== null;
    if (!writerThere) break;
    await unregister();
    if (writer !== null && !holderAlive(writer)) {
      await removeStale(paths.exclusive, writer);
      continue;
    }
    if (writer === null) {
      // Unreadable: let acquireLock's rules decide (it removes a crashed, unreadable lock).
      const st = await stat(paths.exclusive).catch(() => null);
      if (st && Date.now() - st.mtimeMs > 2_000) await removeStale(paths.exclusive, null);
      else await sleep(50);
      continue;
    }
    if (Date.now() >= deadline && settled) {
      throw lockedError(
        `a full gatehouse run (pid ${writer.pid}, started ${writer.startedAt}) holds ${paths.exclusive}`,
      );
    }
    settled = true;
    await sleep(Math.min(200, Math.max(SETTLE_MS, deadline - Date.now())));
  }

  // Dead --only runs of other gates: stop what they left behind (and drop their files).
  await liveReaders(paths.sharedDir);

  const gateLocks: HeldLock[] = [];
  try {
    for (const id of gates) {
      gateLocks.push(
        await acquireLock(
          paths.gate(id),
          runId,
          Math.max(0, deadline - Date.now()),
          (h, p) =>
            `another gatehouse run (pid ${h.pid}, started ${h.startedAt}) is running gate ${id} (holds ${p})`,
          token,
        ),
      );
    }
  } catch (err) {
    for (const l of gateLocks.reverse()) await l.release();
    await unregister();
    throw err;
  }
  return {
    path: mine,
    release: async () => {
      for (const l of gateLocks.reverse()) await l.release();
      const cur = await readLock(mine);
      if (cur !== null && sameHolder(cur, info)) await unregister();
    },
  };
}
