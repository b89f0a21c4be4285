import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, pipe, project, run, status, writtenReport } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

// Each gate marks itself running, records how many gates run now, then unmarks itself.
const busy = (ms: number) =>
  `mkdir -p running && touch running/$GATEHOUSE_GATE && ls running | wc -l >> counts && sleep ${ms / 1000} && rm running/$GATEHOUSE_GATE`;

describe('scheduling', () => {
  it('runs independent gates in parallel up to the concurrency limit', async () => {
    dir = await project();
    const gates = ['a', 'b', 'c', 'd', 'e'].map((id) => gate(id, { run: busy(300) }));
    const { report } = await run(pipe(dir, gates), { concurrency: 2 });
    expect(Object.values(status(report))).toEqual([
      'passed',
      'passed',
      'passed',
      'passed',
      'passed',
    ]);
    const counts = readFileSync(join(dir, 'counts'), 'utf8').trim().split('\n').map(Number);
    expect(Math.max(...counts)).toBe(2);
  });

  it('starts a gate only after everything it needs finished, and passes the run id and gate id', async () => {
    dir = await project();
    const gates = [
      gate('a', { run: 'sleep 0.2; echo a >> order' }),
      gate('b', { run: 'sleep 0.4; echo b >> order' }),
      gate('c', {
        needs: ['a', 'b'],
        run: 'echo c >> order; echo "$GATEHOUSE_GATE $GATEHOUSE_RUN_ID" > ids',
      }),
    ];
    const { report } = await run(pipe(dir, gates), { concurrency: 4 });
    expect(readFileSync(join(dir, 'order'), 'utf8')).toBe('a\nb\nc\n');
    const c = report.gates.find((g) => g.id === 'c')!;
    for (const n of ['a', 'b']) {
      expect(Date.parse(c.startedAt)).toBeGreaterThanOrEqual(
        Date.parse(report.gates.find((g) => g.id === n)!.finishedAt),
      );
    }
    expect(readFileSync(join(dir, 'ids'), 'utf8').trim()).toBe(`c ${report.runId}`);
  });

  it('gives each gate a fresh $GATEHOUSE_OUT inside the run directory', async () => {
    dir = await project();
    const { report } = await run(
      pipe(dir, [
        gate('a', { run: 'echo "$GATEHOUSE_OUT" > where; ls -A "$GATEHOUSE_OUT" | wc -l > count' }),
      ]),
    );
    expect(readFileSync(join(dir, 'where'), 'utf8').trim()).toBe(
      join(dir, '.gatehouse', 'runs', report.runId, 'out', 'a'),
    );
    expect(readFileSync(join(dir, 'count'), 'utf8').trim()).toBe('0');
  });

  it('--gate selects those gates plus their transitive needs', async () => {
    dir = await project();
    const gates = [
      gate('base', { run: 'true' }),
      gate('build', { needs: ['base'], run: 'true' }),
      gate('lint', { run: 'true' }),
      gate('a11y', { needs: ['build'], run: 'true' }),
    ];
    const { report } = await run(pipe(dir, gates), { gates: ['a11y'] });
    expect(status(report)).toEqual({ base: 'passed', build: 'passed', a11y: 'passed' });
  });

  it('--only runs exactly the named gates, without setup or needs', async () => {
    dir = await project();
    const gates = [
      gate('build', { run: 'touch built' }),
      gate('a11y', { needs: ['build'], run: 'touch checked' }),
    ];
    const p = pipe(dir, gates, {
      setup: { run: 'touch setup-ran', inputs: [], env: {}, secrets: [], timeoutMs: 60_000 },
    });
    const { report } = await run(p, { only: ['a11y'] });
    expect(status(report)).toEqual({ a11y: 'passed' });
    expect(() => readFileSync(join(dir, 'built'))).toThrow();
    expect(() => readFileSync(join(dir, 'setup-ran'))).toThrow();
  });

  it('refuses an unknown gate id before running anything', async () => {
    dir = await project();
    await expect(
      run(pipe(dir, [gate('a', { run: 'touch ran' })]), { gates: ['nope'] }),
    ).rejects.toMatchObject({
      code: 'GH_UNKNOWN_GATE',
    });
    expect(() => readFileSync(join(dir, 'ran'))).toThrow();
  });

  it('skips dependants of a failed blocking gate but keeps independent gates going', async () => {
    dir = await project();
    const gates = [
      gate('bad', { run: 'exit 3' }),
      gate('other', { run: 'sleep 0.2' }),
      gate('after', { needs: ['bad'], run: 'touch ran' }),
      gate('after2', { needs: ['after'], run: 'true' }),
    ];
    const { report } = await run(pipe(dir, gates));
    expect(status(report)).toEqual({
      bad: 'failed',
      other: 'passed',
      after: 'skipped',
      after2: 'skipped',
    });
    const after = report.gates.find((g) => g.id === 'after')!;
    expect(after.reason).toBe('needs bad which failed');
    expect(report.gates.find((g) => g.id === 'bad')!.exitCode).toBe(3);
    expect(report.verdict.status).toBe('failed');
    const { run: onDisk, latest } = writtenReport(dir, report.runId);
    expect(onDisk).toEqual(report);
    expect(latest.runId).toBe(report.runId);
  });

  it('does not block dependants of a failed advisory gate', async () => {
    dir = await project();
    const gates = [
      gate('soft', { run: 'exit 1', mode: 'advisory' }),
      gate('after', { needs: ['soft'], run: 'true' }),
    ];
    const { report } = await run(pipe(dir, gates));
    expect(status(report)).toEqual({ soft: 'failed', after: 'passed' });
    expect(report.verdict.status).toBe('passed');
  });

  it('fail-fast interrupts running gates and skips the rest', async () => {
    dir = await project();
    const gates = [
      gate('bad', { run: 'sleep 0.2; exit 1' }),
      gate('slow', { run: 'sleep 30' }),
      gate('later', { needs: ['slow'], run: 'true' }),
    ];
    const t0 = Date.now();
    const { report } = await run(pipe(dir, gates), { failFast: true });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(status(report)).toEqual({ bad: 'failed', slow: 'interrupted', later: 'skipped' });
    expect(report.gates.find((g) => g.id === 'later')!.reason).toMatch(/fail-fast: bad failed/);
    writtenReport(dir, report.runId);
  });

  it('runs setup once, skips it when unchanged, and skips every gate when it fails', async () => {
    dir = await project({ 'package.json': '{"v":1}' });
    const setup = {
      run: 'echo x >> setup-count',
      inputs: ['package.json'],
      env: {},
      secrets: [],
      timeoutMs: 60_000,
    };
    const p = pipe(dir, [gate('a', { run: 'true' })], { setup });
    const first = await run(p);
    expect(first.events.find((e) => e.type === 'setup-end')).toMatchObject({
      ok: true,
      cached: false,
    });
    const second = await run(p);
    expect(second.events.find((e) => e.type === 'setup-end')).toMatchObject({
      ok: true,
      cached: true,
    });
    expect(readFileSync(join(dir, 'setup-count'), 'utf8')).toBe('x\n');

    const failing = pipe(dir, [gate('a', { run: 'true' })], { setup: { ...setup, run: 'exit 9' } });
    const { report } = await run(failing);
    expect(status(report)).toEqual({ a: 'skipped' });
    expect(report.gates[0]!.reason).toMatch(
      /^setup exited with code 9; see \.gatehouse\/runs\/[^/]+\/setup\.log$/,
    );
    expect(report.verdict.status).toBe('failed');
  });

  it("a gate with the id `setup` has its own log beside setup's", async () => {
    dir = await project();
    const setup = { run: 'echo from setup', inputs: [], env: {}, secrets: [], timeoutMs: 60_000 };
    const p = pipe(dir, [gate('setup', { run: 'echo from the gate' })], { setup });
    const { report } = await run(p);
    expect(status(report)).toEqual({ setup: 'passed' });
    const runDir = join(dir, '.gatehouse', 'runs', report.runId);
    expect(readFileSync(join(runDir, 'setup.log'), 'utf8')).toBe('from setup\n');
    expect(report.gates[0]!.log.path).toBe(`.gatehouse/runs/${report.runId}/logs/setup.log`);
    expect(report.setup).toMatchObject({ status: 'passed', durationMs: expect.any(Number) });
    expect(readFileSync(join(runDir, 'logs', 'setup.log'), 'utf8')).toBe('from the gate\n');
  });
});
