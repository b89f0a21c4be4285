/**
 * Critical path first: when more gates are ready than slots, the one with the longest path
 * left starts first. Asserted on the order gates start, never on timing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from '@gatehouse-ci/core';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { KIND_DURATION_MS, remainingPaths, SlotQueue } from '../src/schedule.js';
import { cleanup, pipe, project, run } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

const starts = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'gate-start' ? [e.id] : []));

// Listed short gates first, so first-come order would start them first.
const gates = () => [
  gate('short1'),
  gate('short2'),
  gate('a'),
  gate('b', { needs: ['a'] }),
  gate('c', { needs: ['b'] }),
];

describe('remainingPaths', () => {
  it('adds the longest chain of dependants to each gate, from kinds before a first run', () => {
    const custom = KIND_DURATION_MS.custom!;
    const paths = remainingPaths(gates(), new Map());
    expect(Object.fromEntries(paths)).toEqual({
      short1: custom,
      short2: custom,
      a: 3 * custom,
      b: 2 * custom,
      c: custom,
    });
  });

  it('prefers the last run’s durations', () => {
    const paths = remainingPaths(
      gates(),
      new Map([
        ['short2', 500],
        ['a', 1],
        ['b', 1],
        ['c', 1],
      ]),
    );
    expect(paths.get('short2')).toBe(500);
    expect(paths.get('a')).toBe(3);
  });
});

describe('SlotQueue', () => {
  it('hands a slot out only when no gate is still being prepared, highest priority first', async () => {
    const q = new SlotQueue(1);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) q.preparing();
    const low = q.ready(1).then(() => order.push('low'));
    await Promise.resolve();
    expect(order).toEqual([]); // two gates are still being prepared
    const high = q.ready(5).then(() => order.push('high'));
    q.prepared(); // the third was a cache hit
    await high;
    expect(order).toEqual(['high']);
    q.release();
    await Promise.resolve();
    expect(order).toEqual(['high']); // a released slot waits for the scheduler's dispatch
    q.dispatch();
    await low;
    expect(order).toEqual(['high', 'low']);
  });
});

describe('critical path first', () => {
  it('with one slot, starts the head of the longest chain first, and its next link next', async () => {
    dir = await project();
    const { events } = await run(pipe(dir, gates()), { concurrency: 1, noCache: true });
    const order = starts(events);
    expect(order.slice(0, 2)).toEqual(['a', 'b']);
    expect(order).toHaveLength(5);
  });

  it('uses the durations of the last run’s report', async () => {
    dir = await project();
    mkdirSync(join(dir, '.gatehouse', 'report'), { recursive: true });
    const last = { short2: 600_000, a: 10, b: 10, c: 10, short1: 10 };
    writeFileSync(
      join(dir, '.gatehouse', 'report', 'report.json'),
      JSON.stringify({
        gates: Object.entries(last).map(([id, durationMs]) => ({
          id,
          status: 'passed',
          durationMs,
        })),
      }),
    );
    const { events } = await run(pipe(dir, gates()), { concurrency: 1, noCache: true });
    expect(starts(events)[0]).toBe('short2');
  });
});
