/**
 * The gate cache replays results and files into a run, and anything that can write the project
 * can write `.gatehouse/cache/`: what is replayed must authenticate, restored files must stay
 * inside the project, and damaged state must be cleared rather than fail every run.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { canonicalJson, projectStateKey, sha256, type RunEvent } from '@gatehouse-ci/core';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { explain } from '../src/index.js';
import { allFiles, cleanup, pipe, project, run, status } from './helpers.js';

let dir = '';
const outside: string[] = [];
afterEach(async () => {
  await cleanup(dir);
  for (const d of outside.splice(0)) rmSync(d, { recursive: true, force: true });
});

function outsideDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'gh-outside-'));
  outside.push(d);
  return d;
}

const cacheDir = () => join(dir, '.gatehouse', 'cache');
const entryKeys = () => readdirSync(join(cacheDir(), 'entries'));
const entryJson = (key: string) => join(cacheDir(), 'entries', key, 'entry.json');
const warnings = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'message' && e.level === 'warn' ? [e.text] : []));

type Entry = Record<string, unknown> & {
  checksum?: string;
  mac?: string;
  result: Record<string, unknown>;
  files: Array<{ path: string; sha256: string; bytes: number }>;
};

/** Edit an entry as someone who can write `.gatehouse/` can: recompute every unkeyed digest. */
function forge(key: string, edit: (e: Entry) => void): void {
  const e = JSON.parse(readFileSync(entryJson(key), 'utf8')) as Entry;
  edit(e);
  const { checksum, mac, ...rest } = e;
  void mac;
  if (checksum !== undefined) e.checksum = sha256(canonicalJson(rest));
  writeFileSync(entryJson(key), JSON.stringify(e));
}

/** An extra file in an entry, listed with its true size and digest. */
function addFile(key: string, path: string, content: string): (e: Entry) => void {
  const abs = join(cacheDir(), 'entries', key, path);
  mkdirSync(join(abs, '..'), { recursive: true });
  writeFileSync(abs, content);
  return (e) => e.files.push({ path, sha256: sha256(content), bytes: Buffer.byteLength(content) });
}

const build = (run = 'mkdir -p dist && cat src/app.js > dist/app.js') =>
  gate('build', { inputs: ['src/**'], outputs: ['dist/**'], run });

describe('cache entries are authenticated', () => {
  it('a forged result is not replayed: the gate runs and the entry is removed', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const gates = [gate('unit', { inputs: ['src/**'], run: 'echo ran >> count' })];
    await run(pipe(dir, gates));
    const [key] = entryKeys();
    // Only passes are stored: the forgery rewrites what the pass says.
    forge(key!, (e) => {
      e.result = { ...e.result, durationMs: 424242, reason: 'forged' };
    });

    const second = await run(pipe(dir, gates));
    expect(second.report.gates[0]).toMatchObject({ status: 'passed', exitCode: 0, reason: null });
    expect(second.report.gates[0]!.durationMs).not.toBe(424242);
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('ran\nran\n');
    expect(warnings(second.events).join('\n')).toMatch(
      /is damaged \(entry\.json is not authenticated/,
    );
    // The rerun stored the true result again.
    const stored = JSON.parse(readFileSync(entryJson(key!), 'utf8')) as {
      result: { reason: string | null; durationMs: number };
    };
    expect([stored.result.reason, stored.result.durationMs === 424242]).toEqual([null, false]);
  });

  it('a file of an entry edited in place, its times set back, is refused once the hash index knows it', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const gates = [build()];
    await run(pipe(dir, gates));
    const [key] = entryKeys();
    // Past the racy window, a replay records the entry's files in the hash index...
    await new Promise((r) => setTimeout(r, 2_200));
    const second = await run(pipe(dir, gates));
    expect(second.report.gates[0]!.status).toBe('cached');
    // ...which must not vouch for bytes changed since, whatever their size and mtime say.
    const stored = join(cacheDir(), 'entries', key!, 'outputs', 'dist', 'app.js');
    const times = join(outsideDir(), 'times');
    execFileSync('cp', ['-p', stored, times]);
    writeFileSync(stored, 'bad\n');
    // Every stat field but ctime as before, to the nanosecond (`touch -r` copies them exactly).
    execFileSync('touch', ['-r', times, stored]);
    expect(statSync(stored, { bigint: true }).mtimeNs).toBe(
      statSync(times, { bigint: true }).mtimeNs,
    );

    const third = await run(pipe(dir, gates));
    expect(third.report.gates[0]!.status).toBe('passed');
    expect(warnings(third.events).join('\n')).toMatch(
      /is damaged \(outputs\/dist\/app\.js content does not match its sha256\)/,
    );
    expect(readFileSync(join(dir, 'dist', 'app.js'), 'utf8')).toBe('app\n');
  });

  it('a forged entry cannot restore a file outside the project', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const out = outsideDir();
    await run(pipe(dir, [build()]));
    const [key] = entryKeys();
    // Joined to the entry it names a file the entry holds; joined to the project, one beside it.
    forge(key!, addFile(key!, `outputs/../${basename(out)}/escaped.txt`, 'pwned\n'));
    rmSync(join(dir, 'dist'), { recursive: true });

    const second = await run(pipe(dir, [build()]));
    expect(status(second.report)).toEqual({ build: 'passed' });
    expect(existsSync(join(out, 'escaped.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'dist', 'app.js'), 'utf8')).toBe('app\n');
  });

  it('even an authenticated entry never restores outside the project or into .git', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    mkdirSync(join(dir, '.git', 'hooks'), { recursive: true });
    const out = outsideDir();
    const { key: stateKey } = await projectStateKey(dir);
    for (const path of [
      `outputs/../${basename(out)}/escaped.txt`,
      'outputs/.git/hooks/pre-commit',
    ]) {
      await run(pipe(dir, [build()]));
      const [key] = entryKeys();
      // Defence in depth: signed as the runner signs (label and canonical JSON of the rest).
      const e = JSON.parse(readFileSync(entryJson(key!), 'utf8')) as Entry;
      addFile(key!, path, '#!/bin/sh\necho pwned\n')(e);
      const { mac, ...rest } = e;
      void mac;
      e.mac = stateKey!.mac('gatehouse cache entry', canonicalJson(rest));
      writeFileSync(entryJson(key!), JSON.stringify(e));

      const second = await run(pipe(dir, [build()]));
      expect(status(second.report)).toEqual({ build: 'passed' });
      expect(warnings(second.events).join('\n')).toMatch(/entry\.json lists a path/);
    }
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(join(dir, '.git', 'hooks', 'pre-commit'))).toBe(false);
  });

  it('a setup record rewritten by hand does not skip setup', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const setup = {
      run: 'echo setup >> setup-count',
      inputs: [],
      env: {},
      secrets: [],
      timeoutMs: 60_000,
    };
    const p = pipe(dir, [gate('a', { run: 'true' })], { setup });
    await run(p);
    await run(p);
    expect(readFileSync(join(dir, 'setup-count'), 'utf8')).toBe('setup\n');
    const file = join(cacheDir(), 'setup.json');
    const { key } = JSON.parse(readFileSync(file, 'utf8')) as { key: string };
    writeFileSync(file, JSON.stringify({ key, at: new Date().toISOString() }));
    await run(p);
    expect(readFileSync(join(dir, 'setup-count'), 'utf8')).toBe('setup\nsetup\n');
  });

  it('without a state key outside the project the cache is not used', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const saved = process.env.XDG_STATE_HOME;
    process.env.XDG_STATE_HOME = join(dir, 'state');
    try {
      const gates = [gate('unit', { inputs: ['src/**'], run: 'echo ran >> count' })];
      await run(pipe(dir, gates));
      const second = await run(pipe(dir, gates));
      expect(status(second.report)).toEqual({ unit: 'passed' });
      expect(warnings(second.events)).toEqual([
        `the cache is not used: the state key directory ${join(dir, 'state', 'gatehouse')} is inside the project`,
      ]);
      expect(existsSync(join(cacheDir(), 'entries'))).toBe(false);
      expect(existsSync(join(dir, 'state'))).toBe(false);
      expect((await explain(pipe(dir, gates)))[0]!.reasons).toEqual([
        `cache not used (the state key directory ${join(dir, 'state', 'gatehouse')} is inside the project)`,
      ]);
    } finally {
      if (saved === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = saved;
    }
  });
});

describe('outputs stay inside the project', () => {
  it('an output that links out of the project is not copied into the cache', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const out = outsideDir();
    writeFileSync(join(out, 'secret.txt'), 'outside secret\n');
    const gates = [build(`mkdir -p dist && ln -sf ${out}/secret.txt dist/leak.txt`)];
    const first = await run(pipe(dir, gates));
    expect(status(first.report)).toEqual({ build: 'passed' });
    expect(warnings(first.events).join('\n')).toMatch(
      /could not store gate build in the cache: dist\/leak\.txt resolves outside the project/,
    );
    for (const f of allFiles(cacheDir()))
      expect(readFileSync(f, 'utf8')).not.toContain('outside secret');
    // Nothing cached: the next run runs the gate again.
    expect(status((await run(pipe(dir, gates))).report)).toEqual({ build: 'passed' });
  });

  it('a cached run does not write through an outputs directory linked outside', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const out = outsideDir();
    // The gate itself leaves a linked dist/ alone, so anything written there came from a restore.
    const gates = [build('test -L dist || { mkdir -p dist && cat src/app.js > dist/app.js; }')];
    await run(pipe(dir, gates));
    rmSync(join(dir, 'dist'), { recursive: true });
    symlinkSync(out, join(dir, 'dist'));

    const second = await run(pipe(dir, gates));
    expect(status(second.report)).toEqual({ build: 'passed' });
    expect(readdirSync(out)).toEqual([]);
    expect(warnings(second.events).join('\n')).toMatch(
      /cannot be restored \(dist is a symbolic link; not writing dist\/app\.js through it\); running the gate/,
    );
  });

  it('a restore replaces a link standing at an output path instead of writing through it', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const out = outsideDir();
    writeFileSync(join(out, 'target.txt'), 'untouched\n');
    await run(pipe(dir, [build()]));
    rmSync(join(dir, 'dist', 'app.js'));
    symlinkSync(join(out, 'target.txt'), join(dir, 'dist', 'app.js'));

    const second = await run(pipe(dir, [build()]));
    expect(status(second.report)).toEqual({ build: 'cached' });
    expect(readFileSync(join(out, 'target.txt'), 'utf8')).toBe('untouched\n');
    expect(lstatSync(join(dir, 'dist', 'app.js')).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dir, 'dist', 'app.js'), 'utf8')).toBe('app\n');
  });
});

describe('damaged cache state is cleared, never fatal', () => {
  it('entry.json replaced by a directory: the gate runs and the next run hits again', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const gates = [gate('unit', { inputs: ['src/**'], run: 'echo ran >> count' })];
    await run(pipe(dir, gates));
    const [key] = entryKeys();
    rmSync(entryJson(key!));
    mkdirSync(entryJson(key!));

    const second = await run(pipe(dir, gates));
    expect(status(second.report)).toEqual({ unit: 'passed' });
    expect(warnings(second.events).join('\n')).toMatch(/entry\.json cannot be read \(EISDIR\)/);
    expect(status((await run(pipe(dir, gates))).report)).toEqual({ unit: 'cached' });
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('ran\nran\n');
  });

  it('cache/entries replaced by a file, and index and setup records by directories', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const setup = { run: 'true', inputs: [], env: {}, secrets: [], timeoutMs: 60_000 };
    const gates = [gate('unit', { inputs: ['src/**'], run: 'echo ran >> count' })];
    await run(pipe(dir, gates, { setup }));
    rmSync(join(cacheDir(), 'entries'), { recursive: true });
    writeFileSync(join(cacheDir(), 'entries'), 'junk');
    rmSync(join(cacheDir(), 'index', 'unit.json'));
    mkdirSync(join(cacheDir(), 'index', 'unit.json'));
    rmSync(join(cacheDir(), 'setup.json'));
    mkdirSync(join(cacheDir(), 'setup.json'));

    const second = await run(pipe(dir, gates, { setup }));
    expect(status(second.report)).toEqual({ unit: 'passed' });
    expect(warnings(second.events).join('\n')).toMatch(/cache\/entries is not a directory/);
    const third = await run(pipe(dir, gates, { setup }));
    expect(status(third.report)).toEqual({ unit: 'cached' });
    expect(third.events.find((e) => e.type === 'setup-end')).toMatchObject({ cached: true });
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('ran\nran\n');
  });
});
