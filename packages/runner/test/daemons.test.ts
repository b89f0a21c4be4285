import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  alive,
  cleanup,
  killAll,
  pipe,
  processesWith,
  project,
  run,
  status,
  waitFor,
} from './helpers.js';

// Gates that start daemons: `setsid` puts the daemon in a session (and process group) of its own,
// and it keeps the gate's stdout open. Each gate's processes carry PROBE=<unique id> in their
// environment, so the test can find every one of them in /proc, whatever the runner tracks.

let dir = '';
let probe = '';
afterEach(async () => {
  // Whatever a failed assertion left behind must not outlive the test.
  killAll(processesWith(`PROBE=${probe}`));
  await cleanup(dir);
});

const DAEMON = `setsid sh -c 'echo $$ > daemon.pid; exec sleep 120' &`;

async function daemonProject() {
  dir = await project();
  probe = randomBytes(8).toString('hex');
  return { PROBE: probe };
}

function pidIn(file: string): number {
  return Number(readFileSync(join(dir, file), 'utf8'));
}

/** The marker the runner gave the gate's processes, as the gate saw it. */
function markerSeen(): string {
  const m = readFileSync(join(dir, 'marker'), 'utf8').trim();
  expect(m).toMatch(/^[0-9a-f]{32}\.[0-9a-f]+$/);
  return m;
}

const ready = () =>
  existsSync(join(dir, 'daemon.pid')) &&
  readFileSync(join(dir, 'daemon.pid'), 'utf8').endsWith('\n');

describe('daemons and process trees', () => {
  it('a timeout ends a gate whose setsid daemon holds stdout: timeout within seconds, nothing left', async () => {
    const env = await daemonProject();
    const t0 = Date.now();
    const { report } = await run(
      pipe(dir, [
        gate('d', {
          env,
          timeoutMs: 2_000,
          run: `echo "$GATEHOUSE_GATE_TOKEN" > marker; ${DAEMON} echo started; sleep 120`,
        }),
      ]),
    );
    const took = Date.now() - t0;
    expect(report.gates[0]!.status).toBe('timeout');
    // 2 s timeout + 0.3 s grace; the bound only has to tell seconds from the daemon's 120 s.
    expect(took).toBeLessThan(20_000);
    expect(alive(pidIn('daemon.pid'))).toBe(false);
    expect(processesWith(`PROBE=${probe}`)).toEqual([]);
    expect(processesWith(`GATEHOUSE_GATE_TOKEN=${markerSeen()}`)).toEqual([]);
    expect(report.gates[0]!.log.bytes).toBe('started\n'.length);
  });

  it('an abort (Ctrl-C) ends such a gate as interrupted within seconds, nothing left', async () => {
    const env = await daemonProject();
    const ac = new AbortController();
    const pending = run(
      pipe(dir, [
        gate('d', {
          env,
          run: `echo "$GATEHOUSE_GATE_TOKEN" > marker; ${DAEMON} sleep 120`,
        }),
      ]),
      { signal: ac.signal },
    );
    await waitFor(ready);
    const t0 = Date.now();
    ac.abort();
    const { report } = await pending;
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(status(report)).toEqual({ d: 'interrupted' });
    expect(alive(pidIn('daemon.pid'))).toBe(false);
    expect(processesWith(`PROBE=${probe}`)).toEqual([]);
    expect(processesWith(`GATEHOUSE_GATE_TOKEN=${markerSeen()}`)).toEqual([]);
  });

  it('a gate that exits and leaves a setsid daemon holding stdout passes promptly; the daemon is stopped', async () => {
    const env = await daemonProject();
    const t0 = Date.now();
    const { report } = await run(
      pipe(dir, [
        gate('d', {
          env,
          run: `${DAEMON} i=0; until [ -s daemon.pid ]; do i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done; echo done`,
        }),
      ]),
    );
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(status(report)).toEqual({ d: 'passed' });
    expect(alive(pidIn('daemon.pid'))).toBe(false);
    expect(processesWith(`PROBE=${probe}`)).toEqual([]);
  });

  it('a child that cleared its environment and left the group is found through its parent, and killed after its parent died first', async () => {
    const env = await daemonProject();
    const { report } = await run(
      pipe(dir, [
        gate('d', {
          env,
          timeoutMs: 2_000,
          // No PROBE, no marker, its own session: only its parent (the gate's shell) links it.
          // It ignores TERM, so it outlives that parent, which dies of the TERM.
          run: `env -i setsid sh -c 'trap "" TERM; echo $$ > hidden.pid; exec sleep 120' & sleep 120`,
        }),
      ]),
    );
    expect(report.gates[0]!.status).toBe('timeout');
    expect(alive(pidIn('hidden.pid'))).toBe(false);
  });

  it('stops reading output pipes held by a process it cannot find, instead of waiting for them', async () => {
    const env = await daemonProject();
    const t0 = Date.now();
    let hidden = 0;
    try {
      const { report } = await run(
        pipe(dir, [
          gate('d', {
            env,
            timeoutMs: 2_000,
            // Cleared environment, own session, parent gone at once: nothing links it to the gate.
            run: `(env -i setsid sh -c 'echo $$ > hidden.pid; exec sleep 60' &); sleep 120`,
          }),
        ]),
      );
      hidden = pidIn('hidden.pid');
      expect(report.gates[0]!.status).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(20_000);
      // It escaped (the documented limit of the local executor); the run did not wait for it.
      expect(alive(hidden)).toBe(true);
    } finally {
      if (hidden) killAll([hidden]);
    }
  });
});
