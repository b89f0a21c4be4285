import type { Finding, GateResult, Policy, ResolvedGate, ThresholdCheck } from '@gatehouse-ci/core';
import { a11ySummaryOf, IMPACTS, lintSummaryOf, type ParsedEvidence } from './evidence/types.js';

/** The policy a gate is judged by: its own thresholds plus the defaults of its kind. */
export function effectivePolicy(
  gate: Pick<ResolvedGate, 'kind' | 'policy'>,
  evidence: ParsedEvidence,
): Policy {
  const policy: Policy = { ...gate.policy };
  if (gate.kind === 'unit-test' && policy.max_failed === undefined && evidence.tests)
    policy.max_failed = 0;
  // A report-task.txt alone says nothing about the outcome: the default applies only to a known status.
  if (
    gate.kind === 'sonarqube' &&
    policy.sonar_quality_gate === undefined &&
    evidence.sonar &&
    evidence.sonar.status !== 'NONE'
  ) {
    policy.sonar_quality_gate = true;
  }
  return policy;
}

/** Fingerprints of a gate's findings in an earlier result, for `policy.baseline`. */
export function baselineFingerprints(previous: GateResult | undefined): Set<string> {
  return new Set((previous?.evidence.findings ?? []).map((f) => f.fingerprint));
}

/**
 * Measure evidence against a policy. A threshold whose quantity no evidence file measured
 * gets `measured: null, ok: false`: a policy nobody checked must not pass.
 * With a baseline, lint and accessibility thresholds count only findings whose fingerprint
 * is not in it.
 */
export function checkPolicy(
  policy: Policy,
  evidence: ParsedEvidence,
  baseline: Set<string> | null,
): ThresholdCheck[] {
  const checks: ThresholdCheck[] = [];
  const isNew = (f: Finding): boolean => baseline === null || !baseline.has(f.fingerprint);
  const lintAll = evidence.findings.filter((f) => f.fingerprint.startsWith('lint:'));
  const a11yAll = evidence.findings.filter((f) => f.fingerprint.startsWith('a11y:'));
  // Without a baseline the summaries are the counts: they are computed from every finding,
  // while a result read back from a file lists only the first MAX_FINDINGS of them.
  const lintNew =
    baseline === null && evidence.lint ? evidence.lint : lintSummaryOf(lintAll.filter(isNew));
  const a11yNew =
    baseline === null && evidence.a11y
      ? evidence.a11y
      : a11ySummaryOf(a11yAll.filter(isNew), evidence.a11y?.pages ?? 0);
  const excluded = (
    all: Finding[],
    level: Finding['level'],
    impact?: string,
  ): number | undefined => {
    if (baseline === null) return undefined;
    return all.filter(
      (f) =>
        f.level === level && (impact === undefined || normImpact(f.impact) === impact) && !isNew(f),
    ).length;
  };
  const withBaseline = (c: ThresholdCheck, n: number | undefined): ThresholdCheck =>
    n === undefined ? c : { ...c, excludedByBaseline: n };

  if (policy.max_errors !== undefined) {
    const measured = evidence.lint ? lintNew.errors : null;
    checks.push(
      withBaseline(
        maxCheck('max_errors', policy.max_errors, measured),
        evidence.lint ? excluded(lintAll, 'error') : undefined,
      ),
    );
  }
  if (policy.max_warnings !== undefined) {
    const measured = evidence.lint ? lintNew.warnings : null;
    checks.push(
      withBaseline(
        maxCheck('max_warnings', policy.max_warnings, measured),
        evidence.lint ? excluded(lintAll, 'warning') : undefined,
      ),
    );
  }
  if (policy.max_failed !== undefined) {
    checks.push(
      maxCheck('max_failed', policy.max_failed, evidence.tests ? evidence.tests.failed : null),
    );
  }
  if (policy.min_coverage) {
    for (const metric of ['lines', 'branches', 'functions', 'statements'] as const) {
      const limit = policy.min_coverage[metric];
      if (limit === undefined) continue;
      const measured = evidence.coverage?.[metric] ?? null;
      checks.push({
        name: `min_coverage.${metric}`,
        limit,
        measured,
        ok: measured !== null && measured >= limit,
      });
    }
  }
  if (policy.max_violations !== undefined) {
    if (typeof policy.max_violations === 'number') {
      const measured = evidence.a11y ? a11yNew.violations : null;
      checks.push(
        withBaseline(
          maxCheck('max_violations', policy.max_violations, measured),
          evidence.a11y ? excluded(a11yAll, 'error') : undefined,
        ),
      );
    } else {
      // A violation without a known impact could be of any impact: it counts against each limit.
      const unknown = a11yNew.byImpact.unknown;
      for (const impact of IMPACTS) {
        const limit = policy.max_violations[impact];
        if (limit === undefined) continue;
        const measured = evidence.a11y ? a11yNew.byImpact[impact] + unknown : null;
        const check = withBaseline(
          maxCheck(`max_violations.${impact}`, limit, measured),
          evidence.a11y && baseline !== null
            ? excluded(a11yAll, 'error', impact)! + excluded(a11yAll, 'error', 'unknown')!
            : undefined,
        );
        checks.push(evidence.a11y && unknown > 0 ? { ...check, unknownImpact: unknown } : check);
      }
    }
  }
  if (policy.sonar_quality_gate === true) {
    const measured = evidence.sonar ? evidence.sonar.status : null;
    checks.push({ name: 'sonar_quality_gate', limit: 'OK', measured, ok: measured === 'OK' });
  }
  return checks;
}

function normImpact(impact: string | undefined): string {
  return (IMPACTS as readonly string[]).includes(impact ?? '') ? impact! : 'unknown';
}

function maxCheck(name: string, limit: number, measured: number | null): ThresholdCheck {
  return { name, limit, measured, ok: measured !== null && measured <= limit };
}

/** One line describing a failed check, for `GateResult.reason`. */
export function describeCheck(c: ThresholdCheck): string {
  if (c.measured === null) return `${c.name}: nothing measured it (no evidence of that kind)`;
  if (c.name === 'sonar_quality_gate')
    return `sonar quality gate is ${String(c.measured)} (must be OK)`;
  const op = c.name.startsWith('min_') ? '≥' : '≤';
  const unknown = c.unknownImpact ? ` (${c.unknownImpact} of unknown impact, counted here)` : '';
  return `${c.name}: measured ${String(c.measured)}${unknown}, limit ${op} ${String(c.limit)}`;
}
