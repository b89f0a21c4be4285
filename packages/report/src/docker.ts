import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from '@gatehouse/core';
import type { ResolvedGate } from '@gatehouse/core';
import type { GateResult } from '@gatehouse/core';
import { evaluateGate, skippedResult, type EvaluateOptions } from './evaluate.js';
import { EMPTY_SHA256, type GateOutcome } from './outcome.js';

/** Longest exported log kept whole; the rest is cut and the report says so. */
export const MAX_EXPORTED_LOG_BYTES = 64 * 1024 * 1024;

/** How an exported gate's log is treated when read. */
export interface ExportReadOptions {
  /** The executor's secret redaction, applied to the log (the gate stage redacts too, where awk exists). */
  redact?: (text: string) => string;
  /** @default {@link MAX_EXPORTED_LOG_BYTES} */
  maxLogBytes?: number;
}

/**
 * Read one gate exported from the Docker layout (`<dir>/result.json`, `log.txt`, `evidence/`)
 * as an outcome. `result.json` is `{ id, exitCode, startedAt, finishedAt, durationMs }`; exit
 * code 124 (from `timeout`) means the gate timed out. A missing or malformed `result.json`
 * yields an outcome whose `spawnError` says so, so `evaluateGate` reports `error`.
 */
export async function readExportedGate(
  dir: string,
  gate: ResolvedGate,
  executor: string,
  options: ExportReadOptions = {},
): Promise<GateOutcome> {
  const logPath = join(dir, 'log.txt');
  let log: GateOutcome['log'] = { path: null, sha256: EMPTY_SHA256, bytes: 0, truncated: false };
  let bytes = await readFile(logPath).catch(() => null);
  if (bytes) {
    // The log is rewritten in place, so what is kept on disk is what the report describes.
    const text = bytes.toString('utf8');
    const clean = options.redact ? options.redact(text) : text;
    const max = options.maxLogBytes ?? MAX_EXPORTED_LOG_BYTES;
    const truncated = Buffer.byteLength(clean) > max;
    if (clean !== text || truncated) {
      bytes = Buffer.from(clean, 'utf8');
      if (truncated) bytes = bytes.subarray(0, max);
      await writeFile(logPath, bytes);
    }
    log = { path: logPath, sha256: sha256(bytes), bytes: bytes.length, truncated };
  }
  const base: GateOutcome = {
    id: gate.id,
    exitCode: null,
    signal: null,
    timedOut: false,
    interrupted: false,
    spawnError: null,
    startedAt: new Date(0).toISOString(),
    finishedAt: new Date(0).toISOString(),
    durationMs: 0,
    outDir: join(dir, 'evidence'),
    log,
    executor,
    image: { ref: gate.image, digest: null },
  };
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      ...base,
      spawnError: missing
        ? `no result.json in ${dir}`
        : `result.json in ${dir} is malformed: ${(err as Error).message}`,
    };
  }
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (r.id !== gate.id)
    problems.push(`result.json names gate ${JSON.stringify(r.id)}, expected ${gate.id}`);
  if (!Number.isInteger(r.exitCode)) problems.push('result.json has no integer exitCode');
  const iso = (v: unknown): string | null =>
    typeof v === 'string' && !Number.isNaN(Date.parse(v))
      ? new Date(Date.parse(v)).toISOString()
      : null;
  const startedAt = iso(r.startedAt);
  const finishedAt = iso(r.finishedAt);
  if (!startedAt || !finishedAt) problems.push('result.json has no valid startedAt/finishedAt');
  if (problems.length) return { ...base, spawnError: problems.join('; ') };
  const exitCode = r.exitCode as number;
  const durationMs =
    typeof r.durationMs === 'number' && r.durationMs >= 0
      ? r.durationMs
      : Date.parse(finishedAt!) - Date.parse(startedAt!);
  // GNU `timeout` exits 124; the gate stage also sets `timedOut` for busybox (137/143).
  const timedOut = exitCode === 124 || r.timedOut === true;
  return {
    ...base,
    exitCode,
    timedOut,
    startedAt: startedAt!,
    finishedAt: finishedAt!,
    durationMs,
  };
}

/**
 * Judge one exported gate: a gate the stage did not run (`skipped` holds why: a needed
 * gate did not pass, or its `when` condition was not met) becomes a `skipped` result with
 * that reason; anything else is read with {@link readExportedGate} and judged by
 * `evaluateGate`. The Docker executor and `gatehouse report merge --docker` both use this.
 */
export async function judgeExportedGate(
  dir: string,
  gate: ResolvedGate,
  executor: string,
  options: EvaluateOptions & { maxLogBytes?: number; image?: GateResult['image'] },
): Promise<GateResult> {
  const image = options.image ?? null;
  let skipped: string | null = null;
  try {
    const raw = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    if (raw.id === gate.id && raw.exitCode === null && typeof raw.skipped === 'string')
      skipped = raw.skipped;
  } catch {
    // unreadable: readExportedGate below reports it as an error
  }
  if (skipped !== null) return { ...skippedResult(gate, skipped, executor), image };
  const read: ExportReadOptions = {
    ...(options.redact ? { redact: options.redact } : {}),
    ...(options.maxLogBytes !== undefined ? { maxLogBytes: options.maxLogBytes } : {}),
  };
  const outcome = await readExportedGate(dir, gate, executor, read);
  return evaluateGate(gate, { ...outcome, image }, options);
}
