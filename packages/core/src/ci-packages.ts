/**
 * CI for monorepos (docs/decisions/0009-monorepo-ci.md): with gates of workspace packages, a CI
 * target emits one job per affected package instead of one job per declared gate. A job runs
 * every gate of its package in one `gatehouse run --only …` after one setup, and first rebuilds
 * what those gates need from other packages (the `build` of workspace dependencies,
 * transitively). The set of jobs is chosen in CI by `gatehouse affected`.
 */
import { topologicalLayers, withNeeds } from './dag.js';
import type { ResolvedPipeline } from './model.js';

/** One CI job of a monorepo pipeline: the gates of one package, or one gate not of a package. */
export interface CiPackageJob {
  /** Job key, a valid gate id: the package's slug, or the id of a gate not of a package. */
  key: string;
  /** The npm package name, or the gate id. */
  label: string;
  /** Gates the job runs and reports, in an order that respects `needs`. */
  gates: string[];
  /**
   * Gates of other jobs its gates need, directly or not, in an order that respects `needs`:
   * the job runs them first, without reporting them (their own job reports them).
   */
  deps: string[];
}

/** Whether the pipeline has gates of workspace packages (and CI targets emit per-package jobs). */
export function ciHasPackageGates(pipeline: Pick<ResolvedPipeline, 'gates'>): boolean {
  return pipeline.gates.some((g) => g.package !== undefined);
}

/** Slug of a package gate's package: its id without the `-<gate>` suffix. */
function packageKey(id: string, gate: string): string {
  return id.slice(0, id.length - gate.length - 1);
}

/**
 * The jobs of a monorepo pipeline, in the order of the first gate of each in the pipeline: one
 * per package (its gates), one per gate not of a package. `selected`, when given, keeps only
 * the jobs holding one of those gates (`gatehouse affected` selects whole packages).
 */
export function ciPackageJobs(
  pipeline: Pick<ResolvedPipeline, 'gates'>,
  selected?: readonly string[],
): CiPackageJob[] {
  const order = topologicalLayers(pipeline.gates).flat();
  const rank = new Map(order.map((id, i) => [id, i]));
  const byRank = (a: string, b: string): number => rank.get(a)! - rank.get(b)!;
  const jobs = new Map<string, CiPackageJob>();
  for (const g of pipeline.gates) {
    const key = g.package ? packageKey(g.id, g.package.gate) : g.id;
    const label = g.package ? g.package.name : g.id;
    const job = jobs.get(key) ?? { key, label, gates: [], deps: [] };
    job.gates.push(g.id);
    jobs.set(key, job);
  }
  const keep = selected ? new Set(selected) : null;
  const out: CiPackageJob[] = [];
  for (const job of jobs.values()) {
    if (keep && !job.gates.some((id) => keep.has(id))) continue;
    const own = new Set(job.gates);
    const deps = [...withNeeds(pipeline.gates, job.gates)].filter((id) => !own.has(id));
    out.push({ ...job, gates: [...job.gates].sort(byRank), deps: deps.sort(byRank) });
  }
  return out;
}

/**
 * The `gatehouse affected` call of a CI plan, comparing with the commit in `$BASE`: every job
 * when there is none (a first push, a manual run, a force push), and only committed changes
 * (files the CI job made itself are no change). `output` is the flag of the target's format.
 */
export function ciAffectedCommand(cli: string, output: string): string {
  return `${cli} affected --base "$BASE" --all-if-no-base --committed ${output}`;
}

/** Directory (under the results directory) where a package job's run report goes. */
export function ciPackageReportDir(resultsDir: string, key: string): string {
  return `${resultsDir}/${key}`;
}

/**
 * The shell lines of a package job, after checkout and setup: rebuild `deps` (not reported),
 * then run the job's gates with one report in `reportDir`. `gates`/`deps` are words of gate ids
 * (literal, or a variable such as `$GATES` expanded unquoted on purpose: ids hold no blanks or
 * shell syntax).
 */
export function ciPackageJobScript(
  cli: string,
  gates: string,
  deps: string,
  reportDir: string,
): string[] {
  return [
    'set -e',
    ...(deps.trim() === ''
      ? []
      : [
          `set --; for g in ${deps}; do set -- "$@" --gate "$g"; done`,
          `if [ "$#" -gt 0 ]; then ${cli} run "$@"; fi`,
        ]),
    `set --; for g in ${gates}; do set -- "$@" --only "$g"; done`,
    `${cli} run "$@" --report-dir ${reportDir}`,
  ];
}
