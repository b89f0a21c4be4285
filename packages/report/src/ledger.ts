import { randomBytes } from 'node:crypto';
import { constants, readFileSync } from 'node:fs';
import { link, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { canonicalJson, GatehouseError, sha256 } from '@gatehouse/core';

/** One line of `.gatehouse/ledger.jsonl`. */
export interface LedgerEntry {
  runId: string;
  /** ISO-8601 UTC time the entry was appended. */
  at: string;
  /** `integrity.digest` of the run's report. */
  reportDigest: string;
  /** sha256 of the previous line's bytes (without its newline); `null` for the first entry. */
  prev: string | null;
}

/** Where the ledger of a project lives. */
export function ledgerPath(rootDir: string): string {
  return join(rootDir, '.gatehouse', 'ledger.jsonl');
}

/** Options of {@link appendLedger}. */
export interface LedgerOptions {
  /**
   * A lock held this long (as this process sees it, or by its modification time when that is
   * in the past) is stale, whoever holds it. @default 10000
   */
  lockStaleMs?: number;
  /** How long an append waits for the lock before `GH_LEDGER_LOCKED`. @default 15000 */
  lockWaitMs?: number;
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 15_000;
/** An unreadable lock file (never written by a holder: holders link a complete file) is stale this soon. */
const JUNK_LOCK_STALE_MS = 2_000;

interface LedgerLockInfo {
  pid: number;
  /** Start time of `pid` (`/proc/<pid>/stat` field 22), where there is a `/proc`. */
  procStart?: string;
  /** Random, so a holder never mistakes another holder's lock for its own. */
  nonce: string;
}

/** State and start time of a process from `/proc/<pid>/stat`, or null (no such process, or no `/proc`). */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain anything.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', start: fields[19] ?? '' };
  } catch {
    return null;
  }
}

const ownStart = procStat(process.pid)?.start || undefined;

/**
 * Whether the holder of a lock is certainly gone: its pid does not exist, or belongs to
 * another process now (its start time differs from the one recorded), or is a zombie.
 */
function holderGone(info: LedgerLockInfo): boolean {
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return true;
  }
  if (ownStart === undefined) return false; // no /proc: a live pid is all that can be known
  const st = procStat(info.pid);
  if (st === null || st.state === 'Z' || st.state === 'X') return true;
  return info.procStart !== undefined && info.procStart !== st.start;
}

async function readLockInfo(lock: string): Promise<LedgerLockInfo | null> {
  try {
    const info = JSON.parse(await readFile(lock, 'utf8')) as LedgerLockInfo;
    return typeof info.pid === 'number' &&
      typeof info.nonce === 'string' &&
      (info.procStart === undefined || typeof info.procStart === 'string')
      ? info
      : null;
  } catch {
    return null;
  }
}

/**
 * How long a file has been there, as far as can be trusted: the longer of the time this
 * process has seen it (by a monotonic clock) and its age by modification time. A modification
 * time in the future counts for nothing, so it never keeps a lock fresh.
 */
class Watch {
  readonly #first = new Map<string, number>();

  heldFor(id: string, mtimeMs: number): number {
    const now = performance.now();
    if (!this.#first.has(id)) this.#first.set(id, now);
    return Math.max(now - this.#first.get(id)!, Date.now() - mtimeMs);
  }
}

/**
 * Remove a stale lock unless someone replaced it meanwhile: an O_EXCL `.takeover` guard lets
 * one process at a time re-read and remove it, so a fresh lock is never removed by a second
 * process that judged the old one stale. A guard left by a crashed process is itself removed
 * once it has been there `staleMs`.
 */
async function takeOver(
  lock: string,
  seen: LedgerLockInfo | null,
  watch: Watch,
  staleMs: number,
): Promise<void> {
  const guard = `${lock}.takeover`;
  let fh;
  try {
    fh = await open(guard, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = await stat(guard).catch(() => null);
    if (st && watch.heldFor(`guard:${st.ino}:${st.mtimeMs}`, st.mtimeMs) >= staleMs)
      await rm(guard, { force: true });
    return;
  }
  try {
    const cur = await readLockInfo(lock);
    if (seen === null ? cur === null : cur?.nonce === seen.nonce) await rm(lock, { force: true });
  } finally {
    await fh.close();
    await rm(guard, { force: true });
  }
}

async function withLock<T>(file: string, opts: LedgerOptions, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const staleMs = opts.lockStaleMs ?? LOCK_STALE_MS;
  const mine: LedgerLockInfo = {
    pid: process.pid,
    ...(ownStart ? { procStart: ownStart } : {}),
    nonce: randomBytes(8).toString('hex'),
  };
  const watch = new Watch();
  const deadline = Date.now() + (opts.lockWaitMs ?? LOCK_WAIT_MS);
  for (;;) {
    // Written beside, then hard-linked into place: the lock file is never seen empty.
    const tmp = `${lock}.${mine.nonce}.tmp`;
    await writeFile(tmp, JSON.stringify(mine));
    try {
      await link(tmp, lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await rm(tmp, { force: true });
    }
    const holder = await readLockInfo(lock);
    const st = await stat(lock).catch(() => null);
    if (st === null) continue;
    const heldFor = watch.heldFor(
      holder ? `lock:${holder.nonce}` : `junk:${st.ino}:${st.mtimeMs}`,
      st.mtimeMs,
    );
    if (
      (holder !== null && holderGone(holder)) ||
      heldFor >= (holder === null ? Math.min(JUNK_LOCK_STALE_MS, staleMs) : staleMs)
    ) {
      await takeOver(lock, holder, watch, staleMs);
      continue;
    }
    if (Date.now() > deadline) {
      throw new GatehouseError(
        'GH_LEDGER_LOCKED',
        `ledger is locked by another process (${holder ? `pid ${holder.pid}, ` : ''}${lock})`,
      );
    }
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
  }
  try {
    return await fn();
  } finally {
    if ((await readLockInfo(lock))?.nonce === mine.nonce) await rm(lock, { force: true });
  }
}

function ledgerLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/**
 * Append a run to the ledger: one canonical-JSON line chained to the previous one, written
 * with a single `write` on an `O_APPEND` descriptor and fsynced. A lock file serialises
 * concurrent writers so two runs cannot chain to the same predecessor.
 */
export async function appendLedger(
  rootDir: string,
  entry: { runId: string; reportDigest: string; at?: string },
  opts: LedgerOptions = {},
): Promise<LedgerEntry> {
  const file = ledgerPath(rootDir);
  await mkdir(dirname(file), { recursive: true });
  return withLock(file, opts, async () => {
    const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    if (existing !== '' && !existing.endsWith('\n')) {
      throw new GatehouseError(
        'GH_LEDGER_BROKEN',
        `${file} ends with a partial line; run \`gatehouse report history\` to see where it broke`,
      );
    }
    const last = ledgerLines(existing).at(-1) ?? null;
    const full: LedgerEntry = {
      runId: entry.runId,
      at: entry.at ?? new Date().toISOString(),
      reportDigest: entry.reportDigest,
      prev: last === null ? null : sha256(last),
    };
    const fh = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
    try {
      await fh.write(Buffer.from(`${canonicalJson(full)}\n`, 'utf8'));
      await fh.sync();
    } finally {
      await fh.close();
    }
    return full;
  });
}

/** Result of reading and checking the ledger. */
export interface LedgerCheck {
  entries: LedgerEntry[];
  /** 1-based line number of the first entry that breaks the chain, or null when intact. */
  brokenAt: number | null;
  problem: string | null;
}

/** Read the ledger and verify its chain: each line canonical, each `prev` the hash of the line before. */
export async function readLedger(rootDir: string): Promise<LedgerCheck> {
  const file = ledgerPath(rootDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { entries: [], brokenAt: null, problem: null };
    throw err;
  }
  return checkLedgerText(text);
}

/** {@link readLedger} on text. */
export function checkLedgerText(text: string): LedgerCheck {
  const entries: LedgerEntry[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  else if (lines.length)
    return { entries, brokenAt: lines.length, problem: 'last line is incomplete (no newline)' };
  let prev: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const broken = (problem: string): LedgerCheck => ({ entries, brokenAt: i + 1, problem });
    let e: LedgerEntry;
    try {
      e = JSON.parse(line) as LedgerEntry;
    } catch {
      return broken('not JSON');
    }
    if (
      !e ||
      typeof e !== 'object' ||
      typeof e.runId !== 'string' ||
      typeof e.at !== 'string' ||
      typeof e.reportDigest !== 'string' ||
      !('prev' in e)
    ) {
      return broken('not a ledger entry');
    }
    if (canonicalJson(e) !== line) return broken('line is not in canonical form (edited)');
    if (Object.keys(e).length !== 4) return broken('unexpected members');
    if (e.prev !== prev)
      return broken(
        prev === null
          ? 'first entry must have prev null'
          : `prev does not match the hash of line ${i}`,
      );
    entries.push(e);
    prev = sha256(line);
  }
  return { entries, brokenAt: null, problem: null };
}
