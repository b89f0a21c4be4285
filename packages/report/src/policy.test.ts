import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gate } from '@gatehouse-ci/test-utils';
import type { ResolvedGate } from '@gatehouse-ci/core';
import { evaluateGate } from './evaluate.js';
import { outcome } from './outcome.js';
import { PKG_DIR, tempDir } from '../test/helpers.js';

const FIX = join(PKG_DIR, 'test', 'fixtures');

async function judge(g: ResolvedGate, files: Record<string, string>, exitCode = 0) {
  const out = await tempDir();
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(out, name, '..'), { recursive: true });
    await writeFile(join(out, name), content);
  }
  return evaluateGate(g, outcome(g, { outDir: out, exitCode }), { rootDir: '/app' });
}

const summary = (lines: number, branches: number) =>
  JSON.stringify({
    total: { lines: { total: 100, covered: lines }, branches: { total: 100, covered: branches } },
  });

describe('policies', () => {
  it('min_coverage: each metric a check; a metric the evidence lacks is an error', async () => {
    const g = gate('unit', {
      evidence: [{ format: 'istanbul', path: 'c.json' }],
      policy: { min_coverage: { lines: 80, branches: 70 } },
    });
    const r = await judge(g, { 'c.json': summary(85, 60) });
    expect([r.status, r.thresholds]).toEqual([
      'failed',
      [
        { name: 'min_coverage.lines', limit: 80, measured: 85, ok: true },
        { name: 'min_coverage.branches', limit: 70, measured: 60, ok: false },
      ],
    ]);
    expect(r.reason).toBe('min_coverage.branches: measured 60, limit ≥ 70');
    const lcovOnly = gate('unit', {
      evidence: [{ format: 'lcov', path: 'lcov.info' }],
      policy: { min_coverage: { statements: 50 } },
    });
    const e = await judge(lcovOnly, { 'lcov.info': 'SF:a\nLF:1\nLH:1\nend_of_record\n' });
    expect([e.status, e.reason]).toEqual([
      'error',
      'min_coverage.statements: nothing measured it (no evidence of that kind)',
    ]);
  });

  it('max_violations in total and by impact', async () => {
    const pa11y = await readFile(join(FIX, 'pa11y', 'pa11y-ci.json'), 'utf8');
    const total = gate('a11y', {
      kind: 'a11y-test',
      evidence: [{ format: 'pa11y', path: 'p.json' }],
      policy: { max_violations: 3 },
    });
    expect((await judge(total, { 'p.json': pa11y })).status).toBe('passed');
    const byImpact = gate('a11y', {
      kind: 'a11y-test',
      evidence: [{ format: 'pa11y', path: 'p.json' }],
      policy: { max_violations: { critical: 0, moderate: 0 } },
    });
    const r = await judge(byImpact, { 'p.json': pa11y });
    expect(r.thresholds).toEqual([
      // The fixture's third finding comes from htmlcs, without an impact: it counts in both.
      { name: 'max_violations.critical', limit: 0, measured: 2, ok: false, unknownImpact: 1 },
      { name: 'max_violations.moderate', limit: 0, measured: 1, ok: false, unknownImpact: 1 },
    ]);
    expect(r.status).toBe('failed');
  });

  it("a violation without an impact (pa11y's default htmlcs runner) counts against every impact limit", async () => {
    // pa11y's HTML_CodeSniffer runner reports WCAG failures with no axe impact.
    const htmlcs = JSON.stringify([
      {
        code: 'WCAG2AA.Principle1.Guideline1_1.1_1_1.H37',
        type: 'error',
        typeCode: 1,
        message: 'Img element missing an alt attribute.',
        context: '<img src="logo.png">',
        selector: 'html > body > img',
        runner: 'htmlcs',
        runnerExtras: {},
      },
    ]);
    const g = gate('a11y', {
      kind: 'a11y-test',
      evidence: [{ format: 'pa11y', path: 'p.json' }],
      policy: { max_violations: { critical: 0, serious: 0 } },
    });
    const r = await judge(g, { 'p.json': htmlcs });
    expect(r.thresholds).toEqual([
      { name: 'max_violations.critical', limit: 0, measured: 1, ok: false, unknownImpact: 1 },
      { name: 'max_violations.serious', limit: 0, measured: 1, ok: false, unknownImpact: 1 },
    ]);
    expect(r.status).toBe('failed');
    expect(r.reason).toContain(
      'max_violations.critical: measured 1 (1 of unknown impact, counted here), limit ≤ 0',
    );
  });

  it('unit-test gates fail on failed tests by default, even when the runner exited 0', async () => {
    const junit = await readFile(join(FIX, 'junit', 'jest-junit.xml'), 'utf8');
    const r = await judge(
      gate('unit', { kind: 'unit-test', evidence: [{ format: 'junit', path: 'j.xml' }] }),
      { 'j.xml': junit },
    );
    expect([r.status, r.thresholds]).toEqual([
      'failed',
      [{ name: 'max_failed', limit: 0, measured: 1, ok: false }],
    ]);
    const lenient = await judge(
      gate('unit', {
        kind: 'unit-test',
        evidence: [{ format: 'junit', path: 'j.xml' }],
        policy: { max_failed: 1 },
      }),
      { 'j.xml': junit },
    );
    expect(lenient.status).toBe('passed');
    const custom = await judge(gate('smoke', { evidence: [{ format: 'junit', path: 'j.xml' }] }), {
      'j.xml': junit,
    });
    expect([custom.status, custom.thresholds]).toEqual(['passed', []]);
  });

  it('sonarqube gates require a known quality gate status of OK', async () => {
    const qg = (f: string) => readFile(join(FIX, 'sonar', f), 'utf8');
    const g = gate('sonar', { kind: 'sonarqube', evidence: [{ format: 'sonarqube', path: 's' }] });
    expect((await judge(g, { s: await qg('qualitygate-ok.json') })).status).toBe('passed');
    const err = await judge(g, { s: await qg('qualitygate-error.json') });
    expect([err.status, err.reason]).toEqual([
      'failed',
      'sonar quality gate is ERROR (must be OK)',
    ]);
    // report-task.txt proves submission only: by default the scanner's exit code decides…
    expect((await judge(g, { s: await qg('report-task.txt') })).status).toBe('passed');
    expect((await judge(g, { s: await qg('report-task.txt') }, 1)).status).toBe('failed');
    // …but an explicit policy demands a known OK.
    const strict = gate('sonar', {
      kind: 'sonarqube',
      evidence: [{ format: 'sonarqube', path: 's' }],
      policy: { sonar_quality_gate: true },
    });
    expect((await judge(strict, { s: await qg('report-task.txt') })).reason).toBe(
      'sonar quality gate is NONE (must be OK)',
    );
  });

  it('several evidence files of one gate are combined', async () => {
    const eslint = JSON.stringify([
      {
        filePath: '/app/a.js',
        messages: [{ ruleId: 'r1', severity: 2, message: 'm1', line: 1, column: 1 }],
      },
    ]);
    const sarif = await readFile(join(FIX, 'sarif', 'codeql-like.sarif'), 'utf8');
    const junit =
      '<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>';
    const g = gate('all', {
      evidence: [
        { format: 'eslint', path: 'e.json' },
        { format: 'sarif', path: 's.sarif' },
        { format: 'junit', path: 'a.xml' },
        { format: 'junit', path: 'b.xml' },
        { format: 'istanbul', path: 'c1.json' },
        { format: 'istanbul', path: 'c2.json' },
      ],
      policy: { max_errors: 5 },
    });
    const r = await judge(g, {
      'e.json': eslint,
      's.sarif': sarif,
      'a.xml': junit,
      'b.xml': junit,
      'c1.json': summary(90, 90),
      'c2.json': summary(70, 95),
    });
    expect(r.evidence.lint).toMatchObject({ errors: 2, warnings: 1, files: 4 });
    expect(r.evidence.tests).toMatchObject({ total: 4, passed: 2, failed: 2 });
    expect(r.evidence.coverage).toEqual({ lines: 70, branches: 90 });
    expect(r.evidence.files.map((f) => f.path)).toEqual([
      'e.json',
      's.sarif',
      'a.xml',
      'b.xml',
      'c1.json',
      'c2.json',
    ]);
    expect(r.status).toBe('passed');
  });

  it('caps stored findings but counts them all', async () => {
    const messages = Array.from({ length: 1500 }, (_, i) => ({
      ruleId: 'r',
      severity: i % 2 ? 1 : 2,
      message: `m${i}`,
      line: i + 1,
      column: 1,
    }));
    const g = gate('lint', {
      evidence: [{ format: 'eslint', path: 'e.json' }],
      policy: { max_warnings: 750 },
    });
    const r = await judge(g, { 'e.json': JSON.stringify([{ filePath: '/app/a.js', messages }]) });
    expect([r.evidence.findings.length, r.evidence.findingsTotal, r.evidence.lint?.errors]).toEqual(
      [1000, 1500, 750],
    );
    expect(r.evidence.findings.slice(0, 750).every((f) => f.level === 'error')).toBe(true);
    expect(r.status).toBe('passed');
  });
});
