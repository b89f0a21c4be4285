import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GatehouseError, isGatehouseError } from '@gatehouse-ci/core';
import type { ReportIntegrity, RunReport } from '@gatehouse-ci/core';
import {
  ENVELOPE_FILE,
  sealReport,
  serialiseEnvelope,
  serialiseReport,
  type SealOptions,
} from './integrity.js';
import { render, type RenderOptions } from './render/index.js';
import { writeFileAtomic } from './util.js';
import { VSA_ENVELOPE_FILE } from './slsa.js';

/**
 * A report file could not be written (a full disk, a quota, a read-only file system, …):
 * code `GH_REPORT_WRITE`, the file (`path`), the system error code (`errno`, e.g. `ENOSPC`)
 * and, when {@link writeReport} failed, the sealed report it was writing, so a caller can still
 * show the verdict.
 */
export class ReportWriteError extends GatehouseError {
  /** `ENOSPC (no space left on device)` */
  readonly reason: string;

  constructor(
    readonly path: string,
    readonly errno: string,
    readonly report: (RunReport & { integrity: ReportIntegrity }) | null,
    cause: unknown,
  ) {
    const reason = `${errno} (${systemErrorText(cause, errno)})`;
    super('GH_REPORT_WRITE', `cannot write ${path}: ${reason}`, {
      cause,
      hint:
        errno === 'ENOSPC' || errno === 'EDQUOT'
          ? 'free some disk space and run again'
          : 'check that the directory is writable and run again',
    });
    this.reason = reason;
  }
}

/** The words of a system error (`no space left on device`), from node's message. */
function systemErrorText(err: unknown, errno: string): string {
  const m = new RegExp(`^${errno}: ([^,]+)`).exec((err as Error | undefined)?.message ?? '');
  return m?.[1]?.trim() || 'system error';
}

/**
 * `err` as a {@link ReportWriteError} for writing `path` when it is a system error (it has
 * an `E…` code), else null: a bug stays a bug.
 */
export function reportWriteError(
  path: string,
  err: unknown,
  report: (RunReport & { integrity: ReportIntegrity }) | null = null,
): ReportWriteError | null {
  if (isReportWriteError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return null;
  return new ReportWriteError(path, code, report, err);
}

/** True for a {@link ReportWriteError} (also one from another copy of this package). */
export function isReportWriteError(err: unknown): err is ReportWriteError {
  return (
    isGatehouseError(err) &&
    err.code === 'GH_REPORT_WRITE' &&
    typeof (err as Partial<ReportWriteError>).path === 'string' &&
    typeof (err as Partial<ReportWriteError>).errno === 'string'
  );
}

/** Options of {@link writeReport}. */
export interface WriteReportOptions extends SealOptions, RenderOptions {
  /** Also write SARIF (`report.sarif`). @default true */
  sarif?: boolean;
  /** File name of the JSON report inside `dir`. @default 'report.json' */
  jsonName?: string;
}

/** Paths written by {@link writeReport}. */
export interface WrittenReport {
  /** The sealed report as written. */
  report: RunReport & { integrity: ReportIntegrity };
  jsonPath: string;
  htmlPath: string;
  mdPath: string;
  junitPath: string;
  sarifPath: string | null;
  /** The DSSE envelope, when a key was given. */
  dssePath: string | null;
  /** The signed SLSA VSA of the verdict, when a key was given. */
  vsaPath: string | null;
}

/**
 * Seal the report and write it into `dir`: `report.json` (sealed, canonical), `report.html`,
 * `report.md`, `junit.xml`, `report.sarif` and, with a key, `report.dsse.json`. Every file is
 * written atomically (temporary file, fsync, rename). `report.json` is written first and the
 * renderings beside it, all at once; when any write fails, `report.json` is removed again, so
 * once this returns or throws, a `report.json` in `dir` always comes with the renderings of
 * the same run. A system error (a full disk, say) is thrown as a {@link ReportWriteError}
 * naming the file and holding the sealed report.
 */
export async function writeReport(
  report: RunReport,
  dir: string,
  opts: WriteReportOptions = {},
): Promise<WrittenReport> {
  const sealed = sealReport(report, opts);
  const r = sealed.report as RunReport & { integrity: ReportIntegrity };
  const paths = {
    jsonPath: join(dir, opts.jsonName ?? 'report.json'),
    htmlPath: join(dir, 'report.html'),
    mdPath: join(dir, 'report.md'),
    junitPath: join(dir, 'junit.xml'),
    sarifPath: opts.sarif === false ? null : join(dir, 'report.sarif'),
    dssePath: sealed.envelope ? join(dir, ENVELOPE_FILE) : null,
    vsaPath: sealed.vsaEnvelope ? join(dir, VSA_ENVELOPE_FILE) : null,
  };
  const renderOpts: RenderOptions = { fullReport: opts.fullReport ?? paths.htmlPath, ...opts };
  const write = (path: string, text: string): Promise<void> => {
    const p = writeFileAtomic(path, text).catch((err: unknown) => {
      throw reportWriteError(path, err, r) ?? err;
    });
    // Observed at once: a write may fail while later renderings are still being made, before
    // settleAll waits for it (an unobserved rejection would be reported as unhandled).
    p.catch(() => undefined);
    return p;
  };
  // report.json first: its write and fsync proceed while the renderings are made, and every
  // file's write overlaps the others'. Yielding between renderings lets those writes progress.
  const writes = [write(paths.jsonPath, serialiseReport(r))];
  try {
    const renderings: Array<[string, () => string]> = [
      [paths.htmlPath, () => render(r, 'html', renderOpts)],
      [paths.mdPath, () => render(r, 'md', renderOpts)],
      [paths.junitPath, () => render(r, 'junit', renderOpts)],
    ];
    if (paths.sarifPath) renderings.push([paths.sarifPath, () => render(r, 'sarif', renderOpts)]);
    if (sealed.envelope && paths.dssePath) {
      const envelope = sealed.envelope;
      renderings.push([paths.dssePath, () => serialiseEnvelope(envelope)]);
    }
    if (sealed.vsaEnvelope && paths.vsaPath) {
      const vsa = sealed.vsaEnvelope;
      renderings.push([paths.vsaPath, () => serialiseEnvelope(vsa)]);
    }
    for (const [path, make] of renderings) {
      await new Promise<void>((next) => setImmediate(next));
      writes.push(write(path, make()));
    }
    await settleAll(writes);
  } catch (err) {
    // No report.json without every rendering of the same run: take it back.
    await Promise.allSettled(writes);
    await rm(paths.jsonPath, { force: true }).catch(() => undefined);
    throw err;
  }
  return { report: r, ...paths };
}

/** Wait for every write, then throw the first failure (none is left running behind the caller). */
async function settleAll(writes: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(writes)).find(
    (w): w is PromiseRejectedResult => w.status === 'rejected',
  );
  if (failed) throw failed.reason;
}
