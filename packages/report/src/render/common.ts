import type { GateResult, RunReport } from '@gatehouse-ci/core';
import { effectiveStatus } from '../build.js';

/** One-line summary of a gate's evidence, e.g. "3 errors, 1 warning · 41/42 tests". */
export function evidenceLine(g: GateResult): string {
  const e = g.evidence;
  const parts: string[] = [];
  if (e.lint)
    parts.push(
      `${e.lint.errors} error${e.lint.errors === 1 ? '' : 's'}, ${e.lint.warnings} warning${e.lint.warnings === 1 ? '' : 's'}`,
    );
  if (e.tests)
    parts.push(
      `${e.tests.passed}/${e.tests.total} tests passed${e.tests.failed ? `, ${e.tests.failed} failed` : ''}${e.tests.skipped ? `, ${e.tests.skipped} skipped` : ''}`,
    );
  if (e.coverage) {
    const c = (['lines', 'branches', 'functions', 'statements'] as const)
      .filter((k) => e.coverage![k] !== undefined)
      .map((k) => `${k} ${e.coverage![k]}%`);
    if (c.length) parts.push(`coverage ${c.join(', ')}`);
  }
  if (e.a11y)
    parts.push(
      `${e.a11y.violations} a11y violation${e.a11y.violations === 1 ? '' : 's'} on ${e.a11y.pages} page${e.a11y.pages === 1 ? '' : 's'}`,
    );
  if (e.sonar) parts.push(`Sonar quality gate ${e.sonar.status}`);
  if (!parts.length) parts.push(g.exitCode === null ? '—' : `exit code ${g.exitCode}`);
  return parts.join(' · ');
}

/** Status as shown to people: cached gates show what they were. */
export function statusLabel(g: GateResult): string {
  return g.status === 'cached' ? `${effectiveStatus(g)} (cached)` : g.status;
}

/** Counts of gates by effective status. */
export function statusCounts(report: RunReport): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const g of report.gates) {
    const s = effectiveStatus(g);
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}

export const STATUS_ICON: Record<string, string> = {
  passed: '✅',
  failed: '❌',
  error: '⚠️',
  timeout: '⏱️',
  interrupted: '⏹️',
  skipped: '⏭️',
};
