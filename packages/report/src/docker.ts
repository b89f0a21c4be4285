import { lstat, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DOCKER_EVIDENCE_DIR,
  DOCKER_LOG_FILE,
  DOCKER_RESULT_FILE,
  sha256,
} from '@gatehouse-ci/core';
import type { ExportedGateResult, GateResult, ResolvedGate } from '@gatehouse-ci/core';
import { openConfined, readConfined, scanFile } from './confined.js';
import { evaluateGate, logTailOf, skippedResult, type EvaluateOptions } from './evaluate.js';
import { EMPTY_SHA256, type GateOutcome } from './outcome.js';

/** Longest log copy an executor keeps ({@link ExportReadOptions.logCopy}); the rest is cut and the report says so. */
export const MAX_EXPORTED_LOG_BYTES = 64 * 1024 * 1024;

/** `result.json` holds a few fields: anything larger is not one. */
const MAX_RESULT_JSON_BYTES = 1024 * 1024;
/** Bytes of the log's end kept while it is read: the tail is redacted with this much context. */
const TAIL_WINDOW_BYTES = 64 * 1024;
/** Read past the copy's cap, so a secret that crosses the cut is still seen whole. */
const HEAD_MARGIN_BYTES = 1024 * 1024;

/** How an exported gate's log is treated when read. */
export interface ExportReadOptions {
  /** The executor's secret redaction, applied to the log tail and copy (the gate stage redacts too, where awk exists). */
  redact?: (text: string) => string;
  /** Cap of the log copy. @default {@link MAX_EXPORTED_LOG_BYTES} */
  maxLogBytes?: number;
  /**
   * A new file to write the log to, redacted and cut at `maxLogBytes` (the executor's run
   * directory); the outcome then describes that copy. Without it, the outcome describes the
   * exported `log.txt` as it is: its size and the sha256 of all of it.
   */
  logCopy?: string;
}

const NAME = "the gate's exported directory";

/**
 * `result.json` as read: core's {@link ExportedGateResult}, every field still unchecked (an
 * older stage wrote fewer keys; a gate could have written anything there).
 */
type RawExportedResult = { [K in keyof ExportedGateResult]?: unknown } & Record<string, unknown>;

type ResultJson =
  { ok: true; raw: RawExportedResult } | { ok: false; spawnError?: string; refusal?: string };

/** `result.json` of an exported gate, read without following a link out of `dir`. */
async function readResultJson(dir: string): Promise<ResultJson> {
  const read = await readConfined(dir, DOCKER_RESULT_FILE, NAME, MAX_RESULT_JSON_BYTES);
  if (!read.ok) {
    if (read.kind === 'missing') return { ok: false, spawnError: `no result.json in ${dir}` };
    if (read.kind === 'large' || read.kind === 'unreadable')
      return { ok: false, spawnError: `result.json in ${dir} is ${read.reason}` };
    return { ok: false, refusal: `result.json ${read.reason}` };
  }
  try {
    const raw: unknown = JSON.parse(read.bytes.toString('utf8'));
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new Error('not a JSON object');
    return { ok: true, raw: raw as RawExportedResult };
  } catch (err) {
    return {
      ok: false,
      spawnError: `result.json in ${dir} is malformed: ${(err as Error).message}`,
    };
  }
}

/**
 * The exported log, read in chunks: never whole into memory, never written. Without a copy
 * the summary is the file's size and the sha256 of all of it; with one, the copy's.
 */
async function readExportedLog(
  dir: string,
  options: ExportReadOptions,
): Promise<{ log: GateOutcome['log']; logTail?: string; refusal?: string }> {
  const none: GateOutcome['log'] = { path: null, sha256: EMPTY_SHA256, bytes: 0, truncated: false };
  const opened = await openConfined(dir, DOCKER_LOG_FILE, NAME);
  if (!opened.ok)
    return opened.kind === 'missing'
      ? { log: none }
      : { log: none, refusal: `log.txt ${opened.reason}` };
  const redact = options.redact ?? ((t: string) => t);
  const max = options.maxLogBytes ?? MAX_EXPORTED_LOG_BYTES;
  const scan = await scanFile(opened.fh, {
    headBytes: options.logCopy ? max + HEAD_MARGIN_BYTES : 0,
    tailBytes: TAIL_WINDOW_BYTES,
  });
  const end = Buffer.from(redact(scan.tail.toString('utf8')), 'utf8');
  const logTail = logTailOf(end, scan.tail.length === scan.bytes);
  if (!options.logCopy)
    return {
      log: {
        path: join(dir, DOCKER_LOG_FILE),
        sha256: scan.sha256,
        bytes: scan.bytes,
        truncated: false,
      },
      logTail,
    };
  let copy = Buffer.from(redact(scan.head.toString('utf8')), 'utf8');
  const truncated = copy.length > max || scan.head.length < scan.bytes;
  if (copy.length > max) copy = copy.subarray(0, max);
  // A new file: whatever was at that path (a link included) is removed, not written through.
  await rm(options.logCopy, { force: true });
  await writeFile(options.logCopy, copy, { flag: 'wx', mode: 0o600 });
  return {
    log: { path: options.logCopy, sha256: sha256(copy), bytes: copy.length, truncated },
    logTail,
  };
}

/**
 * Read one gate exported from the Docker layout (`<dir>/result.json`, `log.txt`, `evidence/`;
 * core's `docker-layout.ts`) as an outcome. `result.json` is an `ExportedGateResult`; only
 * `id`, `exitCode`, `startedAt` and `finishedAt` are required here, so a file written by an
 * older stage still reads. Exit code 124 (from `timeout`) means the gate timed out. A missing or malformed `result.json`
 * yields an outcome whose `spawnError` says so, so `evaluateGate` reports `error`.
 *
 * The gate wrote that directory, so nothing in it is trusted: a file that is (or is reached
 * through) a symbolic link leading out of `dir`, or that is not a regular file, is not read
 * and goes to `refusals` (the gate becomes `error`); `dir` and `evidence/` must be real
 * directories. Nothing in `dir` is ever written. The log is read in chunks, so its size does
 * not matter: the outcome holds its tail and the sha256 of all of it.
 */
export async function readExportedGate(
  dir: string,
  gate: ResolvedGate,
  executor: string,
  options: ExportReadOptions = {},
): Promise<GateOutcome> {
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
    outDir: join(dir, DOCKER_EVIDENCE_DIR),
    log: { path: null, sha256: EMPTY_SHA256, bytes: 0, truncated: false },
    executor,
    image: { ref: gate.image, digest: null },
  };
  const top = await lstat(dir).catch(() => null);
  if (!top) return { ...base, spawnError: `no result.json in ${dir}` };
  if (!top.isDirectory())
    return {
      ...base,
      refusals: [
        `the exported directory ${dir} ${top.isSymbolicLink() ? 'is a symbolic link; not followed' : 'is not a directory'}`,
      ],
    };
  const refusals: string[] = [];
  const evidenceDir = await lstat(base.outDir).catch(() => null);
  if (evidenceDir?.isSymbolicLink()) refusals.push('evidence is a symbolic link; not followed');
  else if (evidenceDir && !evidenceDir.isDirectory()) refusals.push('evidence is not a directory');
  const log = await readExportedLog(dir, options);
  if (log.refusal) refusals.push(log.refusal);
  const withLog: GateOutcome = {
    ...base,
    log: log.log,
    ...(log.logTail !== undefined ? { logTail: log.logTail } : {}),
  };
  const result = await readResultJson(dir);
  if (!result.ok && result.refusal) refusals.push(result.refusal);
  if (refusals.length) return { ...withLog, refusals };
  if (!result.ok)
    return { ...withLog, spawnError: result.spawnError ?? `no result.json in ${dir}` };
  const r = result.raw;
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
  if (problems.length) return { ...withLog, spawnError: problems.join('; ') };
  const exitCode = r.exitCode as number;
  const durationMs =
    typeof r.durationMs === 'number' && r.durationMs >= 0
      ? r.durationMs
      : Date.parse(finishedAt!) - Date.parse(startedAt!);
  // GNU `timeout` exits 124; the gate stage also sets `timedOut` for busybox (137/143).
  const timedOut = exitCode === 124 || r.timedOut === true;
  return {
    ...withLog,
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
  options: EvaluateOptions & {
    maxLogBytes?: number;
    logCopy?: string;
    image?: GateResult['image'];
  },
): Promise<GateResult> {
  const image = options.image ?? null;
  const read: ExportReadOptions = {
    ...(options.redact ? { redact: options.redact } : {}),
    ...(options.maxLogBytes !== undefined ? { maxLogBytes: options.maxLogBytes } : {}),
    ...(options.logCopy !== undefined ? { logCopy: options.logCopy } : {}),
  };
  const top = await lstat(dir).catch(() => null);
  const result = top?.isDirectory() ? await readResultJson(dir) : null;
  const raw = result?.ok ? result.raw : null;
  if (raw && raw.id === gate.id && raw.exitCode === null && typeof raw.skipped === 'string') {
    // Not run. Its log (which says why) is still read, and copied when asked: a refused
    // one makes the gate an error below, like any other.
    const log = await readExportedLog(dir, read);
    if (!log.refusal) return { ...skippedResult(gate, raw.skipped, executor), image };
  }
  const outcome = await readExportedGate(dir, gate, executor, read);
  return evaluateGate(gate, { ...outcome, image }, options);
}
