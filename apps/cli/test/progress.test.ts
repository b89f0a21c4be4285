import type { GateResult, RunEvent } from '@gatehouse-ci/core';
import { describe, expect, it, vi } from 'vitest';
import { describeEnd } from '../src/progress/format.js';
import { chooseRenderer, lineRenderer, ttyRenderer } from '../src/progress/renderers.js';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return {
    chunks,
    stream: {
      isTTY,
      columns: 80,
      write: (c: string) => (chunks.push(c), true),
    } as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number },
  };
}

const at = '2025-01-01T12:00:01.000Z';
function result(id: string, over: Partial<GateResult> = {}): GateResult {
  return {
    id,
    kind: 'custom',
    mode: 'blocking',
    status: 'passed',
    reason: null,
    exitCode: 0,
    commandSha256: '0',
    image: null,
    startedAt: at,
    finishedAt: at,
    durationMs: 1234,
    executor: 'local',
    cached: null,
    log: { path: null, sha256: '0', bytes: 0, truncated: false },
    evidence: { files: [], findings: [], findingsTotal: 0 },
    thresholds: [],
    ...over,
  };
}

describe('progress', () => {
  it('describes gate ends', () => {
    expect(describeEnd(result('lint'))).toBe('✔ lint passed 1.2s');
    expect(
      describeEnd(
        result('b', { status: 'failed', reason: 'exited with code 1', durationMs: 3000 }),
      ),
    ).toBe('✖ b failed 3.0s: exited with code 1');
    expect(
      describeEnd(
        result('u', { status: 'cached', cached: { status: 'passed', key: 'k', runId: 'r' } }),
      ),
    ).toMatch(/^↺ u cached \(passed\) from \d\d:\d\d:\d\d$/);
    expect(
      describeEnd(
        result('u', {
          status: 'cached',
          cached: { status: 'passed', key: 'k', runId: 'r', from: 'remote' },
        }),
      ),
    ).toMatch(/^↺ u cached \(passed\) from \d\d:\d\d:\d\d \(remote cache\)$/);
    expect(describeEnd(result('a', { status: 'skipped', reason: 'needs b which failed' }))).toBe(
      '○ a skipped: needs b which failed',
    );
  });

  it('picks JSON, a live table on a terminal, plain lines in CI or pipes', () => {
    const tty = sink(true).stream;
    const pipe = sink(false).stream;
    expect(chooseRenderer(tty, { json: false, env: {} }).kind).toBe('table');
    expect(chooseRenderer(tty, { json: true, env: {} }).kind).toBe('json');
    expect(chooseRenderer(tty, { json: false, env: { CI: 'true' } }).kind).toBe('lines');
    expect(chooseRenderer(tty, { json: false, env: { TERM: 'dumb' } }).kind).toBe('lines');
    expect(chooseRenderer(pipe, { json: false, env: {} }).kind).toBe('lines');
  });

  it('plain lines carry a timestamp and a symbol', () => {
    const s = sink();
    const r = lineRenderer(s.stream);
    r.onEvent({ type: 'gate-start', at, id: 'lint' });
    r.onEvent({ type: 'gate-end', at, id: 'lint', result: result('lint') });
    expect(s.chunks.join('')).toMatch(
      /^\d\d:\d\d:\d\d ▶ lint started\n\d\d:\d\d:\d\d ✔ lint passed 1\.2s\n$/,
    );
  });

  it('plain lines say what is still running after a quiet stretch, and stop when it ends', () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T10:00:00Z') });
    try {
      const s = sink();
      const r = lineRenderer(s.stream, undefined, 60_000);
      const now = () => new Date().toISOString();
      r.onEvent({ type: 'run-start', at: now(), gates: ['lint', 'unit'] });
      r.onEvent({ type: 'setup-start', at: now() });
      vi.advanceTimersByTime(59_000);
      expect(s.chunks.join('')).not.toContain('still running');
      vi.advanceTimersByTime(61_000);
      // No setup-end yet (the Docker executor sends it after the build): a gate's start ends it.
      r.onEvent({ type: 'gate-start', at: now(), id: 'lint' });
      r.onEvent({ type: 'gate-start', at: now(), id: 'unit' });
      vi.advanceTimersByTime(30_000);
      // A line printed meanwhile (unit ends) starts the quiet stretch again.
      r.onEvent({ type: 'gate-end', at: now(), id: 'unit', result: result('unit') });
      vi.advanceTimersByTime(75_000);
      r.onEvent({ type: 'gate-end', at: now(), id: 'lint', result: result('lint') });
      const before = s.chunks.length;
      vi.advanceTimersByTime(300_000);
      r.close();
      const beats = s.chunks
        .join('')
        .split('\n')
        .filter((l) => l.includes('still running'));
      expect(beats.map((l) => l.replace(/^\d\d:\d\d:\d\d /, ''))).toEqual([
        '… still running: setup 1m00s',
        '… still running: setup 2m00s',
        '… still running: lint 1m30s',
      ]);
      // Nothing runs any more: no line after the last gate ended.
      expect(s.chunks.length).toBe(before);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the live table shows how long setup has been running', () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T10:00:00Z') });
    try {
      const s = sink(true);
      const r = ttyRenderer(s.stream, 100);
      r.onEvent({ type: 'run-start', at: new Date().toISOString(), gates: ['lint'] });
      r.onEvent({ type: 'setup-start', at: new Date().toISOString() });
      vi.advanceTimersByTime(75_000);
      r.close();
      expect(s.chunks.join('')).toContain('▶ setup running  1m15s');
    } finally {
      vi.useRealTimers();
    }
  });

  it('the live table redraws in place, at most 10 times a second', async () => {
    const s = sink(true);
    const r = ttyRenderer(s.stream, 100);
    const events: RunEvent[] = [
      { type: 'run-start', at, gates: ['lint', 'unit'] },
      { type: 'gate-start', at: new Date().toISOString(), id: 'lint' },
    ];
    for (const e of events) r.onEvent(e);
    await new Promise((res) => setTimeout(res, 550));
    r.onEvent({ type: 'gate-end', at, id: 'lint', result: result('lint') });
    r.close();
    const out = s.chunks.join('');
    const redraws = out.split('\x1b[2A').length - 1;
    expect(redraws).toBeGreaterThanOrEqual(3);
    expect(redraws).toBeLessThanOrEqual(7);
    expect(out).toMatch(/lint\s+running\s+\d/);
    expect(out).toMatch(/unit\s+waiting/);
    expect(out).toMatch(/lint\s+passed\s+1\.2s/);
    expect(out.endsWith('\x1b[?25h')).toBe(true);
  });
});
