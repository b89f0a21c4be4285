import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { gate, pipeline } from '@gatehouse/test-utils';
import { writeReport } from './write.js';
import { verifyReport, generateSigningKeyPair } from './integrity.js';
import { mergeReports } from './merge.js';
import { skippedResult } from './evaluate.js';
import { sampleReport } from '../test/sample.js';
import { tempDir } from '../test/helpers.js';

describe('writeReport', () => {
  it('writes a sealed report and its renderings that verify', async () => {
    const dir = await tempDir();
    const w = await writeReport(sampleReport(), dir);
    const text = await readFile(w.jsonPath, 'utf8');
    expect(JSON.parse(text).integrity).toEqual({ algorithm: 'sha256', digest: w.report.integrity!.digest, signature: null });
    for (const p of [w.htmlPath, w.mdPath, w.junitPath, w.sarifPath!]) expect((await readFile(p, 'utf8')).length).toBeGreaterThan(100);
    const v = await verifyReport(w.jsonPath);
    expect(v).toMatchObject({ ok: true, signature: 'absent', problems: [] });
  });

  it('signs with an ed25519 key and verifies with the public key only', async () => {
    const dir = await tempDir();
    const keys = generateSigningKeyPair();
    const w = await writeReport(sampleReport(), dir, { key: keys.privateKeyPem });
    expect(w.dssePath).not.toBeNull();
    expect(await verifyReport(w.jsonPath, { publicKey: keys.publicKeyPem })).toMatchObject({ ok: true, signature: 'valid' });
    expect(await verifyReport(w.jsonPath)).toMatchObject({ ok: true, signature: 'unverified' });
    const other = generateSigningKeyPair();
    const bad = await verifyReport(w.jsonPath, { publicKey: other.publicKeyPem });
    expect(bad.ok).toBe(false);
    expect(bad.problems.join('\n')).toMatch(/not by the given key/);
  });
});

describe('mergeReports', () => {
  const p = pipeline([gate('lint'), gate('unit'), gate('e2e')]);
  const r = (id: string) => ({ ...skippedResult(gate(id), 'x', 'github'), status: 'passed' as const, reason: null });

  it('combines gate results and reports, and reports gates nobody reported', () => {
    const m = mergeReports([r('lint'), r('unit')], p, { sources: ['lint.json', 'unit.json'] });
    expect(m.gates.map((g) => [g.id, g.status, g.reason])).toEqual([
      ['lint', 'passed', null],
      ['unit', 'passed', null],
      ['e2e', 'skipped', 'no result reported'],
    ]);
    expect(m.verdict.status).toBe('failed');
    expect(m.executor).toBe('github');
  });

  it('refuses a gate reported twice, naming both files', () => {
    expect(() => mergeReports([r('lint'), r('unit'), r('lint')], p, { sources: ['a/lint.json', 'unit.json', 'b/lint.json'] })).toThrow(
      'gate lint is reported twice: in a/lint.json and in b/lint.json',
    );
  });
});
