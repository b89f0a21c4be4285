import { describe, expect, it } from 'vitest';
import { sampleReport } from '../test/sample.js';
import { diffReports, formatDiff, thresholdMargin } from './diff.js';

describe('diffReports', () => {
  it('finds nothing between a report and itself', () => {
    const d = diffReports(sampleReport(), sampleReport());
    expect(d.same).toBe(true);
    expect(formatDiff(d)).toContain('no changes');
  });

  it('counts a cached gate as the status it had, and skips findings of a gate that did not run', () => {
    const a = sampleReport();
    const b = sampleReport();
    // unit: passed, then cached from a passing run: no status change.
    b.gates[1] = {
      ...b.gates[1]!,
      status: 'cached',
      cached: { status: 'passed', key: 'k', runId: 'R' },
    };
    // lint skipped now: its findings are not "fixed".
    b.gates[0] = {
      ...b.gates[0]!,
      status: 'skipped',
      evidence: { files: [], findings: [], findingsTotal: 0 },
    };
    const d = diffReports(a, b);
    expect(d.status).toEqual([{ gate: 'lint', from: 'failed', to: 'skipped' }]);
    expect(d.findings).toEqual([]);
  });

  it('margins: limit − measured for a maximum, measured − limit for a minimum', () => {
    expect(thresholdMargin({ name: 'max_errors', limit: 0, measured: 3, ok: false })).toBe(-3);
    expect(
      thresholdMargin({ name: 'min_coverage.lines', limit: 80, measured: 91.5, ok: true }),
    ).toBe(11.5);
    expect(
      thresholdMargin({ name: 'sonar_quality_gate', limit: 'OK', measured: 'OK', ok: true }),
    ).toBeNull();
    const a = sampleReport();
    const b = sampleReport();
    b.gates[1]!.thresholds[1] = {
      name: 'min_coverage.lines',
      limit: 80,
      measured: 79.9,
      ok: false,
    };
    const d = diffReports(a, b);
    expect(d.thresholds).toEqual([
      {
        gate: 'unit',
        name: 'min_coverage.lines',
        limit: { from: 80, to: 80 },
        measured: { from: 91.5, to: 79.9 },
        margin: { from: 11.5, to: -0.1 },
        ok: { from: true, to: false },
      },
    ]);
    expect(formatDiff(d)).toContain(
      'unit min_coverage.lines: margin 11.5 → -0.1, measured 91.5 → 79.9, limit 80, now NOT met',
    );
  });

  it('says when a report kept only part of its findings, and prints a finding on one line', () => {
    const a = sampleReport();
    const b = sampleReport();
    b.gates[0]!.evidence.findings.push({
      fingerprint: 'lint:new',
      tool: 'eslint',
      rule: 'r',
      level: 'error',
      message: 'two\nlines\u2028here',
      file: 'src/x.js',
    });
    b.gates[0]!.evidence.findingsTotal = 5000;
    const d = diffReports(a, b);
    expect(d.findings[0]).toMatchObject({ gate: 'lint', complete: false });
    const text = formatDiff(d);
    expect(text).toContain('+ error r src/x.js two\\u000alines\\u2028here');
    expect(text).toContain('counts are of those kept');
  });
});
