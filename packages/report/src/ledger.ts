import { constants } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
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

const LOCK_STALE_MS = 30_000;

async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const fh = await open(lock, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await stat(lock).catch(() => null);
      if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new GatehouseError('GH_LEDGER_LOCKED', `ledger is locked by another process (${lock})`);
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

function lastLine(text: string): string | null {
  const lines = text.split('\n').filter((l) => l !== '');
  return lines.at(-1) ?? null;
}

/**
 * Append a run to the ledger: one canonical-JSON line chained to the previous one, written
 * with a single `write` on an `O_APPEND` descriptor and fsynced. A lock file serialises
 * concurrent writers so two runs cannot chain to the same predecessor.
 */
export async function appendLedger(rootDir: string, entry: { runId: string; reportDigest: string; at?: string }): Promise<LedgerEntry> {
  const file = ledgerPath(rootDir);
  await mkdir(dirname(file), { recursive: true });
  return withLock(file, async () => {
    const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    if (existing !== '' && !existing.endsWith('\n')) {
      throw new GatehouseError('GH_LEDGER_BROKEN', `${file} ends with a partial line; run \`gatehouse report history\` to see where it broke`);
    }
    const last = lastLine(existing);
    const full: LedgerEntry = { runId: entry.runId, at: entry.at ?? new Date().toISOString(), reportDigest: entry.reportDigest, prev: last === null ? null : sha256(last) };
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
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], brokenAt: null, problem: null };
    throw err;
  }
  return checkLedgerText(text);
}

/** {@link readLedger} on text. */
export function checkLedgerText(text: string): LedgerCheck {
  const entries: LedgerEntry[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  else if (lines.length) return { entries, brokenAt: lines.length, problem: 'last line is incomplete (no newline)' };
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
    if (!e || typeof e !== 'object' || typeof e.runId !== 'string' || typeof e.at !== 'string' || typeof e.reportDigest !== 'string' || !('prev' in e)) {
      return broken('not a ledger entry');
    }
    if (canonicalJson(e) !== line) return broken('line is not in canonical form (edited)');
    if (Object.keys(e).length !== 4) return broken('unexpected members');
    if (e.prev !== prev) return broken(prev === null ? 'first entry must have prev null' : `prev does not match the hash of line ${i}`);
    entries.push(e);
    prev = sha256(line);
  }
  return { entries, brokenAt: null, problem: null };
}
