import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gate } from '@gatehouse-ci/test-utils';
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

  it('never follows log.txt out of the gate directory: an error, nothing read, nothing written', async () => {
    const host = await tempDir();
    const hostLog = join(host, 'host.log');
    const hostText = 'HOST-ONLY line\n'.repeat(64);
    await writeFile(hostLog, hostText);
    const dir = await exported({ 'result.json': result(), 'evidence/.keep': '' });
    await symlink(hostLog, join(dir, 'log.txt'));
    // A log longer than the cap used to be cut by writing through the link.
    const r = await judgeExportedGate(dir, gate('unit'), 'docker', {
      rootDir: dir,
      maxLogBytes: 16,
    });
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/log\.txt is a symbolic link/);
    expect(r.logTail).toBeUndefined();
    expect(r.log).toMatchObject({ path: null, bytes: 0 });
    expect(JSON.stringify(r)).not.toContain('HOST-ONLY');
    expect(await readFile(hostLog, 'utf8')).toBe(hostText);
    expect((await lstat(join(dir, 'log.txt'))).isSymbolicLink()).toBe(true);
  });

  it('never follows an evidence file or the evidence directory out of the gate directory', async () => {
    const host = await tempDir();
    await writeFile(
      join(host, 'eslint.json'),
      JSON.stringify([
        {
          filePath: '/srv/HOST-ONLY.js',
          messages: [{ ruleId: 'x', severity: 1, message: 'HOST-ONLY' }],
        },
      ]),
    );
    const g = gate('lint', { kind: 'lint', evidence: [{ format: 'eslint', path: 'eslint.json' }] });
    const res = result({ id: 'lint' });

    const fileLinked = await exported({ 'result.json': res, 'log.txt': 'ok\n' });
    await mkdir(join(fileLinked, 'evidence'));
    await symlink(join(host, 'eslint.json'), join(fileLinked, 'evidence', 'eslint.json'));
    const dirLinked = await exported({ 'result.json': res, 'log.txt': 'ok\n' });
    await symlink(host, join(dirLinked, 'evidence'));

    for (const dir of [fileLinked, dirLinked]) {
      const r = await judgeExportedGate(dir, g, 'docker', { rootDir: dir });
      expect(r.status).toBe('error');
      expect(r.reason).toMatch(/symbolic link/);
      expect(r.evidence.lint).toBeUndefined();
      expect(JSON.stringify(r)).not.toContain('HOST-ONLY');
    }
  });

  it('refuses a gate directory or result.json that is a symbolic link', async () => {
    const real = await exported({ 'result.json': result(), 'log.txt': 'ok\n' });
    const parent = await tempDir();
    await symlink(real, join(parent, 'unit'));
    const viaLink = await judgeExportedGate(join(parent, 'unit'), gate('unit'), 'docker', {
      rootDir: parent,
    });
    expect([viaLink.status, viaLink.reason]).toEqual([
      'error',
      expect.stringMatching(/directory .*is a symbolic link/),
    ]);

    const host = await tempDir();
    await writeFile(join(host, 'result.json'), result());
    const dir = await exported({ 'log.txt': 'ok\n' });
    await symlink(join(host, 'result.json'), join(dir, 'result.json'));
    const r = await judgeExportedGate(dir, gate('unit'), 'docker', { rootDir: dir });
    expect([r.status, r.reason]).toEqual([
      'error',
      expect.stringMatching(/result\.json is a symbolic link/),
    ]);
  });

  it('reads a log larger than a string can hold: a streamed digest of the whole file and its tail', async () => {
    const dir = await exported({ 'result.json': result(), 'log.txt': '' });
    const size = 600 * 1024 * 1024;
    await truncate(join(dir, 'log.txt'), size - 12);
    await writeFile(join(dir, 'log.txt'), 'x\nlast line\n', { flag: 'a' });
    const digest = createHash('sha256');
    const zeros = Buffer.alloc(8 * 1024 * 1024);
    for (let left = size - 12; left > 0; left -= zeros.length)
      digest.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
    digest.update('x\nlast line\n');

    const r = await judgeExportedGate(dir, gate('unit'), 'docker', { rootDir: dir });
    expect(r.status).toBe('passed');
    expect(r.log).toEqual({
      path: join(dir, 'log.txt'),
      sha256: digest.digest('hex'),
      bytes: size,
      truncated: false,
    });
    expect(r.logTail).toBe('last line\n');
    // Nothing was written: the file is as the gate left it.
    expect((await stat(join(dir, 'log.txt'))).size).toBe(size);
  });

  it('with logCopy, writes the log redacted and capped to a new file and describes that copy', async () => {
    const raw = 'token=s3cr3t\n' + 'x'.repeat(100) + '\nend s3cr3t\n';
    const dir = await exported({ 'result.json': result(), 'log.txt': raw });
    const runDir = await tempDir();
    // Whatever sits at the copy's path is replaced, never written through.
    const elsewhere = join(runDir, 'elsewhere.txt');
    await writeFile(elsewhere, 'untouched');
    await symlink(elsewhere, join(runDir, 'unit.log'));
    const redact = (t: string) => t.split('s3cr3t').join('***');
    const r = await judgeExportedGate(dir, gate('unit'), 'docker', {
      rootDir: dir,
      redact,
      maxLogBytes: 20,
      logCopy: join(runDir, 'unit.log'),
    });
    const copy = await readFile(join(runDir, 'unit.log'));
    expect(copy.toString()).toBe('token=***\nxxxxxxxxxx');
    expect(r.log).toEqual({
      path: join(runDir, 'unit.log'),
      sha256: createHash('sha256').update(copy).digest('hex'),
      bytes: 20,
      truncated: true,
    });
    expect(r.logTail).toBe(redact(raw));
    expect(await readFile(join(dir, 'log.txt'), 'utf8')).toBe(raw);
    expect(await readFile(elsewhere, 'utf8')).toBe('untouched');
  });
});
