import type { Finding, GateResult, RunReport } from '@gatehouse-ci/core';
import { sampleReport } from './sample.js';

/** A report with `gates` lint gates sharing `findings` findings between them (for size and speed tests). */
export function hugeReport(gates: number, findings: number): RunReport {
  const base = sampleReport();
  const template = base.gates[0]!;
  const per = Math.ceil(findings / gates);
  const out: GateResult[] = [];
  for (let i = 0; i < gates; i++) {
    const fs: Finding[] = [];
    for (let j = 0; j < per && i * per + j < findings; j++) {
      fs.push({
        fingerprint: `lint:${i}-${j}`,
        tool: 'eslint',
        rule: j % 2 ? 'no-undef' : 'no-unused-vars',
        level: j % 3 ? 'warning' : 'error',
        message: `'identifier${j}' is assigned a value but never used; a long message to make the report realistically large ${'x'.repeat(40)}`,
        file: `src/module-${i}/file-${j % 7}.ts`,
        line: j + 1,
        column: 3,
      });
    }
    const errors = fs.filter((f) => f.level === 'error').length;
    out.push({
      ...template,
      id: `gate-${i}`,
      status: errors ? 'failed' : 'passed',
      reason: errors ? `max_errors: measured ${errors}, limit ≤ 0` : null,
      evidence: {
        ...template.evidence,
        lint: {
          errors,
          warnings: fs.length - errors,
          files: 7,
          rules: [{ rule: 'no-undef', count: 1 }],
        },
        findings: fs,
        findingsTotal: fs.length,
      },
      thresholds: [{ name: 'max_errors', limit: 0, measured: errors, ok: errors === 0 }],
    });
  }
  return { ...base, gates: out };
}
