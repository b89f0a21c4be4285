import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { TRUNCATED_MARKER } from '../src/index.js';
import {
  alive,
  cleanup,
  pipe,
  project,
  run,
  sleep,
  status,
  waitFor,
  writtenReport,
} from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

const logOf = (runId: string, id: string) =>
  join(dir, '.gatehouse', 'runs', runId, 'logs', `${id}.log`);

describe('faults', () => {
  it('non-zero exit → failed, with exit code, and the report is written', async () => {
    dir = await project();
    const { report } = await run(pipe(dir, [gate('a', { run: 'echo boom >&2; exit 4' })]));
    const a = report.gates[0]!;
    expect(a).toMatchObject({ status: 'failed', exitCode: 4 });
    expect(readFileSync(logOf(report.runId, 'a'), 'utf8')).toBe('boom\n');
    expect(writtenReport(dir, report.runId).run).toEqual(report);
  });

  it('command not found → error naming the command', async () => {
    dir = await project();
    const { report } = await run(pipe(dir, [gate('a', { run: 'no-such-tool-xyz --flag' })]));
    expect(report.gates[0]).toMatchObject({ status: 'error', exitCode: 127 });
    expect(report.gates[0]!.reason).toMatch(/command not found.*no-such-tool-xyz/);
    writtenReport(dir, report.runId);
  });

  it('a gate killed from outside with SIGKILL → failed, killed by SIGKILL', async () => {
    dir = await project();
    const p = pipe(dir, [gate('a', { run: 'echo $$ > pid; sleep 30' })]);
    const pending = run(p);
    await waitFor(
      () => existsSync(join(dir, 'pid')) && readFileSync(join(dir, 'pid'), 'utf8').endsWith('\n'),
    );
    process.kill(Number(readFileSync(join(dir, 'pid'), 'utf8')), 'SIGKILL');
    const { report } = await pending;
    expect(report.gates[0]).toMatchObject({ status: 'failed', exitCode: null });
    expect(report.gates[0]!.reason).toMatch(/SIGKILL/);
    writtenReport(dir, report.runId);
  });

  it('timeout kills the whole tree, including a grandchild that ignores TERM', async () => {
    dir = await project();
    // The grandchild ignores TERM (inherited across exec) and holds the output pipe.
    const cmd = `sh -c 'trap "" TERM; echo $$ > gc.pid; exec sleep 60' & echo $$ > sh.pid; wait`;
    const t0 = Date.now();
    const { report } = await run(pipe(dir, [gate('slow', { run: cmd, timeoutMs: 400 })]), {
      killGraceMs: 300,
    });
    const took = Date.now() - t0;
    expect(report.gates[0]!.status).toBe('timeout');
    expect(took).toBeLessThan(5_000);
    for (const f of ['gc.pid', 'sh.pid']) {
      const pid = Number(readFileSync(join(dir, f), 'utf8'));
      expect(alive(pid), `${f} ${pid} still alive`).toBe(false);
    }
    writtenReport(dir, report.runId);
  });

  it('background processes left by a finished gate do not outlive it', async () => {
    dir = await project();
    const { report } = await run(
      pipe(dir, [
        gate('a', { run: '(trap "" TERM; exec sleep 60) & echo $! > bg.pid; echo done' }),
      ]),
    );
    expect(report.gates[0]!.status).toBe('passed');
    expect(alive(Number(readFileSync(join(dir, 'bg.pid'), 'utf8')))).toBe(false);
  });

  it('an output flood is capped on disk, hashed in full, with bounded memory', async () => {
    dir = await project();
    const bytes = 300 * 1024 * 1024;
    const cmd = `yes 'gatehouse flood line 0123456789' | head -c ${bytes}`;
    const expected = execFileSync('/bin/sh', ['-c', `${cmd} | sha256sum`], {
      encoding: 'utf8',
    }).split(' ')[0];
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const { report } = await run(pipe(dir, [gate('flood', { run: cmd })]), { emitOutput: false });
    clearInterval(timer);
    const g = report.gates[0]!;
    expect(g.status).toBe('passed');
    expect(g.log).toMatchObject({ bytes, sha256: expected, truncated: true });
    const cap = 50 * 1024 * 1024;
    expect(statSync(logOf(report.runId, 'flood')).size).toBe(
      cap + Buffer.byteLength(TRUNCATED_MARKER),
    );
    const growthMb = (peak - base) / 1024 / 1024;
    expect(growthMb, `RSS grew by ${growthMb.toFixed(1)} MB`).toBeLessThan(100);
    writtenReport(dir, report.runId);
  });

  it('sends at most 1 MiB of a gate output as events', async () => {
    dir = await project();
    let eventBytes = 0;
    const notes: string[] = [];
    const { report } = await run(
      pipe(dir, [gate('loud', { run: 'yes 0123456789abcdef | head -c 20000000' })]),
      {
        onEvent: (e) => {
          if (e.type === 'gate-output') eventBytes += Buffer.byteLength(e.text);
          if (e.type === 'message') notes.push(e.text);
        },
      },
    );
    expect(report.gates[0]!.log.bytes).toBe(20_000_000);
    expect(eventBytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect(eventBytes).toBeLessThan(1024 * 1024 + 128 * 1024);
    expect(notes.some((t) => /beyond 1 MiB is not sent as events/.test(t))).toBe(true);
  });

  it('a write error on the log (ENOSPC) → the gate still finishes, the log is marked incomplete', async () => {
    dir = await project();
    const full = () => {
      let written = 0;
      return new Writable({
        write(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          if (written > 1000) {
            const err = Object.assign(new Error('ENOSPC: no space left on device, write'), {
              code: 'ENOSPC',
            });
            cb(err);
          } else cb();
        },
      });
    };
    const { report } = await run(
      pipe(dir, [gate('a', { run: 'seq 1 20000' }), gate('b', { needs: ['a'], run: 'true' })]),
      {
        createLogStream: full,
      },
    );
    const a = report.gates.find((g) => g.id === 'a')!;
    expect(a.status).toBe('passed');
    expect(a.log.truncated).toBe(true);
    expect(a.reason).toMatch(/log incomplete: log write failed: ENOSPC/);
    const expected = execFileSync('/bin/sh', ['-c', 'seq 1 20000 | sha256sum'], {
      encoding: 'utf8',
    }).split(' ')[0];
    expect(a.log.sha256).toBe(expected);
    expect(status(report).b).toBe('passed');
    writtenReport(dir, report.runId);
  });

  it('an aborted run stops every process, marks running gates interrupted and the rest skipped, and writes the report', async () => {
    dir = await project();
    const ac = new AbortController();
    const gates = [
      gate('slow', { run: 'echo $$ > slow.pid; sleep 30' }),
      gate('quick', { run: 'true' }),
      gate('later', { needs: ['slow'], run: 'touch later-ran' }),
    ];
    // Abort once slow runs and quick has finished: a loaded machine may take any time for either.
    let slowStarted = false;
    let quickEnded = false;
    const pending = run(pipe(dir, gates), {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'gate-start' && e.id === 'slow') slowStarted = true;
        if (e.type === 'gate-end' && e.id === 'quick') quickEnded = true;
        if (slowStarted && quickEnded && !ac.signal.aborted) setTimeout(() => ac.abort(), 200);
      },
    });
    const { report } = await pending;
    expect(status(report)).toEqual({ quick: 'passed', slow: 'interrupted', later: 'skipped' });
    expect(report.gates.find((g) => g.id === 'later')!.reason).toBe('run interrupted');
    expect(alive(Number(readFileSync(join(dir, 'slow.pid'), 'utf8')))).toBe(false);
    expect(existsSync(join(dir, 'later-ran'))).toBe(false);
    expect(writtenReport(dir, report.runId).run.verdict.status).toBe('failed');
    await sleep(10);
  });

  it('an abort during setup skips every gate and the report says failed', async () => {
    dir = await project();
    const ac = new AbortController();
    const p = pipe(dir, [gate('a', { run: 'touch a-ran' })], {
      setup: { run: 'sleep 30', inputs: [], env: {}, secrets: [], timeoutMs: 60_000 },
    });
    const { report } = await run(p, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'setup-start') setTimeout(() => ac.abort(), 150);
      },
    });
    expect(status(report)).toEqual({ a: 'skipped' });
    expect(existsSync(join(dir, 'a-ran'))).toBe(false);
    expect(report.verdict.status).toBe('failed');
    expect(report.verdict.reasons[0]).toBe('run interrupted');
    expect(writtenReport(dir, report.runId).run.verdict.status).toBe('failed');
  });

  it('a spawn failure (working directory gone) → error', async () => {
    dir = await project();
    const p = pipe(dir, [gate('a', { run: 'true' })], { rootDir: join(dir, 'missing') });
    const { report } = await run(p, { stateDir: join(dir, '.gatehouse') });
    expect(report.gates[0]!.status).toBe('error');
    expect(report.gates[0]!.reason).toMatch(/ENOENT/);
  });
});
