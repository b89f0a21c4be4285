import { describe, expect, it } from 'vitest';
import type { GateResult, RunReport } from '@gatehouse-ci/core';
import { computeVerdict } from '../verdict.js';
import { render } from './index.js';
import { sampleReport } from '../../test/sample.js';

/** The sample with each gate's status replaced and the verdict computed again. */
function withStatuses(statuses: Record<string, GateResult['status']>): RunReport {
  const r = sampleReport();
  for (const g of r.gates) {
    const s = statuses[g.id];
    if (!s) continue;
    g.status = s;
    g.cached = s === 'cached' ? { status: 'passed', key: 'k'.repeat(64), runId: null } : null;
  }
  r.verdict = computeVerdict(r.gates, null);
  return r;
}

describe('annotation style', () => {
  it('follows the verdict: error when it failed, warning when a gate did not pass, else success', () => {
    expect(render(sampleReport(), 'style')).toBe('error\n');
    const all = { lint: 'passed', unit: 'passed', a11y: 'passed', sonar: 'cached', e2e: 'passed' };
    expect(render(withStatuses(all as never), 'style')).toBe('success\n');
    const advisory = withStatuses({ ...all, a11y: 'failed' } as never);
    expect(advisory.verdict.status).toBe('passed');
    expect(render(advisory, 'style')).toBe('warning\n');
    expect(render(withStatuses({ ...all, e2e: 'skipped' } as never), 'style')).toBe('warning\n');
    expect(render(withStatuses({ ...all, unit: 'timeout' } as never), 'style')).toBe('error\n');
  });
});
