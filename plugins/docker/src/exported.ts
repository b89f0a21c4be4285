/** Reads one gate's exported results directory (`result.json`, `log.txt`, `evidence/`). */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GateOutcome } from '@gatehouse/report';

/** `result.json` as the gate stage writes it. */
export interface ExportedResult {
  id: string;
  exitCode: number | null;
  timedOut?: boolean;
  /** Why the gate did not run (a needed gate did not pass), or null. */
  skipped?: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** Longest log kept whole; the rest is cut (the report says so). */
const MAX_LOG_BYTES = 64 * 1024 * 1024;

/**
 * The outcome of one exported gate, plus why it was skipped, if it was. The log is
 * redacted in place first (the gate stage redacts too, where awk exists).
 */
export async function readGateDir(
  dir: string,
  executor: string,
  redact: (text: string) => string,
): Promise<{ outcome: GateOutcome; skipped: string | null }> {
  const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as ExportedResult;
  const logPath = join(dir, 'log.txt');
  let log = await readFile(logPath).catch(() => null);
  if (log) {
    const text = log.toString('utf8');
    const clean = redact(text);
    if (clean !== text) {
      log = Buffer.from(clean, 'utf8');
      await writeFile(logPath, log);
    }
  }
  const truncated = (log?.length ?? 0) > MAX_LOG_BYTES;
  if (log && truncated) {
    log = log.subarray(0, MAX_LOG_BYTES);
    await writeFile(logPath, log);
  }
  const bytes = log ?? Buffer.alloc(0);
  return {
    skipped: typeof result.skipped === 'string' ? result.skipped : null,
    outcome: {
      id: result.id,
      exitCode: typeof result.exitCode === 'number' ? result.exitCode : null,
      signal: null,
      timedOut: result.timedOut === true,
      interrupted: false,
      spawnError: null,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      durationMs: result.durationMs,
      outDir: join(dir, 'evidence'),
      log: {
        path: log ? logPath : null,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes: bytes.length,
        truncated,
      },
      executor,
      image: null,
    },
  };
}
