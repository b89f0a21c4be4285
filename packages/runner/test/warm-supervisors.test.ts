/**
 * Gate supervisors started ahead of the gates that need them: a gate that becomes ready does
 * not wait for a Node process to start, a run whose gates all come from the cache starts none,
 * and none is left when the run ends.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { MARKER_VAR, newRunToken, SupervisorPool } from '../src/proc.js';
import { runScheduled } from '../src/schedule.js';
import { cleanup, pipe, processesWith, project, run, waitFor } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

/** Seconds since boot, as `/proc/uptime` and `/proc/<pid>/stat`'s start time count them. */
const TICKS = 100; // USER_HZ on Linux

describe('warm gate supervisors', () => {
  it("starts a gate's supervisor before the gate it needs has ended, and leaves none behind", async () => {
    dir = await project();
    // `b` needs `a`: `a` writes the time it ended, `b` the time its supervisor (its parent's
    // parent: the supervisor runs `/bin/sh -c`, which runs this line) started.
    const p = pipe(dir, [
      gate('a', { run: 'sleep 0.3; cut -d" " -f1 /proc/uptime > a-end.txt' }),
      gate('b', {
        run:
          'cut -d" " -f22 /proc/$PPID/stat > b-supervisor-start.txt; ' +
          `tr '\\0' '\\n' < /proc/$PPID/environ | grep '^${MARKER_VAR}=' > b-marker.txt`,
        needs: ['a'],
      }),
    ]);
    const { report } = await run(p, { noCache: true });
    expect(report.verdict.status).toBe('passed');
    const aEnd = Number(readFileSync(join(dir, 'a-end.txt'), 'utf8'));
    const bSupervisorStart =
      Number(readFileSync(join(dir, 'b-supervisor-start.txt'), 'utf8')) / TICKS;
    expect(Number.isFinite(aEnd) && Number.isFinite(bSupervisorStart)).toBe(true);
    expect(bSupervisorStart).toBeLessThan(aEnd);
    // Nothing of the run is left, no waiting supervisor either: no process carries its token.
    const marker = readFileSync(join(dir, 'b-marker.txt'), 'utf8').trim();
    const token = /^[A-Z_]+=([0-9a-f]{32})\.[0-9a-f]+$/.exec(marker)?.[1];
    expect(token, marker).toBeDefined();
    expect(processesWith(`${MARKER_VAR}=${token}.`)).toEqual([]);
  });

  it('a run whose gates all come from the cache asks for no process', async () => {
    dir = await project({ 'in.txt': 'x\n' });
    const gates = [gate('x', { run: 'true', inputs: ['in.txt'] }), gate('y', { run: 'true' })];
    const asked: number[] = [];
    const s = {
      gates,
      byId: new Map(gates.map((g) => [g.id, g])),
      concurrency: 2,
      priority: new Map<string, number>(),
      skipReason: () => null,
      ended: () => undefined,
      warm: (n: number) => asked.push(n),
    };
    const cached = (g: (typeof gates)[number]) => ({
      result: { id: g.id, status: 'passed' } as never,
    });
    await runScheduled({ ...s, prepare: async (g) => cached(g) });
    expect(asked).toEqual([]);
    // With processes to run: asked for at most `concurrency`, and for none once all started.
    await runScheduled({
      ...s,
      prepare: async (g) => ({ run: async () => ({ id: g.id, status: 'passed' }) as never }),
    });
    expect(asked.length).toBeGreaterThan(0);
    expect(Math.max(...asked)).toBeLessThanOrEqual(2);
    expect(asked.at(-1)).toBe(0);
  });

  it('keeps the number asked for, and close ends the ones never used', async () => {
    const token = newRunToken();
    const pool = new SupervisorPool(token);
    try {
      pool.keep(3);
      expect(pool.idle).toBe(3);
      await waitFor(() => processesWith(`${MARKER_VAR}=${token}.`).length === 3);
      pool.keep(1);
      await waitFor(() => processesWith(`${MARKER_VAR}=${token}.`).length === 1);
      expect(pool.take()).not.toBeNull();
      expect(pool.take()).toBeNull();
      pool.keep(2);
    } finally {
      await pool.close();
    }
    // The taken one was never given a command: ending its socket ends it too.
    await waitFor(() => processesWith(`${MARKER_VAR}=${token}.`).length <= 1);
    expect(pool.idle).toBe(0);
    pool.keep(2);
    expect(pool.idle).toBe(0);
  });
});
