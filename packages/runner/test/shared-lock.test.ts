import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '@gatehouse-ci/core';
import { auditLedger, readLedger } from '@gatehouse-ci/report';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireRunLock, holderAlive, lockPaths } from '../src/index.js';
import { allFiles, cleanup, pipe, project, run, status, waitFor } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(here, '..', '..');
const child = join(here, 'fixtures', 'run-child.mjs');

/**
 * Child processes run the built runner (and the core and report it imports): a `.ts` file
 * newer than its `.js` means the build is stale and the children would test old code.
 */
function staleBuild(): string | null {
  for (const pkg of ['core', 'report', 'runner']) {
    const src = join(packagesDir, pkg, 'src');
    for (const f of allFiles(src)) {
      if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
      const js = join(packagesDir, pkg, 'dist', relative(src, f).replace(/\.ts$/, '.js'));
      if (!existsSync(js)) return `${js} is missing`;
      if (statSync(js).mtimeMs < statSync(f).mtimeMs) return `${js} is older than its source`;
    }
  }
  return null;
}

let buildProblem: string | null = null;
beforeAll(() => {
  buildProblem = staleBuild();
  if (buildProblem !== null && process.env.CI) {
    throw new Error(
      `these tests run the built runner in child processes, but ${buildProblem}: run \`pnpm build\` first`,
    );
  }
});
/** Outside CI, tests that need the build are marked skipped (with the reason) when it is stale. */
function needsBuild(ctx: { skip: (note?: string) => void }): void {
  if (buildProblem !== null) ctx.skip(`${buildProblem}; run \`pnpm build\` first`);
}

interface ChildOutcome {
  ok: boolean;
  pid: number;
  runId?: string;
  verdict?: string;
  gates?: Array<{ id: string; status: string; startedAt: string; finishedAt: string }>;
  code?: string | null;
  message?: string;
}

/** A run in another process: `only` empty means a full run. */
function runChild(
  dir: string,
  only: string[],
  waitMs: number,
): { pid: number; done: Promise<ChildOutcome> } {
  const proc = spawn(
    process.execPath,
    [child, join(dir, 'pipeline.json'), only.join(','), String(waitMs)],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<ChildOutcome>((resolve, reject) => {
    proc.on('close', (code) => {
      try {
        resolve(JSON.parse(out) as ChildOutcome);
      } catch {
        reject(new Error(`child exited ${code} without a result: ${out}${err}`));
      }
    });
  });
  return { pid: proc.pid!, done };
}

/** A gate that says it started, then holds until `release/<id>` exists (or gives up after 30 s). */
function held(id: string) {
  return gate(id, {
    run: `touch started/${id}; i=0; until [ -e release/${id} ]; do i=$((i+1)); [ $i -gt 300 ] && exit 9; sleep 0.1; done`,
  });
}

/** A gate that says it started, then waits until `n` gates have (or gives up after 30 s). */
function barrier(id: string, n: number) {
  return gate(id, {
    run: `touch started/${id}; i=0; while [ "$(ls started | wc -l)" -lt ${n} ]; do i=$((i+1)); [ $i -gt 300 ] && exit 9; sleep 0.1; done`,
  });
}

async function workspace(gates: ReturnType<typeof gate>[]): Promise<string> {
  const dir = await project();
  mkdirSync(join(dir, 'started'));
  mkdirSync(join(dir, 'release'));
  writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(pipe(dir, gates)));
  return dir;
}

const started = (dir: string, id: string) => existsSync(join(dir, 'started', id));
const release = (dir: string, id: string) => writeFileSync(join(dir, 'release', id), '');
const ms = (iso: string) => Date.parse(iso);

let dir = '';
afterEach(() => cleanup(dir));

describe('shared lock: --only runs in one workspace', () => {
  it('runs four --only runs of different gates at the same time; the ledger chain stays linear', async (ctx) => {
    needsBuild(ctx);
    const ids = ['a', 'b', 'c', 'd'];
    dir = await workspace(ids.map((id) => barrier(id, ids.length)));
    const outcomes = await Promise.all(ids.map((id) => runChild(dir, [id], 0).done));

    for (const [i, o] of outcomes.entries()) {
      expect(o, JSON.stringify(o)).toMatchObject({ ok: true, verdict: 'passed' });
      expect(o.gates).toEqual([expect.objectContaining({ id: ids[i], status: 'passed' })]);
    }
    // Each gate waited for all four to start, so their windows share a common instant.
    const windows = outcomes.map((o) => o.gates![0]!);
    expect(Math.max(...windows.map((w) => ms(w.startedAt)))).toBeLessThan(
      Math.min(...windows.map((w) => ms(w.finishedAt))),
    );

    const ledger = await auditLedger(dir);
    expect(ledger.problem).toBeNull();
    // Four processes appending at once leave the head pointer matching the chain.
    expect(ledger.headProblems).toEqual([]);
    expect(ledger.entries.map((e) => e.runId).sort()).toEqual(outcomes.map((o) => o.runId).sort());

    // The latest report is one whole run's report, and nothing of the locks or swaps is left.
    const latest = JSON.parse(
      readFileSync(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'),
    ) as RunReport;
    expect(outcomes.map((o) => o.runId)).toContain(latest.runId);
    for (const f of ['report.html', 'report.md', 'junit.xml']) {
      expect(readFileSync(join(dir, '.gatehouse', 'report', f), 'utf8')).toContain(latest.runId);
    }
    const left = readdirSync(join(dir, '.gatehouse')).filter(
      (n) => n.startsWith('.') || n === 'lock' || n.endsWith('.tmp'),
    );
    expect(left).toEqual([]);
    expect(readdirSync(join(dir, '.gatehouse', 'locks'))).toEqual(['shared']);
    expect(readdirSync(join(dir, '.gatehouse', 'locks', 'shared'))).toEqual([]);
  });

  it('a full run refuses while --only runs hold the shared lock, naming them, and waits with --wait', async (ctx) => {
    needsBuild(ctx);
    dir = await workspace([held('a'), held('b')]);
    const p = pipe(dir, [held('a'), held('b')]);
    const a = runChild(dir, ['a'], 0);
    await waitFor(() => started(dir, 'a'), 20_000);

    await expect(run(p)).rejects.toMatchObject({
      code: 'GH_LOCKED',
      message: expect.stringMatching(
        new RegExp(`gatehouse --only run holds the shared lock .*pid ${a.pid} \\(--only a,`),
      ),
    });
    expect(started(dir, 'b')).toBe(false);

    release(dir, 'b');
    const full = run(p, { lockWaitMs: 30_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(started(dir, 'b')).toBe(false);
    release(dir, 'a');
    const [ao, { report }] = await Promise.all([a.done, full]);
    expect(ao).toMatchObject({ ok: true, verdict: 'passed' });
    expect(status(report)).toEqual({ a: 'passed', b: 'passed' });
    // The full run started its gates only after the --only run had finished.
    expect(ms(report.gates[0]!.startedAt)).toBeGreaterThanOrEqual(ms(ao.gates![0]!.finishedAt));
    expect((await readLedger(dir)).problem).toBeNull();
  });

  it('an --only run refuses while a full run holds the project, naming it', async (ctx) => {
    needsBuild(ctx);
    dir = await workspace([held('a'), held('b')]);
    const full = run(pipe(dir, [held('a'), held('b')]));
    await waitFor(() => started(dir, 'a'), 20_000);
    const o = await runChild(dir, ['b'], 0).done;
    expect(o).toMatchObject({
      ok: false,
      code: 'GH_LOCKED',
      message: expect.stringContaining(`a full gatehouse run (pid ${process.pid},`),
    });
    release(dir, 'a');
    release(dir, 'b');
    expect(status((await full).report)).toEqual({ a: 'passed', b: 'passed' });
  });

  it('two --only runs of the same gate take turns', async (ctx) => {
    needsBuild(ctx);
    dir = await workspace([held('a')]);
    const first = runChild(dir, ['a'], 0);
    await waitFor(() => started(dir, 'a'), 20_000);

    const refused = await runChild(dir, ['a'], 0).done;
    expect(refused).toMatchObject({
      ok: false,
      code: 'GH_LOCKED',
      message: expect.stringContaining(`(pid ${first.pid},`),
    });
    expect(refused.message).toContain('is running gate a');

    const second = runChild(dir, ['a'], 30_000);
    await new Promise((r) => setTimeout(r, 500));
    release(dir, 'a');
    const [f, s] = await Promise.all([first.done, second.done]);
    expect(f).toMatchObject({ ok: true, verdict: 'passed' });
    expect(s).toMatchObject({ ok: true, verdict: 'passed' });
    expect(ms(s.gates![0]!.startedAt)).toBeGreaterThanOrEqual(ms(f.gates![0]!.finishedAt));
    const ledger = await readLedger(dir);
    expect(ledger.problem).toBeNull();
    expect(ledger.entries).toHaveLength(2);
  });
});

describe('shared lock: stale holders', () => {
  const deadPid = () => Number(spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim());

  it('a full run takes over shared-holder files of dead processes and of reused pids', async () => {
    dir = await project();
    const { sharedDir } = lockPaths(join(dir, '.gatehouse'));
    mkdirSync(sharedDir, { recursive: true });
    writeFileSync(
      join(sharedDir, 'dead.json'),
      JSON.stringify({
        pid: deadPid(),
        startedAt: '2020-01-01T00:00:00Z',
        runId: 'dead',
        gates: ['a'],
      }),
    );
    // A live pid whose process started at another time is not the process that wrote the file.
    writeFileSync(
      join(sharedDir, 'reused.json'),
      JSON.stringify({
        pid: process.pid,
        procStart: '1',
        startedAt: '2020-01-01T00:00:00Z',
        runId: 'reused',
        gates: ['b'],
      }),
    );
    const { report } = await run(pipe(dir, [gate('a', { run: 'true' })]));
    expect(report.gates[0]!.status).toBe('passed');
    expect(readdirSync(sharedDir)).toEqual([]);
  });

  it('an --only run takes over a dead gate lock and a dead full run lock', async () => {
    dir = await project();
    const paths = lockPaths(join(dir, '.gatehouse'));
    mkdirSync(dirname(paths.gate('a')), { recursive: true });
    writeFileSync(
      paths.gate('a'),
      JSON.stringify({ pid: deadPid(), startedAt: '2020-01-01T00:00:00Z', runId: 'old' }),
    );
    writeFileSync(
      paths.exclusive,
      JSON.stringify({ pid: deadPid(), startedAt: '2020-01-01T00:00:00Z', runId: 'older' }),
    );
    const { report } = await run(pipe(dir, [gate('a', { run: 'true' })]), { only: ['a'] });
    expect(report.gates[0]!.status).toBe('passed');
    expect(existsSync(paths.gate('a'))).toBe(false);
    expect(existsSync(paths.exclusive)).toBe(false);
  });

  it('a live shared holder in another process blocks a full run until it is gone', async () => {
    dir = await project();
    const stateDir = join(dir, '.gatehouse');
    const holder = spawn('sleep', ['30']);
    try {
      const { sharedDir } = lockPaths(stateDir);
      mkdirSync(sharedDir, { recursive: true });
      writeFileSync(
        join(sharedDir, 'live.json'),
        JSON.stringify({
          pid: holder.pid,
          startedAt: '2025-01-01T00:00:00Z',
          runId: 'live',
          gates: ['x'],
        }),
      );
      expect(holderAlive({ pid: holder.pid! })).toBe(true);
      await expect(acquireRunLock(stateDir, { runId: 'full', waitMs: 0 })).rejects.toMatchObject({
        code: 'GH_LOCKED',
        message: expect.stringContaining(`pid ${holder.pid} (--only x,`),
      });
      // Refusing leaves no exclusive lock behind.
      expect(existsSync(lockPaths(stateDir).exclusive)).toBe(false);
      const waiting = acquireRunLock(stateDir, { runId: 'full', waitMs: 20_000 });
      setTimeout(() => holder.kill('SIGKILL'), 300);
      const lock = await waiting;
      expect(readdirSync(sharedDir)).toEqual([]);
      await lock.release();
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('shared holders of different gates coexist; the same gate is refused (in-process)', async () => {
    dir = await project();
    const stateDir = join(dir, '.gatehouse');
    const a = await acquireRunLock(stateDir, { runId: 'r1', waitMs: 0, sharedGates: ['a'] });
    const b = await acquireRunLock(stateDir, { runId: 'r2', waitMs: 0, sharedGates: ['b', 'c'] });
    await expect(
      acquireRunLock(stateDir, { runId: 'r3', waitMs: 0, sharedGates: ['c'] }),
    ).rejects.toMatchObject({
      code: 'GH_LOCKED',
      message: expect.stringContaining('is running gate c'),
    });
    // The refused run released what it had taken: only r1 and r2 are registered.
    expect(readdirSync(lockPaths(stateDir).sharedDir).sort()).toEqual(['r1.json', 'r2.json']);
    await a.release();
    await b.release();
    expect(readdirSync(lockPaths(stateDir).sharedDir)).toEqual([]);
    const full = await acquireRunLock(stateDir, { runId: 'r4', waitMs: 0 });
    await full.release();
  });
});
