/**
 * The persisted hash index may only ever save work: an edited file is hashed again even when
 * the edit left its stat unchanged (racily clean), and an index that does not authenticate
 * is not used at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, StateKey } from '@gatehouse-ci/core';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { hashInputs } from '../src/glob.js';
import { HashIndex, hashIndexPath, nowNs, RACY_WINDOW_NS } from '../src/hash-index.js';
import { cleanup, pipe, project, run, status } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

const key = () => new StateKey(randomBytes(32), '/nonexistent/state.key');
const shaOf = (text: string) => createHash('sha256').update(text).digest('hex');
const SECOND = 1_000_000_000n;

/** A stat with the given times (ns); the other fields fixed. */
function fakeStat(mtimeNs: bigint, ctimeNs = mtimeNs, size = 4n): BigIntStats {
  return { size, mtimeNs, ctimeNs, ino: 42n, dev: 7n } as unknown as BigIntStats;
}

describe('HashIndex.lookup', () => {
  const T = 1_800_000_000n * SECOND;
  it('trusts an unchanged stat hashed well after the file last changed', () => {
    const index = HashIndex.empty();
    index.record('/p/a', fakeStat(T), 'x'.repeat(64), T + 3n * SECOND);
    expect(index.lookup('/p/a', fakeStat(T))).toBe('x'.repeat(64));
  });

  it.each([
    ['mtime in the same second as the hashing', fakeStat(T + 3n * SECOND - SECOND / 2n, T)],
    ['ctime in the same second as the hashing', fakeStat(T, T + 3n * SECOND - SECOND / 2n)],
    ['mtime at the edge of the window', fakeStat(T + 3n * SECOND - RACY_WINDOW_NS, T)],
  ])('does not trust a racily clean entry: %s', (_, st) => {
    const index = HashIndex.empty();
    index.record('/p/a', st, 'x'.repeat(64), T + 3n * SECOND);
    expect(index.lookup('/p/a', st)).toBeNull();
  });

  it.each([
    ['size', fakeStat(T, T, 5n)],
    ['mtime', fakeStat(T + 1n)],
    ['ctime', fakeStat(T, T + 1n)],
    ['inode', { ...fakeStat(T), ino: 43n } as BigIntStats],
    ['device', { ...fakeStat(T), dev: 8n } as BigIntStats],
  ])('does not trust an entry whose %s changed', (_, st) => {
    const index = HashIndex.empty();
    index.record('/p/a', fakeStat(T), 'x'.repeat(64), T + 3n * SECOND);
    expect(index.lookup('/p/a', st)).toBeNull();
  });
});

describe('hashing with a persisted index', () => {
  /**
   * The state a same-size edit within the same clock tick as the hashing leaves behind: the
   * index holds the old content's hash under exactly the stat the edited file has now.
   */
  async function staleIndexFor(hashedAtNs: (st: BigIntStats) => bigint) {
    dir = await project({ 'src/a.txt': 'aaaa' });
    const file = join(dir, 'src', 'a.txt');
    writeFileSync(file, 'bbbb');
    const st = statSync(file, { bigint: true });
    const k = key();
    const stored = await HashIndex.load(hashIndexPath(join(dir, '.gatehouse')), k);
    stored.record(file, st, shaOf('aaaa'), hashedAtNs(st));
    await stored.save();
    const index = await HashIndex.load(hashIndexPath(join(dir, '.gatehouse')), k);
    return hashInputs(dir, ['src/**'], index);
  }

  it('a same-size edit in the same second as the hashing is hashed again (racy check)', async () => {
    expect(await staleIndexFor(() => nowNs())).toEqual([
      { path: 'src/a.txt', sha256: shaOf('bbbb') },
    ]);
  });

  it('a settled entry is used as recorded (so the test above is not vacuous)', async () => {
    // Recorded as hashed long after the file changed: the index answers without reading it.
    const answer = await staleIndexFor((st) => st.ctimeNs + 10n * SECOND);
    expect(answer).toEqual([{ path: 'src/a.txt', sha256: shaOf('aaaa') }]);
  });

  it('an index edited by hand, or written under another key, is not used', async () => {
    dir = await project({ 'src/a.txt': 'aaaa' });
    const file = join(dir, 'src', 'a.txt');
    const path = hashIndexPath(join(dir, '.gatehouse'));
    const st = statSync(file, { bigint: true });
    const k = key();
    const other = await HashIndex.load(path, key());
    other.record(file, st, shaOf('forged'), st.ctimeNs + 10n * SECOND);
    await other.save();
    const loaded = await HashIndex.load(path, k);
    expect((await hashInputs(dir, ['src/**'], loaded))[0]!.sha256).toBe(shaOf('aaaa'));

    const mine = await HashIndex.load(path, k);
    mine.record(file, st, shaOf('aaaa'), st.ctimeNs + 10n * SECOND);
    await mine.save();
    writeFileSync(path, readFileSync(path, 'utf8').replace(shaOf('aaaa'), shaOf('forged')));
    const reloaded = await HashIndex.load(path, k);
    expect(reloaded.lookup(file, st)).toBeNull();
  });
});

describe('runs keep the index', () => {
  it('a run records settled hashes, and an edit after it is seen by the next run', async () => {
    dir = await project({ 'src/a.txt': 'aaaa' });
    const p = pipe(dir, [gate('check', { run: 'grep -q aaaa src/a.txt', inputs: ['src/**'] })]);
    const first = await run(p);
    expect(status(first.report)).toEqual({ check: 'passed' });
    const text = readFileSync(hashIndexPath(join(dir, '.gatehouse')), 'utf8');
    expect(text).toContain(join(dir, 'src', 'a.txt'));
    expect(text).toContain(sha256('aaaa'));
    writeFileSync(join(dir, 'src', 'a.txt'), 'bbbb');
    const second = await run(p);
    expect(status(second.report)).toEqual({ check: 'failed' });
  });
});
