import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gate } from '@gatehouse/test-utils';
import { judgeExportedGate, readExportedGate } from './docker.js';
import { evaluateGate } from './evaluate.js';
import { tempDir } from '../test/helpers.js';

async function exported(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  for (const [p, c] of Object.entries(files)) {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), c);
  }
  return dir;
}

const result = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'unit',
    exitCode: 0,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:03.5Z',
    durationMs: 3500,
    ...over,
  });

describe('readExportedGate', () => {
  it('reads result.json, the log and the evidence directory', async () => {
    const dir = await exported({
      'result.json': result(),
      'log.txt': 'ok\n',
      'evidence/junit.xml': '<testsuite><testcase name="a"/></testsuite>',
    });
    const g = gate('unit', {
      kind: 'unit-test',
      evidence: [{ format: 'junit', path: 'junit.xml' }],
    });
    const o = await readExportedGate(dir, g, 'docker');
    expect(o).toMatchObject({
      id: 'unit',
      exitCode: 0,
      timedOut: false,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:03.500Z',
      durationMs: 3500,
      outDir: join(dir, 'evidence'),
      executor: 'docker',
    });
    expect(o.log).toMatchObject({ path: join(dir, 'log.txt'), bytes: 3 });
    const r = await evaluateGate(g, o, { rootDir: dir });
    expect([r.status, r.evidence.tests?.total, r.logTail]).toEqual(['passed', 1, 'ok\n']);
  });

  it('exit code 124 is a timeout', async () => {
    const dir = await exported({ 'result.json': result({ exitCode: 124 }) });
    const o = await readExportedGate(dir, gate('unit'), 'docker');
    expect(o.timedOut).toBe(true);
    expect((await evaluateGate(gate('unit'), o, { rootDir: dir })).status).toBe('timeout');
  });

  it.each([
    ['missing', {}, /no result.json/],
    ['malformed', { 'result.json': '{"id":' }, /malformed/],
    ['another gate', { 'result.json': result({ id: 'lint' }) }, /names gate "lint"/],
    ['no exit code', { 'result.json': result({ exitCode: 'x' }) }, /no integer exitCode/],
    ['bad time', { 'result.json': result({ startedAt: 'soon' }) }, /startedAt/],
  ])('a %s result.json makes the gate an error', async (_n, files, msg) => {
    const dir = await exported(files as Record<string, string>);
    const o = await readExportedGate(dir, gate('unit'), 'docker');
    expect(o.spawnError).toMatch(msg);
    const r = await evaluateGate(gate('unit'), o, { rootDir: dir });
    expect(r.status).toBe('error');
  });

  it('the timedOut flag marks a timeout whatever the exit code (busybox timeout exits 143)', async () => {
    const dir = await exported({ 'result.json': result({ exitCode: 143, timedOut: true }) });
    expect((await judgeExportedGate(dir, gate('unit'), 'docker', { rootDir: dir })).status).toBe(
      'timeout',
    );
  });

  it.each([
    ['a needed gate did not pass', 'needed gate build did not pass'],
    ['its condition was not met', 'not set (when.env): SONAR_HOST_URL'],
  ])('a gate the stage did not run because %s is skipped with that reason', async (_n, reason) => {
    const dir = await exported({
      'result.json': result({
        exitCode: null,
        skipped: reason,
        conditionUnmet: reason.includes('when'),
      }),
      'log.txt': `gatehouse: not run: ${reason}\n`,
    });
    const r = await judgeExportedGate(dir, gate('unit'), 'docker', { rootDir: dir });
    expect([r.status, r.reason, r.executor]).toEqual(['skipped', reason, 'docker']);
  });

  it('a null exit code without a reason is still an error, never a pass', async () => {
    const dir = await exported({ 'result.json': result({ exitCode: null }) });
    expect((await judgeExportedGate(dir, gate('unit'), 'docker', { rootDir: dir })).status).toBe(
      'error',
    );
  });
});
