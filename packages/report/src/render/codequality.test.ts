import { describe, expect, it } from 'vitest';
import { render } from './index.js';
import { toCodeQuality } from './codequality.js';
import { sampleReport } from '../../test/sample.js';

describe('codequality (GitLab Code Climate JSON)', () => {
  it('lists every file finding with a unique fingerprint and a GitLab severity', () => {
    const report = sampleReport();
    const issues = toCodeQuality(report);
    const withFile = report.gates.flatMap((g) => g.evidence.findings).filter((f) => f.file);
    expect(issues).toHaveLength(withFile.length);
    expect(new Set(issues.map((i) => i.fingerprint)).size).toBe(issues.length);
    for (const issue of issues) {
      expect(['info', 'minor', 'major', 'critical', 'blocker']).toContain(issue.severity);
      expect(issue.location.path).not.toBe('');
      expect(issue.location.lines.begin).toBeGreaterThanOrEqual(1);
      expect(issue.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(JSON.parse(render(report, 'codequality'))).toEqual(issues);
  });

  it('keeps repeated findings apart and is stable', () => {
    const report = sampleReport();
    const gate = report.gates.find((g) => g.evidence.findings.some((f) => f.file))!;
    const first = gate.evidence.findings.find((f) => f.file)!;
    gate.evidence.findings.push({ ...first });
    const issues = toCodeQuality(report);
    expect(new Set(issues.map((i) => i.fingerprint)).size).toBe(issues.length);
    expect(toCodeQuality(report)).toEqual(issues);
  });
});
