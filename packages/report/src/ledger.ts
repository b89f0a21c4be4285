import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
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
import { dirname, join } from 'node:path';
import {
  runsDirOf,
  stateDirOf,
  canonicalJson,
  GatehouseError,
  OWN_PROC_START,
  processRunning,
  projectStateKey,
  sha256,
  type StateKey,
} from '@gatehouse-ci/core';

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

/** Where the ledger's head pointer lives: beside the ledger. */
export function ledgerHeadPath(rootDir: string): string {
  return join(rootDir, '.gatehouse', 'ledger.head');
}

/** Options of {@link appendLedger} and {@link auditLedger}. */
export interface LedgerOptions {
  /** Directory of the per-user state key. @default `stateKeyDir()` from `@gatehouse-ci/core` */
  keyDir?: string;
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

/**
 * Whether the holder of a lock is certainly gone: its pid does not exist, or belongs to
 * another process now (its start time differs from the one recorded), or is a zombie.
 */
function holderGone(info: LedgerLockInfo): boolean {
  return !processRunning(info.pid, info.procStart);
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
    ...(OWN_PROC_START ? { procStart: OWN_PROC_START } : {}),
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
 * `.gatehouse/ledger.head`: how many lines the ledger has and the hash of the last one, as the
 * last append left them, authenticated with the project's state key. It is what shows lines
 * removed from the end of the ledger, or lines added or replaced by anyone but an append.
 */
export interface LedgerHead {
  format: 1;
  /** Lines in the ledger. */
  count: number;
  /** sha256 of the last line (`null` when there is none). */
  last: string | null;
  /** sha256 of the line being appended after `last`, until the append completes. */
  pending: string | null;
  /**
   * Leading lines that no valid head vouched for when a later line was appended (the head was
   * missing, did not authenticate, or did not match the ledger): they are chained, but whether
   * they were edited before then cannot be told.
   */
  unverified: number;
  /** What was wrong when that happened (carried forward by every later append), or null. */
  problem: string | null;
}

const HEAD_MAC = 'gatehouse ledger head';

type HeadRead = { head: LedgerHead; problem: null } | { head: null; problem: string };

async function readHead(rootDir: string, key: StateKey): Promise<HeadRead> {
  let text: string;
  try {
    text = await readFile(ledgerHeadPath(rootDir), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      head: null,
      problem:
        code === 'ENOENT' ? 'ledger.head is missing' : `ledger.head cannot be read (${code})`,
    };
  }
  try {
    const { mac, ...head } = JSON.parse(text) as LedgerHead & { mac?: unknown };
    if (head.format === 1 && key.verify(HEAD_MAC, canonicalJson(head), mac))
      return { head, problem: null };
  } catch {
    // not JSON
  }
  return {
    head: null,
    problem: 'ledger.head does not authenticate (edited, or written under another state key)',
  };
}

async function writeHead(rootDir: string, key: StateKey, head: LedgerHead): Promise<void> {
  const file = ledgerHeadPath(rootDir);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.write(`${JSON.stringify({ ...head, mac: key.mac(HEAD_MAC, canonicalJson(head)) })}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EISDIR') throw err;
      // A directory squatting on the head's name: the head is already unverifiable, clear it.
      await rm(file, { recursive: true, force: true });
      await rename(tmp, file);
    });
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Why the ledger's lines do not match its head, or null when they do. */
function headMismatch(lines: string[], head: LedgerHead): string | null {
  const n = lines.length;
  const hashAt = (i: number): string | null => (i >= 1 && i <= n ? sha256(lines[i - 1]!) : null);
  if (n === head.count && hashAt(n) === head.last) return null;
  // An append that stopped between writing its line and updating the head.
  if (
    head.pending !== null &&
    n === head.count + 1 &&
    hashAt(n) === head.pending &&
    hashAt(n - 1) === head.last
  )
    return null;
  if (n < head.count)
    return `the ledger has ${n} line${n === 1 ? '' : 's'} but its head records ${head.count}: lines were removed`;
  if (hashAt(head.count) !== head.last)
    return `line ${head.count} is not the line the head records: lines were replaced`;
  return `line${n - head.count === 1 ? '' : 's'} ${head.count + 1}${n - head.count === 1 ? '' : `–${n}`} ${n - head.count === 1 ? 'was' : 'were'} not appended by a run (not covered by the head)`;
}

/**
 * Append a run to the ledger: one canonical-JSON line chained to the previous one, written
 * with a single `write` on an `O_APPEND` descriptor and fsynced, then the head pointer moved
 * to it. A lock file serialises concurrent writers so two runs cannot chain to the same
 * predecessor. When the head does not vouch for the lines found (missing, not authenticated,
 * not matching), the append goes ahead and the new head records that, for good: `history`
 * then reports those lines as unverified. Without a state key the head is left alone.
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
    const lines = ledgerLines(existing);
    const last = lines.at(-1) ?? null;
    const full: LedgerEntry = {
      runId: entry.runId,
      at: entry.at ?? new Date().toISOString(),
      reportDigest: entry.reportDigest,
      prev: last === null ? null : sha256(last),
    };
    const line = canonicalJson(full);
    const { key } = await projectStateKey(rootDir, opts.keyDir ? { dir: opts.keyDir } : {});
    let head: LedgerHead | null = null;
    if (key) {
      const read = await readHead(rootDir, key);
      const mismatch = read.head ? headMismatch(lines, read.head) : null;
      const fresh =
        read.head === null && lines.length === 0 && read.problem === 'ledger.head is missing';
      const base =
        read.head && mismatch === null
          ? { unverified: read.head.unverified, problem: read.head.problem }
          : fresh
            ? { unverified: 0, problem: null }
            : {
                unverified: lines.length,
                problem: `${read.problem ?? mismatch} (found when run ${entry.runId} was appended)`,
              };
      head = {
        format: 1,
        count: lines.length,
        last: full.prev,
        pending: sha256(line),
        ...base,
      };
      await writeHead(rootDir, key, head);
    }
    const fh = await open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
    try {
      await fh.write(Buffer.from(`${line}\n`, 'utf8'));
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (key && head)
      await writeHead(rootDir, key, {
        ...head,
        count: lines.length + 1,
        last: head.pending,
        pending: null,
      });
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

/** {@link readLedger} plus what the head pointer and the run folders show. */
export interface LedgerAudit extends LedgerCheck {
  /**
   * Why the head pointer does not vouch for every line (lines removed from the end, added or
   * replaced, a missing or unauthenticated head, lines an earlier append could not verify);
   * empty when it does.
   */
  headProblems: string[];
  /** Folders of `.gatehouse/runs/` that no ledger line names, and whether each holds a `report.json`. */
  unrecorded: Array<{ runId: string; report: boolean }>;
}

/**
 * Check the ledger as `gatehouse report history` does: the chain, the head pointer (with the
 * project's state key) and the run folders. Never writes.
 */
export async function auditLedger(rootDir: string, opts: LedgerOptions = {}): Promise<LedgerAudit> {
  const text = await readFile(ledgerPath(rootDir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const check = checkLedgerText(text);
  const lines = ledgerLines(text);

  const headProblems: string[] = [];
  const { key, problem } = await projectStateKey(rootDir, opts.keyDir ? { dir: opts.keyDir } : {});
  if (!key) headProblems.push(`the head pointer cannot be checked: ${problem}`);
  else {
    const read = await readHead(rootDir, key);
    if (!read.head) {
      if (lines.length > 0 || read.problem !== 'ledger.head is missing')
        headProblems.push(read.problem);
    } else {
      const mismatch = headMismatch(lines, read.head);
      if (mismatch !== null) headProblems.push(mismatch);
      if (read.head.problem !== null)
        headProblems.push(
          read.head.unverified > 1
            ? `lines 1–${read.head.unverified} are not verified: ${read.head.problem}`
            : read.head.unverified === 1
              ? `line 1 is not verified: ${read.head.problem}`
              : read.head.problem,
        );
    }
  }

  const named = new Set<string>();
  for (const line of lines) {
    try {
      const runId = (JSON.parse(line) as { runId?: unknown }).runId;
      if (typeof runId === 'string') named.add(runId);
    } catch {
      // not JSON: the chain check reports it
    }
  }
  const runsDir = runsDirOf(stateDirOf(rootDir));
  const unrecorded: LedgerAudit['unrecorded'] = [];
  for (const d of await readdir(runsDir, { withFileTypes: true }).catch(() => [])) {
    if (!d.isDirectory() || named.has(d.name)) continue;
    const report = (await stat(join(runsDir, d.name, 'report.json')).catch(() => null)) !== null;
    unrecorded.push({ runId: d.name, report });
  }
  unrecorded.sort((a, b) => a.runId.localeCompare(b.runId));
  return { ...check, headProblems, unrecorded };
}
