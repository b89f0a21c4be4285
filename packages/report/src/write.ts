import { join } from 'node:path';
import type { ReportIntegrity, RunReport } from '@gatehouse/core';
import { ENVELOPE_FILE, sealReport, serialiseEnvelope, serialiseReport, type SealOptions } from './integrity.js';
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
export async function writeReport(report: RunReport, dir: string, opts: WriteReportOptions = {}): Promise<WrittenReport> {
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
  await writeFileAtomic(paths.htmlPath, render(r, 'html', renderOpts));
  await writeFileAtomic(paths.mdPath, render(r, 'md', renderOpts));
  await writeFileAtomic(paths.junitPath, render(r, 'junit', renderOpts));
  if (paths.sarifPath) await writeFileAtomic(paths.sarifPath, render(r, 'sarif', renderOpts));
  if (sealed.envelope && paths.dssePath) await writeFileAtomic(paths.dssePath, serialiseEnvelope(sealed.envelope));
  await writeFileAtomic(paths.jsonPath, serialiseReport(r));
  return { report: r, ...paths };
}
