import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  alive,
  childRun,
  cleanup,
  killAll,
  pipe,
  processesWith,
  project,
  run,
  staleBuild,
  status,
  waitFor,
} from './helpers.js';

beforeAll(() => {
  const problem = staleBuild();
  if (problem !== null)
    throw new Error(
      `these tests run the built runner in a child process, but ${problem}: run \`pnpm build\` first`,
    );
});

let dir = '';
let probe = '';
let crashed: number | null = null;
afterEach(async () => {
  if (crashed !== null) killAll([crashed]);
  crashed = null;
  killAll(processesWith(`PROBE=${probe}`));
  await cleanup(dir);
});

const written = (f: string) =>
  existsSync(join(dir, f)) && readFileSync(join(dir, f), 'utf8').endsWith('\n');
const pidIn = (f: string) => Number(readFileSync(join(dir, f), 'utf8'));

/** The lock file of the crashed run: the exclusive lock, or its shared-holder file. */
function crashedLock(only: boolean): { token?: string } {
  const file = only
    ? join(
        dir,
        '.gatehouse',
        'locks',
        'shared',
        readdirSync(join(dir, '.gatehouse', 'locks', 'shared'))[0]!,
      )
    : join(dir, '.gatehouse', 'lock');
  return JSON.parse(readFileSync(file, 'utf8')) as { token?: string };
}

/** Processes whose command line names the gate supervisor, among these pids. */
function supervisors(pids: number[]): number[] {
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('gate-supervisor');
    } catch {
      return false;
    }
  });
}

describe('a run killed with kill -9', () => {
  const cases = [
    { crashed: 'a full run', next: 'a full run', only: false, nextGate: 'hold' },
    {
      crashed: 'an --only run',
      next: 'an --only run of the same gate',
      only: true,
      nextGate: 'hold',
    },
    {
      crashed: 'an --only run',
      next: 'an --only run of another gate',
      only: true,
      nextGate: 'other',
    },
  ];
  for (const { crashed: what, next: after, only, nextGate } of cases) {
    it(`${what}, then ${after}: the stale holder's leftover gate processes are stopped before the next gate runs`, async () => {
      dir = await project();
      probe = randomBytes(8).toString('hex');
      const hold = gate('hold', {
        env: { PROBE: probe },
        run: `setsid sh -c 'echo $$ > daemon.pid; exec sleep 120' >/dev/null 2>&1 & echo $$ > gate.pid; sleep 120`,
      });
      writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(pipe(dir, [hold])));
      const child = childRun(join(dir, 'pipeline.json'), {
        only: only ? ['hold'] : [],
        env: { PATH: process.env.PATH!, HOME: process.env.HOME! },
      });
      crashed = child.proc.pid!;
      await waitFor(() => written('daemon.pid') && written('gate.pid'), 30_000);
      const daemon = pidIn('daemon.pid');
      const gateShell = pidIn('gate.pid');

      // The crash: freeze the run so nothing of it reacts, kill whatever supervises its gate
      // processes, then the run itself. Its lock stays behind, naming a dead pid.
      process.kill(child.proc.pid!, 'SIGSTOP');
      const token = crashedLock(only).token;
      if (token !== undefined)
        killAll(supervisors(processesWith(`GATEHOUSE_GATE_TOKEN=${token}.`)));
      process.kill(child.proc.pid!, 'SIGKILL');
      await child.done;
      crashed = null;
      expect(alive(daemon) && alive(gateShell), 'the crashed run left its gate processes').toBe(
        true,
      );

      // The next run of the same gate records what it finds when its gate starts.
      const state = (pid: number) =>
        `$(sed 's/.*) //' /proc/${pid}/stat 2>/dev/null | cut -d' ' -f1)`;
      const next = gate(nextGate, {
        run: `echo "daemon=${state(daemon)} gate=${state(gateShell)}" > seen`,
      });
      const { report } = await run(pipe(dir, [next]), only ? { only: [nextGate] } : {});
      expect(status(report)).toEqual({ [nextGate]: 'passed' });
      // Gone (or a zombie nobody reaps) before the gate ran, not merely by the end of the run.
      expect(readFileSync(join(dir, 'seen'), 'utf8')).toMatch(/^daemon=[ZX]? gate=[ZX]?\n$/);
      expect(processesWith(`PROBE=${probe}`)).toEqual([]);
    });
  }
});
