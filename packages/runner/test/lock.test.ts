import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../src/index.js';
import { cleanup, pipe, project, run, sleep } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

describe('lock', () => {
  it('refuses a second run while one holds the lock, naming the holder pid', async () => {
    dir = await project();
    const p = pipe(dir, [gate('a', { run: 'sleep 0.5' })]);
    const first = run(p);
    await sleep(150);
    await expect(run(pipe(dir, [gate('b', { run: 'touch b-ran' })]))).rejects.toMatchObject({
      code: 'GH_LOCKED',
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    expect(existsSync(join(dir, 'b-ran'))).toBe(false);
    await first;
    expect(existsSync(join(dir, '.gatehouse', 'lock'))).toBe(false);
  });

  it('refuses while another live process holds the lock', async () => {
    dir = await project();
    const holder = spawn('sleep', ['30']);
    try {
      mkdirSync(join(dir, '.gatehouse'), { recursive: true });
      writeFileSync(
        join(dir, '.gatehouse', 'lock'),
        JSON.stringify({ pid: holder.pid, startedAt: '2025-01-01T00:00:00Z', runId: 'other' }),
      );
      await expect(run(pipe(dir, [gate('a', { run: 'touch ran' })]))).rejects.toMatchObject({
        code: 'GH_LOCKED',
        message: expect.stringContaining(`pid ${holder.pid}`),
      });
      expect(existsSync(join(dir, 'ran'))).toBe(false);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('waits for the holder when asked to', async () => {
    dir = await project();
    const held = await acquireLock(join(dir, '.gatehouse', 'lock'), 'other', 0);
    setTimeout(() => void held.release(), 300);
    const { report } = await run(pipe(dir, [gate('a', { run: 'true' })]), { lockWaitMs: 5_000 });
    expect(report.gates[0]!.status).toBe('passed');
  });

  it('takes over a stale lock left by a dead process', async () => {
    dir = await project();
    const dead = spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim();
    const lockPath = join(dir, '.gatehouse', 'lock');
    mkdirSync(join(dir, '.gatehouse'), { recursive: true });
    writeFileSync(
      lockPath,
      JSON.stringify({ pid: Number(dead), startedAt: '2020-01-01T00:00:00Z', runId: 'old' }),
    );
    const { report } = await run(pipe(dir, [gate('a', { run: 'true' })]));
    expect(report.gates[0]!.status).toBe('passed');
  });
});
