/**
 * The runner's only door to `@gatehouse-ci/report`: judging outcomes, skipped/cached results,
 * building and writing the report.
 */
import { readFile } from 'node:fs/promises';
import type { GateResult, ResolvedGate } from '@gatehouse-ci/core';
import * as report from './report-api.js';

export type { GateOutcome } from './report-api.js';
export const {
  buildReport,
  writeReport,
  skippedResult,
  cachedResult,
  appendLedger,
  publishLatest,
} = report;

/** Last non-empty line of a log file (bounded read), for error reasons. */
async function lastLogLine(path: string | null): Promise<string | null> {
  if (path === null) return null;
  try {
    const text = (await readFile(path, 'utf8')).slice(-4096);
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    return lines.at(-1)?.trim() ?? null;
  } catch {
    return null;
  }
}

/**
 * Judge a gate through the report package, then apply the runner's own rules: exit 127
 * from `/bin/sh` means the command was not found (an `error`, not a `failed` check), and an
 * incomplete log is said in the reason. `redact` is applied to every string taken from the
 * gate's output (evidence, log tail, reasons), as the Docker executor does.
 */
export async function judge(
  gate: ResolvedGate,
  outcome: report.GateOutcome,
  rootDir: string,
  logWriteError: string | null,
  redact: (text: string) => string,
  /** The gate's environment, when its tools should be recorded (a run that is reported). */
  env?: Record<string, string | undefined>,
  /** The pipeline's `setup.run`, which tells the package manager among several lockfiles. */
  setupRun: string | null = null,
): Promise<GateResult> {
  let result = await report.evaluateGate(gate, outcome, {
    rootDir,
    redact,
    ...(env ? { toolchain: { cwd: rootDir, env, setupRun } } : {}),
  });
  if (result.status === 'failed' && outcome.exitCode === 127) {
    const line = await lastLogLine(outcome.log.path);
    result = {
      ...result,
      status: 'error',
      reason: `command not found (exit 127)${line ? `: ${redact(line)}` : ''}`,
    };
  }
  if (logWriteError !== null) {
    const note = `log incomplete: ${logWriteError}`;
    result = { ...result, reason: result.reason ? `${result.reason}; ${note}` : note };
  }
  return result;
}
