import { open } from 'node:fs/promises';
import type { GateResult, RunReport } from '@gatehouse-ci/core';

/** `1.2s`, `340ms`, `2m05s`. */
export function formatElapsed(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${m}m${String(s).padStart(2, '0')}s`;
}

/** `12:00:01` in local time. */
export function clock(iso: string): string {
  const d = new Date(iso);
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
}

/** One symbol per final status. */
export const SYMBOL: Record<string, string> = {
  passed: '✔',
  failed: '✖',
  error: '✖',
  timeout: '⏱',
  interrupted: '■',
  skipped: '○',
  cached: '↺',
};

/**
 * `✔ lint passed 1.2s`, `↺ unit cached (passed) from 12:00:01`, `↺ unit cached (passed) from
 * 12:00:01 (remote cache)`, `✖ build failed 3.0s: exited with code 1`.
 */
export function describeEnd(r: GateResult): string {
  if (r.status === 'cached')
    return `${SYMBOL.cached} ${r.id} cached (${r.cached?.status ?? '?'}) from ${clock(r.startedAt)}${r.cached?.from === 'remote' ? ' (remote cache)' : ''}`;
  const why = r.reason && r.status !== 'passed' ? `: ${r.reason}` : '';
  const time = r.status === 'skipped' ? '' : ` ${formatElapsed(r.durationMs)}`;
  return `${SYMBOL[r.status] ?? '?'} ${r.id} ${r.status}${time}${why}`;
}

/** A gate whose log is worth showing after the run. */
export function isProblem(r: GateResult): boolean {
  const s = r.status === 'cached' ? r.cached?.status : r.status;
  return s === 'failed' || s === 'error' || s === 'timeout';
}

/** The last `n` lines of a file, reading at most 64 KiB from its end. */
export async function tailLines(path: string, n: number): Promise<string[]> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-n);
  } finally {
    await fh.close();
  }
}

/** Counts per status, e.g. `3 passed, 1 failed, 2 cached`. */
export function counts(report: RunReport): string {
  const c = new Map<string, number>();
  for (const g of report.gates) c.set(g.status, (c.get(g.status) ?? 0) + 1);
  const order = ['passed', 'cached', 'failed', 'error', 'timeout', 'interrupted', 'skipped'];
  return (
    order
      .filter((s) => c.has(s))
      .map((s) => `${c.get(s)} ${s}`)
      .join(', ') || 'no gates'
  );
}
