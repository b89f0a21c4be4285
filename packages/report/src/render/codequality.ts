import { createHash } from 'node:crypto';
import type { Finding, RunReport } from '@gatehouse-ci/core';

/** One issue of a Code Climate report, the subset GitLab's code quality widget reads. */
export interface CodeQualityIssue {
  description: string;
  check_name: string;
  /** Unique within the report; GitLab compares issues between pipelines by it. */
  fingerprint: string;
  severity: 'info' | 'minor' | 'major' | 'critical' | 'blocker';
  location: { path: string; lines: { begin: number } };
}

const SEVERITY: Record<Finding['level'], CodeQualityIssue['severity']> = {
  error: 'major',
  warning: 'minor',
  note: 'info',
};

/**
 * The report's file findings (lint, Sonar) as a Code Climate JSON array, the format of GitLab's
 * `artifacts:reports:codequality`. Findings without a file (accessibility pages) have no place
 * in it and are left out. The fingerprint is a hash of the gate and the Gatehouse fingerprint,
 * so an issue keeps its identity between pipelines, with an occurrence number for repeats.
 * @see https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
 */
export function toCodeQuality(report: RunReport): CodeQualityIssue[] {
  const issues: CodeQualityIssue[] = [];
  const seen = new Map<string, number>();
  for (const gate of report.gates) {
    for (const f of gate.evidence.findings) {
      if (f.file === undefined || f.file === '') continue;
      const identity = `${gate.id}\u0000${f.fingerprint}`;
      const n = seen.get(identity) ?? 0;
      seen.set(identity, n + 1);
      issues.push({
        description: f.message,
        check_name: `${f.tool}/${f.rule}`,
        fingerprint: createHash('sha256').update(`${identity}\u0000${n}`).digest('hex'),
        severity: SEVERITY[f.level],
        location: { path: f.file, lines: { begin: f.line ?? 1 } },
      });
    }
  }
  return issues;
}

/** {@link toCodeQuality} as JSON text. */
export function renderCodeQuality(report: RunReport): string {
  return `${JSON.stringify(toCodeQuality(report), null, 2)}\n`;
}
