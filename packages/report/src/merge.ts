import { GatehouseError } from '@gatehouse-ci/core';
import type {
  GateResult,
  GitInfo,
  ResolvedPipeline,
  RunContext,
  RunReport,
} from '@gatehouse-ci/core';
import {
  computeVerdict,
  newRunId,
  orderGates,
  presetRecords,
  projectRelativeLog,
  REPORT_PACKAGE_VERSION,
} from './build.js';
import { judgeShard } from './shard.js';

/** Options of {@link mergeReports}. */
export interface MergeOptions {
  /** Where each part came from (same index as `parts`), named in errors. */
  sources?: string[];
  /** @default a new run id */
  runId?: string;
  /** @default the executors of the parts, joined by `+` */
  executor?: string;
  /** @default the first report part's, else this package's version */
  gatehouseVersion?: string;
  /**
   * The checkout being merged in. When it names a commit, every part must be of that commit:
   * a result file must say so (`git.commit`), a report part's `git.commit` must be it; any
   * other is rejected (an `error` that fails the verdict).
   * @default the first report part's, else unknown, and nothing is checked
   */
  git?: GitInfo;
  /**
   * Accept results of another commit than `git`'s (a task cache such as turbo's replays the
   * result file of the run that stored it). Each keeps its own `git`, and a result without a
   * reason of its own says which commit it was run at.
   */
  anyCommit?: boolean;
  /**
   * Indexes of the parts judged from a Docker export (`judgeExportedGate`). An export names no
   * commit, so these are not checked against `git`: they are the build outputs the merging
   * job was handed.
   */
  exported?: ReadonlySet<number>;
  /** @default the first report part's, else none */
  context?: RunContext;
  /** Where `policy.baseline` files are read from. @default the pipeline's rootDir */
  rootDir?: string;
}

function isReport(p: RunReport | GateResult): p is RunReport {
  return Array.isArray((p as RunReport).gates) && typeof (p as RunReport).runId === 'string';
}

/**
 * Combine per-gate results (from CI jobs) and/or whole reports into one report for
 * `pipeline`, the config as loaded by whoever merges. A gate reported twice is an error
 * naming both sources; a pipeline gate no part reported becomes `skipped` with reason "no
 * result reported" (which fails the verdict when the gate is blocking). Start/end span the
 * parts.
 *
 * Every result is evidence, judged against the config by `judgeShard`: mode, kind and
 * thresholds are the config's, and a result that contradicts the config or itself (an
 * unknown gate, another command's hash, a status its exit code and evidence do not give) is
 * an `error` that fails the verdict, whatever the gate's mode.
 */
export async function mergeReports(
  parts: Array<RunReport | GateResult>,
  pipeline: ResolvedPipeline,
  opts: MergeOptions = {},
): Promise<RunReport> {
  const src = (i: number): string => opts.sources?.[i] ?? `part #${i + 1}`;
  const seen = new Map<string, string>();
  const results: GateResult[] = [];
  const unchecked = new Set<GateResult>();
  const reports: RunReport[] = [];
  parts.forEach((p, i) => {
    // A report's gates ran at the report's commit.
    const list = isReport(p)
      ? p.gates.map((g) =>
          g && typeof g === 'object' && !g.git
            ? { ...g, git: { commit: p.git?.commit ?? null, dirty: p.git?.dirty ?? null } }
            : g,
        )
      : [p];
    if (isReport(p)) reports.push(p);
    for (const g of list) {
      if (!g || typeof g.id !== 'string')
        throw new GatehouseError(
          'GH_REPORT_MERGE_INVALID',
          `${src(i)} is neither a gate result nor a report`,
        );
      const prev = seen.get(g.id);
      if (prev !== undefined) {
        throw new GatehouseError(
          'GH_REPORT_MERGE_DUPLICATE',
          `gate ${g.id} is reported twice: in ${prev} and in ${src(i)}`,
          {
            hint: 'each gate must come from exactly one result file; remove the stale one',
          },
        );
      }
      seen.set(g.id, src(i));
      results.push(g);
      if (opts.exported?.has(i)) unchecked.add(g);
    }
  });
  const judged: GateResult[] = [];
  const rejected = new Set<string>();
  for (const r of results) {
    // The commit this result must be of, when it can be checked (a Docker export names none).
    const merging = opts.git?.commit && !unchecked.has(r) ? opts.git.commit : null;
    const j = await judgeShard(pipeline, r, {
      ...(opts.rootDir ? { rootDir: opts.rootDir } : {}),
      ...(merging && !opts.anyCommit ? { commit: merging } : {}),
    });
    const at = r.git?.commit;
    if (merging && opts.anyCommit && at !== merging)
      j.result.reason ??= at
        ? `run at commit ${at.slice(0, 12)}, not at ${merging.slice(0, 12)} (accepted with --any-commit)`
        : `names no commit (accepted with --any-commit)`;
    judged.push(j.result);
    if (j.rejected !== null) rejected.add(r.id);
  }
  const executors = [...new Set(results.map((g) => g.executor))].sort();
  const executor = opts.executor ?? (executors.length ? executors.join('+') : 'none');
  // Shards name logs on the machines of their jobs: only a path inside this project stays whole.
  const gates = orderGates(pipeline, judged, executor, true).map((g) =>
    projectRelativeLog(g, opts.rootDir ?? pipeline.rootDir),
  );
  const times = results.filter((g) => g.status !== 'skipped' && g.status !== 'cached');
  const now = new Date().toISOString();
  const startedAt =
    [...times.map((g) => g.startedAt), ...reports.map((r) => r.startedAt)].sort()[0] ?? now;
  const finishedAt =
    [...times.map((g) => g.finishedAt), ...reports.map((r) => r.finishedAt)].sort().at(-1) ?? now;
  const first = reports[0];
  return {
    schemaVersion: 1,
    runId: opts.runId ?? newRunId(),
    gatehouseVersion: opts.gatehouseVersion ?? first?.gatehouseVersion ?? REPORT_PACKAGE_VERSION,
    pipeline: pipeline.name,
    configSha256: pipeline.configSha256,
    git: opts.git ?? first?.git ?? { commit: null, branch: null, dirty: null },
    context: opts.context ?? first?.context ?? { ci: null, user: null, host: null },
    startedAt,
    finishedAt,
    executor,
    verdict: computeVerdict(gates, pipeline, { rejected }),
    gates,
    ...presetRecords(pipeline),
  };
}
