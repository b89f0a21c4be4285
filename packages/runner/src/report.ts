/**
 * The report of a local run: built from the gates' results, failed when the run stopped early,
 * written into the run's directory, published as the latest report and recorded in the ledger.
 */
import { resolve } from 'node:path';
import type { GateResult, RunReport, SetupRecord } from '@gatehouse-ci/core';
import { EXECUTOR, nowIso, type RunContext } from './context.js';
import { appendLedger, buildReport, publishLatest, writeReport } from './results.js';

export interface RunEnd {
  /** The run's results, in the order the gates were selected. */
  gates: GateResult[];
  startedAt: string;
  setup?: SetupRecord | undefined;
  /** Why the run stopped before its gates could pass (interrupted, setup failed), or null. */
  problem: string | null;
  stateDir: string;
  gatehouseVersion?: string | undefined;
}

/** Build, write and publish the report of the run; returns it as written. */
export async function reportRun(ctx: RunContext, end: RunEnd): Promise<RunReport> {
  const { rootDir, runId, paths } = ctx;
  const report = await buildReport({
    pipeline: ctx.pipeline,
    gates: end.gates,
    executor: EXECUTOR,
    startedAt: end.startedAt,
    finishedAt: nowIso(),
    runId,
    rootDir,
    env: ctx.env,
    ...(end.gatehouseVersion ? { gatehouseVersion: end.gatehouseVersion } : {}),
    ...(end.setup ? { setup: end.setup } : {}),
  });
  // A run that stopped early never passes, even when no blocking gate got to fail.
  if (end.problem !== null) {
    report.verdict = {
      ...report.verdict,
      status: 'failed',
      reasons: [
        end.problem,
        ...report.verdict.reasons.filter(
          (r) => !r.startsWith('every blocking gate') && r !== 'no blocking gates',
        ),
      ],
    };
  }
  const written = await writeReport(report, paths.runDir);
  await publishLatest(
    paths.reportDir,
    [
      written.htmlPath,
      written.mdPath,
      written.junitPath,
      written.sarifPath,
      written.dssePath,
      written.vsaPath,
      written.jsonPath,
    ].filter((p): p is string => p !== null),
  );
  if (resolve(end.stateDir) === resolve(rootDir, '.gatehouse') && written.report.integrity) {
    await appendLedger(rootDir, { runId, reportDigest: written.report.integrity.digest });
  }
  return written.report;
}
