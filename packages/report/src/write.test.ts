import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gate, pipeline } from '@gatehouse-ci/test-utils';
import { isReportWriteError, writeReport } from './write.js';
import { verifyReport, generateSigningKeyPair } from './integrity.js';
import { mergeReports } from './merge.js';
import { cachedResult, evaluateGate, skippedResult } from './evaluate.js';
import { buildReport } from './build.js';
import { outcome } from './outcome.js';
import { validateGateResultSchema, validateReportSchema } from './schema.js';
import { sampleReport } from '../test/sample.js';
import { PKG_DIR, run, tempDir } from '../test/helpers.js';

describe('writeReport', () => {
  it('writes a sealed report and its renderings that verify', async () => {
    const dir = await tempDir();
    const w = await writeReport(sampleReport(), dir);
    const text = await readFile(w.jsonPath, 'utf8');
    expect(JSON.parse(text).integrity).toEqual({
      algorithm: 'sha256',
      digest: w.report.integrity!.digest,
      signature: null,
    });
    for (const p of [w.htmlPath, w.mdPath, w.junitPath, w.sarifPath!])
      expect((await readFile(p, 'utf8')).length).toBeGreaterThan(100);
    const v = await verifyReport(w.jsonPath);
    expect(v).toMatchObject({ ok: true, signature: 'absent', problems: [] });
  });

  it('fails with GH_REPORT_WRITE naming the file and the errno, and hands back the sealed report', async () => {
    const base = await tempDir();
    await writeFile(join(base, 'plain-file'), 'x');
    // A directory that cannot be made: every write fails with ENOTDIR.
    const dir = join(base, 'plain-file', 'run');
    const err = await writeReport(sampleReport(), dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isReportWriteError(err)).toBe(true);
    if (!isReportWriteError(err)) return;
    expect(err.code).toBe('GH_REPORT_WRITE');
    expect(err.errno).toBe('ENOTDIR');
    expect(err.path.startsWith(dir)).toBe(true);
    expect(err.message).toBe(`cannot write ${err.path}: ENOTDIR (not a directory)`);
    expect(err.report?.integrity.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(err.report?.verdict.status).toBe(sampleReport().verdict.status);
    // Anything that is not a file system error is not dressed up as one.
    expect(isReportWriteError(new Error('x'))).toBe(false);
  });

  it('signs with an ed25519 key and verifies with the public key only', async () => {
    const dir = await tempDir();
    const keys = generateSigningKeyPair();
    const w = await writeReport(sampleReport(), dir, { key: keys.privateKeyPem });
    expect(w.dssePath).not.toBeNull();
    expect(await verifyReport(w.jsonPath, { publicKey: keys.publicKeyPem })).toMatchObject({
      ok: true,
      signature: 'valid',
    });
    expect(await verifyReport(w.jsonPath)).toMatchObject({ ok: true, signature: 'unverified' });
    const other = generateSigningKeyPair();
    const bad = await verifyReport(w.jsonPath, { publicKey: other.publicKeyPem });
    expect(bad.ok).toBe(false);
    expect(bad.problems.join('\n')).toMatch(/not by the given key/);
  });
});

describe('real reports match the JSON Schema', () => {
  it('a report built from real evaluations, git metadata and a seal', async () => {
    const root = await tempDir();
    await run('git', ['init', '-q', '-b', 'main'], { cwd: root });
    await run(
      'sh',
      ['-c', 'echo x > f && git add f && git -c user.name=t -c user.email=t@e commit -qm init'],
      { cwd: root },
    );
    const out = join(root, 'out');
    await mkdir(out);
    await copyFile(join(PKG_DIR, 'test/fixtures/junit/jest-junit.xml'), join(out, 'junit.xml'));
    await copyFile(join(PKG_DIR, 'test/fixtures/pa11y/pa11y-ci.json'), join(out, 'pa11y.json'));
    await copyFile(
      join(PKG_DIR, 'test/fixtures/sonar/qualitygate-error.json'),
      join(out, 'sonarqube.json'),
    );
    await writeFile(
      join(out, 'eslint.json'),
      JSON.stringify([
        {
          filePath: join(root, 'a.js'),
          messages: [
            { ruleId: 'semi', severity: 1, message: 'Missing semicolon.', line: 1, column: 9 },
          ],
        },
      ]),
    );
    await writeFile(join(root, 'lint.log'), 'linting\n');
    const gates = [
      gate('lint', {
        kind: 'lint',
        evidence: [{ format: 'eslint', path: 'eslint.json' }],
        policy: { max_errors: 0, baseline: 'missing.json' },
      }),
      gate('unit', { kind: 'unit-test', evidence: [{ format: 'junit', path: 'junit.xml' }] }),
      gate('a11y', {
        kind: 'a11y-test',
        mode: 'advisory',
        evidence: [{ format: 'pa11y', path: 'pa11y.json' }],
        policy: { max_violations: { serious: 0 } },
      }),
      gate('sonar', {
        kind: 'sonarqube',
        evidence: [{ format: 'sonarqube', path: 'sonarqube.json' }],
      }),
      gate('e2e', { needs: ['unit'] }),
    ];
    const p = pipeline(gates, { rootDir: root });
    const results = [];
    for (const g of gates.slice(0, 4)) {
      results.push(
        await evaluateGate(
          g,
          outcome(g, {
            outDir: out,
            exitCode: 0,
            log: {
              path: join(root, 'lint.log'),
              sha256: 'a'.repeat(64),
              bytes: 8,
              truncated: false,
            },
          }),
          { rootDir: root },
        ),
      );
    }
    results.push(cachedResult(skippedResult(gates[4]!, 'unit did not pass', 'local'), 'k', 'R0'));
    const report = await buildReport({
      pipeline: p,
      gates: results,
      executor: 'local',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      rootDir: root,
    });
    const w = await writeReport(report, join(root, 'report'));
    const onDisk = JSON.parse(await readFile(w.jsonPath, 'utf8')) as unknown;
    expect(validateReportSchema(onDisk)).toEqual([]);
    expect(report.gates.map((g) => g.status)).toEqual([
      'error',
      'failed',
      'failed',
      'failed',
      'cached',
    ]);
    expect(report.git.commit).toMatch(/^[0-9a-f]{40}$/);
    for (const g of report.gates) expect(validateGateResultSchema(g)).toEqual([]);
  });
});

describe('mergeReports', () => {
  const p = pipeline([gate('lint'), gate('unit'), gate('e2e')]);
  const r = (id: string) => ({
    ...skippedResult(gate(id), 'x', 'github'),
    status: 'passed' as const,
    reason: null,
    exitCode: 0,
  });

  it('combines gate results and reports, and reports gates nobody reported', async () => {
    const m = await mergeReports([r('lint'), r('unit')], p, {
      sources: ['lint.json', 'unit.json'],
    });
    expect(m.gates.map((g) => [g.id, g.status, g.reason])).toEqual([
      ['lint', 'passed', null],
      ['unit', 'passed', null],
      ['e2e', 'skipped', 'no result reported'],
    ]);
    expect(m.verdict.status).toBe('failed');
    expect(m.executor).toBe('github');
  });

  it('takes whole reports too: their gates, git and context, the span of all parts', async () => {
    const part = {
      ...sampleReport(),
      gates: [
        {
          ...r('lint'),
          startedAt: '2026-01-01T09:00:00.000Z',
          finishedAt: '2026-01-01T09:01:00.000Z',
        },
      ],
    };
    const unit = {
      ...r('unit'),
      startedAt: '2026-01-01T09:30:00.000Z',
      finishedAt: '2026-01-01T10:05:00.000Z',
    };
    const e2e = {
      ...r('e2e'),
      startedAt: '2026-01-01T10:00:00.000Z',
      finishedAt: '2026-01-01T10:01:00.000Z',
    };
    const m = await mergeReports([part, unit, e2e], p, { runId: 'M1' });
    expect(m.gates.map((g) => g.id)).toEqual(['lint', 'unit', 'e2e']);
    expect([m.runId, m.git.commit, m.context.ci?.provider, m.verdict.status]).toEqual([
      'M1',
      part.git.commit,
      'github',
      'passed',
    ]);
    expect(m.startedAt).toBe('2026-01-01T09:00:00.000Z');
    expect(m.finishedAt).toBe('2026-01-01T10:05:00.000Z');
    expect(validateReportSchema(m)).toEqual([]);
  });

  it('refuses a gate reported twice, naming both files', async () => {
    await expect(
      mergeReports([r('lint'), r('unit'), r('lint')], p, {
        sources: ['a/lint.json', 'unit.json', 'b/lint.json'],
      }),
    ).rejects.toThrow('gate lint is reported twice: in a/lint.json and in b/lint.json');
  });
});
