import { join } from 'node:path';
import type { ReportIntegrity, RunReport } from '@gatehouse/core';
import {
  ENVELOPE_FILE,
  sealReport,
  serialiseEnvelope,
  serialiseReport,
  type SealOptions,
} from './integrity.js';
import { render, type RenderOptions } from './render/index.js';
import { writeFileAtomic } from './util.js';

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
}

/**
 * Seal the report and write it into `dir`: `report.json` (sealed, canonical), `report.html`,
 * `report.md`, `junit.xml`, `report.sarif` and, with a key, `report.dsse.json`. Every file is
 * written atomically (temporary file + rename); `report.json` is written last, so a reader
 * that sees it also sees the renderings of the same run.
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
  };
  const renderOpts: RenderOptions = { fullReport: opts.fullReport ?? paths.htmlPath, ...opts };
  const files: Array<[string, string]> = [
    [paths.htmlPath, render(r, 'html', renderOpts)],
    [paths.mdPath, render(r, 'md', renderOpts)],
    [paths.junitPath, render(r, 'junit', renderOpts)],
  ];
  if (paths.sarifPath) files.push([paths.sarifPath, render(r, 'sarif', renderOpts)]);
  if (sealed.envelope && paths.dssePath)
    files.push([paths.dssePath, serialiseEnvelope(sealed.envelope)]);
  // The renderings are independent: their writes (and fsyncs) overlap; report.json still comes last.
  const writes = files.map(([path, text]) => writeFileAtomic(path, text));
  await settleAll(writes);
  await writeFileAtomic(paths.jsonPath, serialiseReport(r));
  return { report: r, ...paths };
}

/** Wait for every write, then throw the first failure (none is left running behind the caller). */
async function settleAll(writes: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(writes)).find(
    (w): w is PromiseRejectedResult => w.status === 'rejected',
  );
  if (failed) throw failed.reason;
}
