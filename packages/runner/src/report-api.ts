// Temporary stand-in until @gatehouse/report exports its API; swap to a re-export then.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256, type GateResult, type ResolvedGate, type ResolvedPipeline, type RunReport } from '@gatehouse/core';

export interface GateOutcome {
  id: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  interrupted: boolean;
  spawnError: string | null;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  outDir: string;
  log: { path: string | null; sha256: string; bytes: number; truncated: boolean };
  executor: string;
  image?: { ref: string; digest: string | null } | null;
}

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export async function evaluateGate(gate: ResolvedGate, o: GateOutcome, _opts?: { rootDir: string }): Promise<GateResult> {
  let status: GateResult['status'] = 'passed';
  let reason: string | null = null;
  if (o.interrupted) [status, reason] = ['interrupted', 'interrupted before it finished'];
  else if (o.timedOut) [status, reason] = ['timeout', `timed out after ${gate.timeoutMs}ms`];
  else if (o.spawnError) [status, reason] = ['error', `could not start: ${o.spawnError}`];
  else if (o.exitCode === null) [status, reason] = ['failed', `killed by ${o.signal}`];
  else if (o.exitCode !== 0) [status, reason] = ['failed', `exited with code ${o.exitCode}`];
  return {
    id: gate.id,
    kind: gate.kind,
    mode: gate.mode,
    status,
    reason,
    exitCode: o.exitCode,
    commandSha256: sha256(gate.run),
    image: o.image ?? null,
    startedAt: o.startedAt,
    finishedAt: o.finishedAt,
    durationMs: o.durationMs,
    executor: o.executor,
    cached: null,
    log: o.log,
    evidence: { files: [], findings: [], findingsTotal: 0 },
    thresholds: [],
  };
}

export function skippedResult(gate: ResolvedGate, reason: string, executor: string): GateResult {
  const now = new Date().toISOString();
  return {
    id: gate.id,
    kind: gate.kind,
    mode: gate.mode,
    status: 'skipped',
    reason,
    exitCode: null,
    commandSha256: sha256(gate.run),
    image: null,
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
    executor,
    cached: null,
    log: { path: null, sha256: EMPTY, bytes: 0, truncated: false },
    evidence: { files: [], findings: [], findingsTotal: 0 },
    thresholds: [],
  };
}

export function cachedResult(previous: GateResult, key: string, runId: string | null): GateResult {
  return { ...previous, status: 'cached', cached: { status: previous.status, key, runId } };
}

export async function buildReport(a: {
  pipeline: ResolvedPipeline;
  gates: GateResult[];
  executor: string;
  startedAt: string;
  finishedAt: string;
  runId?: string;
  rootDir: string;
}): Promise<RunReport> {
  const bad = a.gates.filter(
    (g) => g.mode === 'blocking' && !(g.status === 'passed' || (g.status === 'cached' && g.cached?.status === 'passed')),
  );
  return {
    schemaVersion: 1,
    runId: a.runId ?? 'local',
    gatehouseVersion: '0.0.0',
    pipeline: a.pipeline.name,
    configSha256: a.pipeline.configSha256,
    git: { commit: null, branch: null, dirty: null },
    context: { ci: null, user: null, host: null },
    startedAt: a.startedAt,
    finishedAt: a.finishedAt,
    executor: a.executor,
    verdict: {
      status: bad.length ? 'failed' : 'passed',
      reasons: bad.map((g) => `blocking gate ${g.id} ${g.status}`),
      policy: 'all-blocking-gates-pass',
    },
    gates: a.gates,
  };
}

export async function writeReport(report: RunReport, dir: string): Promise<{ jsonPath: string }> {
  await mkdir(dir, { recursive: true });
  const jsonPath = join(dir, 'report.json');
  await writeFile(`${jsonPath}.tmp`, JSON.stringify(report, null, 2));
  await rename(`${jsonPath}.tmp`, jsonPath);
  return { jsonPath };
}
