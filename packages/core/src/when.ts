import type { ResolvedGate } from './model.js';

/**
 * Why a gate's `when` condition does not hold in this environment, or `null` when the
 * gate should run. Every executor calls this before running a gate, so a gate is
 * skipped for the same reason locally, in Docker and on a CI agent.
 */
export function unmetCondition(
  gate: Pick<ResolvedGate, 'when'>,
  env: Record<string, string | undefined>,
): string | null {
  const missing = (gate.when?.env ?? []).filter((name) => !env[name]);
  if (missing.length === 0) return null;
  const names = missing.map((n) => `\`${n}\``).join(', ');
  return `${names} ${missing.length === 1 ? 'is' : 'are'} not set (when.env)`;
}
