import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, projectStateKey, sha256 } from '@gatehouse-ci/core';
import { describe, expect, it } from 'vitest';
import {
  appendLedger,
  auditLedger,
  checkLedgerText,
  ledgerHeadPath,
  ledgerPath,
  readLedger,
} from './ledger.js';
import { tempDir } from '../test/helpers.js';

const digest = (i: number): string => i.toString(16).padStart(64, '0');

describe('ledger', () => {
  it('chains entries, each prev the sha256 of the line before', async () => {
    const root = await tempDir();
    const a = await appendLedger(root, {
      runId: 'R1',
      reportDigest: digest(1),
      at: '2026-01-01T00:00:00.000Z',
    });
    const b = await appendLedger(root, { runId: 'R2', reportDigest: digest(2) });
    expect(a.prev).toBeNull();
    const lines = (await readFile(ledgerPath(root), 'utf8')).split('\n');
    expect(lines[0]).toBe(
      `{"at":"2026-01-01T00:00:00.000Z","prev":null,"reportDigest":"${digest(1)}","runId":"R1"}`,
    );
    expect(b.prev).toMatch(/^[0-9a-f]{64}$/);
    expect(await readLedger(root)).toMatchObject({
      brokenAt: null,
      problem: null,
      entries: [{ runId: 'R1' }, { runId: 'R2' }],
    });
  });

  it('concurrent appends from many writers keep one intact chain', async () => {
    const root = await tempDir();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        appendLedger(root, { runId: `R${i}`, reportDigest: digest(i) }),
      ),
    );
    const check = await readLedger(root);
    expect(check.brokenAt).toBeNull();
    expect(check.entries.map((e) => e.runId).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `R${i}`).sort(),
    );
  });

  it('takes over at once a lock left by a dead process, but not one of a live process', async () => {
    const root = await tempDir();
    await appendLedger(root, { runId: 'R0', reportDigest: digest(0) });
    const lock = `${ledgerPath(root)}.lock`;
    const dead = Number(spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim());
    await writeFile(lock, JSON.stringify({ pid: dead, nonce: 'crashed' }));
    const t0 = Date.now();
    await appendLedger(root, { runId: 'R1', reportDigest: digest(1) });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(existsSync(lock)).toBe(false);

    await writeFile(lock, JSON.stringify({ pid: process.pid, nonce: 'someone-else' }));
    let done = false;
    const pending = appendLedger(root, { runId: 'R2', reportDigest: digest(2) }).then(
      () => (done = true),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    await rm(lock);
    await pending;
    expect(await readLedger(root)).toMatchObject({
      brokenAt: null,
      entries: [{ runId: 'R0' }, { runId: 'R1' }, { runId: 'R2' }],
    });
  });

  it('names the first broken entry: edited, removed, reordered, partial', async () => {
    const root = await tempDir();
    for (let i = 0; i < 4; i++)
      await appendLedger(root, { runId: `R${i}`, reportDigest: digest(i) });
    const text = await readFile(ledgerPath(root), 'utf8');
    const lines = text.split('\n').slice(0, -1);
    const join = (ls: string[]): string => `${ls.join('\n')}\n`;
    expect(
      checkLedgerText(
        join([lines[0]!, lines[1]!.replace(digest(1), digest(9)), lines[2]!, lines[3]!]),
      ),
    ).toMatchObject({ brokenAt: 3 });
    expect(checkLedgerText(join([lines[0]!, lines[2]!, lines[3]!]))).toMatchObject({
      brokenAt: 2,
      problem: 'prev does not match the hash of line 1',
    });
    expect(checkLedgerText(join([lines[1]!, lines[0]!]))).toMatchObject({
      brokenAt: 1,
      problem: 'first entry must have prev null',
    });
    expect(checkLedgerText(join([lines[0]!, lines[1]!.replace('{"at"', '{ "at"')]))).toMatchObject({
      brokenAt: 2,
      problem: 'line is not in canonical form (edited)',
    });
    expect(checkLedgerText(text.slice(0, -5))).toMatchObject({
      brokenAt: 4,
      problem: 'last line is incomplete (no newline)',
    });
    expect(checkLedgerText(join([lines[0]!, 'garbage']))).toMatchObject({
      brokenAt: 2,
      problem: 'not JSON',
    });
    // An edit of the last entry is visible only through its report digest (history compares it with the report).
    expect(checkLedgerText(text).brokenAt).toBeNull();
  });

  it('refuses to append after a partial line', async () => {
    const root = await tempDir();
    await appendLedger(root, { runId: 'R1', reportDigest: digest(1) });
    await appendFile(ledgerPath(root), '{"at":"x"');
    await expect(appendLedger(root, { runId: 'R2', reportDigest: digest(2) })).rejects.toThrow(
      /partial line/,
    );
  });

  it('an empty or absent ledger is intact', async () => {
    const root = await tempDir();
    expect(await readLedger(root)).toEqual({ entries: [], brokenAt: null, problem: null });
    await appendLedger(root, { runId: 'R', reportDigest: digest(1) });
    await writeFile(ledgerPath(root), '');
    expect(await readLedger(root)).toEqual({ entries: [], brokenAt: null, problem: null });
  });
});

/** A root with `n` runs appended (R1…Rn). */
async function ledgerOf(n: number): Promise<string> {
  const root = await tempDir();
  for (let i = 1; i <= n; i++)
    await appendLedger(root, { runId: `R${i}`, reportDigest: digest(i) });
  return root;
}

const lineList = async (root: string): Promise<string[]> =>
  (await readFile(ledgerPath(root), 'utf8')).split('\n').filter((l) => l !== '');

/** A line chained to `prev`, as anyone who can write the ledger can make one. */
const forgedLine = (prev: string, runId = 'FORGED'): string =>
  canonicalJson({
    at: '2026-01-01T00:00:00.000Z',
    prev: sha256(prev),
    reportDigest: digest(99),
    runId,
  });

describe('ledger head pointer', () => {
  it('vouches for an intact ledger; its runs are all recorded', async () => {
    const root = await ledgerOf(3);
    for (const id of ['R1', 'R2', 'R3'])
      await mkdir(join(root, '.gatehouse', 'runs', id), { recursive: true });
    expect(await auditLedger(root)).toMatchObject({
      brokenAt: null,
      headProblems: [],
      unrecorded: [],
    });
    expect(JSON.parse(await readFile(ledgerHeadPath(root), 'utf8'))).toMatchObject({
      count: 3,
      last: sha256((await lineList(root))[2]!),
      pending: null,
      unverified: 0,
      problem: null,
    });
  });

  it('shows lines removed from the end, even all of them', async () => {
    const root = await ledgerOf(3);
    const lines = await lineList(root);
    await writeFile(ledgerPath(root), `${lines.slice(0, 2).join('\n')}\n`);
    const audit = await auditLedger(root);
    expect(audit.brokenAt).toBeNull(); // the chain alone cannot see it
    expect(audit.headProblems).toEqual([
      'the ledger has 2 lines but its head records 3: lines were removed',
    ]);
    await rm(ledgerPath(root));
    expect((await auditLedger(root)).headProblems).toEqual([
      'the ledger has 0 lines but its head records 3: lines were removed',
    ]);
  });

  it('shows a line forged onto the end, or in place of the last one', async () => {
    const root = await ledgerOf(2);
    const lines = await lineList(root);
    await appendFile(ledgerPath(root), `${forgedLine(lines[1]!)}\n`);
    let audit = await auditLedger(root);
    expect(audit.brokenAt).toBeNull();
    expect(audit.headProblems).toEqual([
      'line 3 was not appended by a run (not covered by the head)',
    ]);

    await writeFile(ledgerPath(root), `${lines[0]}\n${forgedLine(lines[0]!)}\n`);
    audit = await auditLedger(root);
    expect(audit.brokenAt).toBeNull();
    expect(audit.headProblems).toEqual([
      'line 2 is not the line the head records: lines were replaced',
    ]);
  });

  it('shows a missing or edited head', async () => {
    const root = await ledgerOf(2);
    const head = await readFile(ledgerHeadPath(root), 'utf8');
    await writeFile(ledgerHeadPath(root), head.replace('"count":2', '"count":3'));
    expect((await auditLedger(root)).headProblems).toEqual([
      'ledger.head does not authenticate (edited, or written under another state key)',
    ]);
    await rm(ledgerHeadPath(root));
    expect((await auditLedger(root)).headProblems).toEqual(['ledger.head is missing']);
  });

  it('an append after tampering goes ahead, and the head keeps saying so', async () => {
    const root = await ledgerOf(3);
    const lines = await lineList(root);
    await writeFile(ledgerPath(root), `${lines.slice(0, 2).join('\n')}\n`);
    await appendLedger(root, { runId: 'R4', reportDigest: digest(4) });
    await appendLedger(root, { runId: 'R5', reportDigest: digest(5) });
    const audit = await auditLedger(root);
    expect(audit.brokenAt).toBeNull();
    expect(audit.entries.map((e) => e.runId)).toEqual(['R1', 'R2', 'R4', 'R5']);
    expect(audit.headProblems).toEqual([
      'lines 1–2 are not verified: the ledger has 2 lines but its head records 3: lines were removed (found when run R4 was appended)',
    ]);
  });

  it('an append stopped between its line and its head is not taken for tampering', async () => {
    const root = await ledgerOf(2);
    const { key } = await projectStateKey(root);
    const lines = await lineList(root);
    const next = forgedLine(lines[1]!, 'R3');
    // The head as an append leaves it before writing its line (signed as appendLedger signs).
    const head = {
      format: 1,
      count: 2,
      last: sha256(lines[1]!),
      pending: sha256(next),
      unverified: 0,
      problem: null,
    };
    await writeFile(
      ledgerHeadPath(root),
      JSON.stringify({ ...head, mac: key!.mac('gatehouse ledger head', canonicalJson(head)) }),
    );
    expect((await auditLedger(root)).headProblems).toEqual([]);
    await appendFile(ledgerPath(root), `${next}\n`);
    expect((await auditLedger(root)).headProblems).toEqual([]);
    await appendLedger(root, { runId: 'R4', reportDigest: digest(4) });
    expect(await auditLedger(root)).toMatchObject({ brokenAt: null, headProblems: [] });
    // Any other line in its place is still caught.
    await writeFile(
      ledgerHeadPath(root),
      JSON.stringify({ ...head, mac: key!.mac('gatehouse ledger head', canonicalJson(head)) }),
    );
    await writeFile(ledgerPath(root), `${lines.join('\n')}\n${forgedLine(lines[1]!)}\n`);
    expect((await auditLedger(root)).headProblems).toEqual([
      'line 3 was not appended by a run (not covered by the head)',
    ]);
  });

  it('a directory where the head belongs does not stop runs; it is reported', async () => {
    const root = await ledgerOf(1);
    await rm(ledgerHeadPath(root));
    await mkdir(join(ledgerHeadPath(root), 'junk'), { recursive: true });
    await appendLedger(root, { runId: 'R2', reportDigest: digest(2) });
    expect((await auditLedger(root)).headProblems).toEqual([
      'line 1 is not verified: ledger.head cannot be read (EISDIR) (found when run R2 was appended)',
    ]);
  });

  it('lists run folders the ledger does not name', async () => {
    const root = await ledgerOf(1);
    const runs = join(root, '.gatehouse', 'runs');
    await mkdir(join(runs, 'R1'), { recursive: true });
    await mkdir(join(runs, 'PLANTED'), { recursive: true });
    await writeFile(join(runs, 'PLANTED', 'report.json'), '{}');
    await mkdir(join(runs, 'HALF'), { recursive: true });
    expect((await auditLedger(root)).unrecorded).toEqual([
      { runId: 'HALF', report: false },
      { runId: 'PLANTED', report: true },
    ]);
  });
});

describe('ledger lock', () => {
  const ownStart = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[19]!;
  const future = new Date(Date.now() + 3600_000);

  async function lockedLedger(holder: object): Promise<{ root: string; lock: string }> {
    const root = await ledgerOf(1);
    const lock = `${ledgerPath(root)}.lock`;
    await writeFile(lock, JSON.stringify(holder));
    await utimes(lock, future, future);
    return { root, lock };
  }

  it('takes over at once a lock whose pid now belongs to another process, whatever its mtime', async () => {
    const { root, lock } = await lockedLedger({ pid: 1, procStart: '12345', nonce: 'reused' });
    const t0 = Date.now();
    await appendLedger(root, { runId: 'R2', reportDigest: digest(2) });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(existsSync(lock)).toBe(false);
  });

  it('a live holder with a future mtime is waited for, then taken over: never blocks for good', async () => {
    for (const holder of [
      { pid: process.pid, procStart: ownStart, nonce: 'stuck' },
      { pid: 1, nonce: 'no-start-time' },
    ]) {
      const { root } = await lockedLedger(holder);
      const t0 = Date.now();
      await appendLedger(root, { runId: 'R2', reportDigest: digest(2) }, { lockStaleMs: 600 });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect((await readLedger(root)).entries.map((e) => e.runId)).toEqual(['R1', 'R2']);
    }
  });

  it('a takeover guard with a future mtime does not block takeovers', async () => {
    const dead = Number(spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim());
    const { root, lock } = await lockedLedger({ pid: dead, nonce: 'crashed' });
    await writeFile(`${lock}.takeover`, '');
    await utimes(`${lock}.takeover`, future, future);
    await appendLedger(root, { runId: 'R2', reportDigest: digest(2) }, { lockStaleMs: 600 });
    expect((await readLedger(root)).entries.map((e) => e.runId)).toEqual(['R1', 'R2']);
  });
});
