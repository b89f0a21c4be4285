import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { copyFile, mkdir, readFile, rename } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  GatehouseError,
  isGatehouseError,
  newRunId,
  runPaths,
  type ExecuteOptions,
  type GateExplanation,
  type GateResult,
  type RunReport,
} from '@gatehouse-ci/core';
import {
  buildReport,
  isReportWriteError,
  publishLatest,
  reportWriteError,
  writeFileAtomic,
  writeReport,
  type ReportWriteError,
} from '@gatehouse-ci/report';
import type { Command, CommandContext } from '../command.js';
import {
  CONFIG_OPTION,
  locateDiagnostics,
  openValidProject,
  printDiagnostics,
  shown,
} from '../project.js';
import { colorEnabled, painter } from '../color.js';
import { counts, isProblem, tailLines } from '../progress/format.js';
import { chooseRenderer } from '../progress/renderers.js';
import {
  annotationLine,
  annotationsOf,
  buildkiteSection,
  ciLogOf,
  githubFenced,
  githubGroup,
  readLogEnd,
  stopToken,
  type CiLog,
} from '../progress/ci-log.js';
import { CLI_VERSION } from '../version.js';
import { affectedOptions, affectedSelection, affectedSummary, DEFAULT_BASE } from '../affected.js';

/** Exit code of an interrupted run (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

function positiveInt(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < (name === 'wait' ? 0 : 1)) {
    throw new GatehouseError(
      'GH_USAGE',
      `--${name} must be a ${name === 'wait' ? 'non-negative' : 'positive'} integer, got \`${String(v)}\``,
    );
  }
  return n;
}

/** `explain lint: run — input src/a.js changed (…)` */
export function explanationLine(e: GateExplanation): string {
  return `${e.id}: ${e.action === 'cached' ? 'cached' : e.action === 'skip' ? 'skipped' : 'runs'} — ${e.reasons.join('; ')}`;
}

async function copyInto(dir: string, files: string[]): Promise<string[]> {
  await mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw reportWriteError(dir, err) ?? err;
  });
  const out: string[] = [];
  for (const f of files) {
    const dest = join(dir, basename(f));
    const tmp = `${dest}.${process.pid}.tmp`;
    try {
      await copyFile(f, tmp);
      await rename(tmp, dest);
    } catch (err) {
      throw reportWriteError(dest, err) ?? err;
    }
    out.push(dest);
  }
  return out;
}

/**
 * The report of a run whose `report.json` was written before a later step failed (publishing
 * the latest copy, the ledger), or null.
 */
async function writtenReport(runDir: string): Promise<RunReport | null> {
  try {
    return JSON.parse(await readFile(join(runDir, 'report.json'), 'utf8')) as RunReport;
  } catch {
    return null;
  }
}

const REPORT_FILES = [
  'report.json',
  'report.html',
  'report.md',
  'junit.xml',
  'report.sarif',
  'report.dsse.json',
];

async function runCommand(ctx: CommandContext): Promise<number> {
  try {
    return await runChecked(ctx);
  } catch (err) {
    if (isGatehouseError(err) && err.code === 'GH_USAGE') {
      ctx.io.stderr.write(`gatehouse run: ${err.message}\nUsage: gatehouse ${run.usage}\n`);
      return 2;
    }
    // Nothing ran: like a usage error, the machine cannot do what was asked.
    if (isGatehouseError(err) && err.code === 'GH_SANDBOX_UNAVAILABLE') {
      ctx.io.stderr.write(`gatehouse run: error ${err.code}: ${err.message}\n`);
      if (err.hint) ctx.io.stderr.write(`  hint: ${err.hint}\n`);
      return 2;
    }
    throw err;
  }
}

async function runChecked({ io, values }: CommandContext): Promise<number> {
  let gates = strings(values.gate);
  const only = strings(values.only);
  if (gates.length > 0 && only.length > 0)
    throw new GatehouseError('GH_USAGE', '--gate and --only cannot be combined');
  const affected = values.affected === true;
  if (affected && (gates.length > 0 || only.length > 0))
    throw new GatehouseError('GH_USAGE', '--affected cannot be combined with --gate or --only');
  if (typeof values.base === 'string' && !affected)
    throw new GatehouseError('GH_USAGE', '--base goes with --affected');
  const concurrency = positiveInt('concurrency', values.concurrency);
  const waitSeconds = positiveInt('wait', values.wait) ?? 0;
  const json = values.json === true;
  const sandbox = values.sandbox === true;
  const resultFile =
    typeof values['result-file'] === 'string' ? resolve(io.cwd, values['result-file']) : null;
  const named = only.length > 0 ? only : gates;
  if (resultFile && named.length !== 1) {
    throw new GatehouseError(
      'GH_USAGE',
      '--result-file needs exactly one gate (--gate ID or --only ID)',
    );
  }

  const project = await openValidProject(io, values.config, { cache: values['no-cache'] !== true });
  if (typeof project === 'number') return project;
  const pipeline = project.pipeline;
  if (affected) {
    const base = typeof values.base === 'string' ? values.base : DEFAULT_BASE;
    const s = await affectedSelection(pipeline, base, {
      ...(project.workspace ? { workspace: project.workspace } : {}),
    });
    if (s.gates.length === 0) {
      io.stdout.write(
        `nothing to run: no package is affected by the ${s.files.length} file${s.files.length === 1 ? '' : 's'} changed since ${base}\n`,
      );
      return 0;
    }
    gates = s.gates;
    if (!json) io.stdout.write(affectedSummary(s));
  }
  const executorName = typeof values.executor === 'string' ? values.executor : 'local';
  if (sandbox && executorName !== 'local')
    throw new GatehouseError(
      'GH_USAGE',
      `--sandbox runs gates locally under bubblewrap; it cannot be combined with --executor ${executorName}`,
    );
  const releaseTag = typeof values['release-tag'] === 'string' ? values['release-tag'] : null;
  if (releaseTag !== null && (executorName !== 'docker' || !pipeline.release))
    throw new GatehouseError(
      'GH_USAGE',
      executorName !== 'docker'
        ? '--release-tag builds the release image with the Docker executor: add --executor docker'
        : '--release-tag needs a `release:` section in the config',
    );
  const cacheTo = cacheDirOption(values, 'cache-to', io.cwd, pipeline.rootDir, executorName);
  const cacheFrom = cacheDirOption(values, 'cache-from', io.cwd, pipeline.rootDir, executorName);
  const executor = await project.registry.loadExecutor(executorName);
  const stateDir = join(pipeline.rootDir, '.gatehouse');
  const runId = newRunId();

  const renderer = chooseRenderer(io.stdout, { json, env: io.env });
  // On GitHub Actions, nothing printed while gates run (their names, reasons) can be a command.
  const ci = json ? null : ciLogOf(io.env);
  const runFence = ci === 'github' ? stopToken() : null;
  if (runFence) io.stdout.write(`::stop-commands::${runFence}\n`);
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      renderer.note(
        'interrupting: stopping every gate, then writing the report (Ctrl-C again to quit at once)',
      );
      controller.abort();
    } else process.exit(EXIT_INTERRUPTED);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let setupFailed = false;
  const options: ExecuteOptions = {
    gates,
    only,
    concurrency: concurrency ?? availableParallelism(),
    failFast: values['fail-fast'] === true,
    noCache: values['no-cache'] === true,
    env: io.env,
    signal: controller.signal,
    onEvent: (e) => {
      if (e.type === 'setup-end' && !e.ok) setupFailed = true;
      renderer.onEvent(e);
    },
    stateDir,
    runId,
    lockWaitMs: waitSeconds * 1000,
    gatehouseVersion: CLI_VERSION,
    emitOutput: json,
    ...(sandbox ? { sandbox: true } : {}),
    ...(releaseTag !== null ? { releaseTag } : {}),
    ...(cacheTo !== null ? { cacheTo } : {}),
    ...(cacheFrom !== null ? { cacheFrom } : {}),
    ...(values.explain === true
      ? {
          onExplain: (e: GateExplanation) =>
            json
              ? renderer.onEvent({
                  type: 'message',
                  at: new Date().toISOString(),
                  level: 'info',
                  text: `explain ${explanationLine(e)}`,
                })
              : renderer.note(`explain ${explanationLine(e)}`),
        }
      : {}),
  };

  let report: RunReport;
  // A report file that could not be written (a full disk): said last, after the summary.
  let writeError: ReportWriteError | null = null;
  const startedAt = new Date().toISOString();
  try {
    report = await executor.execute(pipeline, options);
  } catch (err) {
    const failed = await unwrittenReport(err, runPaths(stateDir, runId).runDir, stateDir);
    if (failed) {
      [report, writeError] = failed;
    } else {
      // An executor that refuses the pipeline (say, a value no Dockerfile can carry) names
      // config paths: say where they are written (a cached pipeline parses the config for it).
      if (!isGatehouseError(err) || err.diagnostics.length === 0) throw err;
      io.stderr.write(`gatehouse run: error ${err.code}: ${err.message}\n`);
      printDiagnostics(io.stderr, locateDiagnostics(project, err.diagnostics));
      return 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    renderer.close();
    if (runFence) io.stdout.write(`::${runFence}::\n`);
  }

  const paths = runPaths(stateDir, report.runId);
  if (writeError === null) {
    try {
      report = await writeOurs(report);
    } catch (err) {
      const failed = await unwrittenReport(err, paths.runDir, stateDir);
      if (!failed) throw err;
      [report, writeError] = failed;
    }
  }

  /** The report files, copies and result file the CLI writes itself; the report as written. */
  async function writeOurs(report: RunReport): Promise<RunReport> {
    // An executor that does not write the report leaves it to us.
    if (!executor.writesReport) {
      const built = report.integrity
        ? report
        : await buildReport({
            pipeline,
            gates: report.gates,
            executor: report.executor,
            startedAt,
            finishedAt: new Date().toISOString(),
            runId: report.runId,
            rootDir: pipeline.rootDir,
            gatehouseVersion: CLI_VERSION,
            env: io.env,
          });
      const w = await writeReport(built, paths.runDir);
      report = w.report;
      await publishLatest(paths.reportDir, [
        w.jsonPath,
        w.htmlPath,
        w.mdPath,
        w.junitPath,
        ...(w.sarifPath ? [w.sarifPath] : []),
      ]);
    }
    if (typeof values['report-dir'] === 'string') {
      const files = REPORT_FILES.map((f) => join(paths.runDir, f)).filter((f) => existsSync(f));
      await copyInto(resolve(io.cwd, values['report-dir']), files);
    }
    if (resultFile) {
      const result = report.gates.find((g) => g.id === named[0]);
      if (!result)
        throw new GatehouseError(
          'GH_NO_RESULT',
          `gate ${named[0]} has no result in run ${report.runId}`,
        );
      try {
        await mkdir(dirname(resultFile), { recursive: true });
        // The result names its commit: `report merge` refuses one of another commit.
        const own = { ...result, git: { commit: report.git.commit, dirty: report.git.dirty } };
        await writeFileAtomic(resultFile, `${JSON.stringify(own, null, 2)}\n`);
      } catch (err) {
        throw reportWriteError(resultFile, err) ?? err;
      }
    }
    return report;
  }

  const interrupted = controller.signal.aborted;
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ type: 'summary', runId: report.runId, verdict: report.verdict.status, interrupted, reportDir: paths.runDir })}\n`,
    );
  } else {
    const setupLog = setupFailed ? paths.setupLog : null;
    const logs = logsOf(report.gates, setupLog, pipeline.rootDir);
    if (ci !== null) io.stdout.write(await ciSections(ci, logs, report, pipeline.rootDir, io.env));
    const lines: string[] = [];
    if (ci !== 'buildkite') lines.push(...(await failureTails(logs, io)));
    const paint = painter(colorEnabled(io.stdout, io.env));
    const verdict =
      report.verdict.status === 'passed' && !interrupted
        ? paint('green', '✔ PASSED')
        : interrupted
          ? paint('yellow', '■ INTERRUPTED')
          : paint('red', '✖ FAILED');
    lines.push('', `${verdict} — ${counts(report)}`);
    for (const r of report.verdict.reasons) lines.push(`  ${r}`);
    if (writeError !== null && !existsSync(join(paths.runDir, 'report.json'))) {
      lines.push(`report: not written (${writeError.errno})`);
    } else {
      lines.push(`report: ${shown(io, join(paths.runDir, 'report.html'))}`);
      lines.push(
        writeError === null
          ? `        ${shown(io, join(paths.reportDir, 'report.json'))} (latest)`
          : `        (the latest copy in ${shown(io, paths.reportDir)} may not be updated: ${writeError.errno})`,
      );
    }
    if (resultFile && writeError === null) lines.push(`result: ${shown(io, resultFile)}`);
    // A verdict reason quotes a gate's reason: on GitHub it is printed with commands stopped.
    io.stdout.write(`${(ci === 'github' ? githubFenced(lines) : lines).join('\n')}\n`);
  }
  if (writeError !== null) {
    io.stderr.write(
      `gatehouse run: error ${writeError.code}: cannot write ${shown(io, writeError.path)}: ${writeError.reason}\n`,
    );
    if (writeError.hint) io.stderr.write(`  hint: ${writeError.hint}\n`);
    return interrupted ? EXIT_INTERRUPTED : 1;
  }
  if (interrupted) return EXIT_INTERRUPTED;
  return report.verdict.status === 'passed' ? 0 : 1;
}

/**
 * For a run whose results exist but whose report could not be fully written (a full disk):
 * the report to summarise (the one being written, else the one already on disk in `runDir`)
 * and the error as a `GH_REPORT_WRITE` naming the file (or `stateDir` when the error names
 * none). Null for any other error.
 */
async function unwrittenReport(
  err: unknown,
  runDir: string,
  stateDir: string,
): Promise<[RunReport, ReportWriteError] | null> {
  if (isReportWriteError(err) && err.report) return [err.report, err];
  // A later step (publishing the latest copy, the ledger) failed after report.json was written.
  // A failed copy names its source as `path` and what it was writing as `dest`.
  const e = err as (NodeJS.ErrnoException & { dest?: unknown }) | undefined;
  const path = typeof e?.dest === 'string' ? e.dest : e?.path;
  // A write on an open descriptor (the ledger's append) names no file: the state directory then.
  const writeError = reportWriteError(typeof path === 'string' ? path : stateDir, err);
  if (writeError === null) return null;
  const report = writeError.report ?? (await writtenReport(runDir));
  return report ? [report, writeError] : null;
}

/** A log worth showing after the run: setup's when it failed, and each gate's. */
interface ShownLog {
  title: string;
  path: string;
  /** Setup that failed, or a gate that did not pass: its tail is printed, its section opened. */
  problem: boolean;
}

/** Setup's log when it failed (why every gate was skipped), then each gate's, in report order. */
function logsOf(results: GateResult[], setupLog: string | null, rootDir: string): ShownLog[] {
  const out: ShownLog[] = [];
  if (setupLog !== null && existsSync(setupLog))
    out.push({ title: 'setup failed', path: setupLog, problem: true });
  for (const r of results) {
    if (!r.log.path) continue;
    out.push({
      title: `${r.id} ${r.status === 'cached' ? `cached ${r.cached?.status}` : r.status}${r.reason && r.status !== 'passed' ? `: ${r.reason}` : ''}`,
      // The report names logs relative to the project.
      path: resolve(rootDir, r.log.path),
      problem: isProblem(r),
    });
  }
  return out;
}

/** The last 30 lines of each problem's log, and where the whole log is. */
async function failureTails(logs: ShownLog[], io: CommandContext['io']): Promise<string[]> {
  const out: string[] = [];
  for (const log of logs.filter((l) => l.problem)) {
    const lines = await tailLines(log.path, 30).catch(() => null);
    out.push('', `── ${log.title}`);
    if (lines) for (const l of lines) out.push(`   ${l}`);
    out.push(`   full log: ${shown(io, log.path)}`);
  }
  return out;
}

/**
 * Each log in the CI's own sections, read to its last 512 KiB: on GitHub a collapsed group per
 * log (its text with commands stopped), then the run's annotations; on Buildkite a section per
 * log, opened for a problem, then an opened section for the summary that follows.
 */
async function ciSections(
  ci: Exclude<CiLog, null>,
  logs: ShownLog[],
  report: RunReport,
  rootDir: string,
  env: Record<string, string | undefined>,
): Promise<string> {
  const out: string[] = [];
  for (const log of logs) {
    const read = await readLogEnd(log.path);
    const body = read
      ? [...(read.cut ? ['[earlier lines not shown]'] : []), ...read.lines]
      : ['(log not readable)'];
    if (ci === 'github') out.push(...githubGroup(log.title, body));
    else out.push(...buildkiteSection(log.title, log.problem, body));
  }
  if (ci === 'github')
    out.push(
      ...annotationsOf(report.gates, { rootDir, workspace: env.GITHUB_WORKSPACE }).map(
        annotationLine,
      ),
    );
  else out.push(`+++ gatehouse: ${report.verdict.status}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * `--cache-to`/`--cache-from DIR`, resolved: only with the Docker executor, never in `.git/`, and
 * inside the project only under `.gatehouse/` (anything else there is part of setup's `COPY .`:
 * a tarball in it would change setup's cache key on every export).
 */
function cacheDirOption(
  values: Record<string, unknown>,
  name: 'cache-to' | 'cache-from',
  cwd: string,
  rootDir: string,
  executorName: string,
): string | null {
  const raw = values[name];
  if (typeof raw !== 'string') return null;
  if (executorName !== 'docker')
    throw new GatehouseError(
      'GH_USAGE',
      `--${name} shares BuildKit's cache of the Docker executor: add --executor docker`,
    );
  if (raw.length === 0) throw new GatehouseError('GH_USAGE', `--${name} needs a directory`);
  const dir = resolve(cwd, raw);
  if (dir.split(sep).includes('.git'))
    throw new GatehouseError('GH_USAGE', `--${name} ${raw}: not inside a .git directory`);
  const rel = relative(rootDir, dir);
  const inside = rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  if (inside && rel.split(sep)[0] !== '.gatehouse')
    throw new GatehouseError(
      'GH_USAGE',
      `--${name} ${raw} is inside the project, where setup would copy it into the build: use a directory outside the project or under .gatehouse/`,
    );
  return dir;
}

export const run: Command = {
  name: 'run',
  summary: 'Run the gates (locally by default), cached and in parallel, and write the report',
  usage:
    'run [--config FILE] [--gate ID ...] [--only ID ...] [--affected [--base REF]] [--concurrency N] [--fail-fast] [--no-cache] [--executor local|docker] [--json] [--explain] [--sandbox] [--release-tag TAG] [--cache-to DIR] [--cache-from DIR] [--result-file PATH] [--report-dir DIR] [--wait SECONDS]',
  details: [
    'Runs setup once, then every gate as soon as the gates it needs are done.',
    'Exit code: 0 when the verdict is passed, 1 when failed (or a report file could not be written), 130 when interrupted.',
    'State lives in .gatehouse/ next to the config: runs/<id>/ (logs, evidence, report), cache/, report/ (latest).',
    'An unchanged config is not parsed again: its resolved pipeline is kept in .gatehouse/cache/config/ (--no-cache ignores it).',
    "With --executor docker, --cache-to DIR saves BuildKit's cache of setup and each gate stage (images with inline cache metadata, one tarball and its index) after the run, and --cache-from DIR loads such a cache before it, so another machine (a CI agent) answers unchanged stages from it. A missing or damaged cache, or a failed export, is a warning and never changes the exit code. Import only caches you trust: a matching cache key makes BuildKit skip a RUN (docs/docker-executor.md).",
    "--sandbox runs each gate under bubblewrap seeing only its inputs, its needs' outputs and setup's products (node_modules); a gate that passes only outside it is an error naming the files it reads without declaring them (docs/running.md). Exit code 2 when bwrap is missing or cannot make a sandbox.",
    '',
    'Examples:',
    '  gatehouse run',
    '  gatehouse run --gate unit --explain',
    '  gatehouse run --sandbox',
    '  gatehouse run --affected --base origin/main',
    '  gatehouse run --only lint --result-file gatehouse-results/lint.json',
    '  gatehouse run --executor docker --cache-from /tmp/gh-cache --cache-to /tmp/gh-cache',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
    gate: {
      type: 'string',
      short: 'g',
      multiple: true,
      description: 'Run this gate and what it needs',
      valueName: 'ID',
    },
    only: {
      type: 'string',
      multiple: true,
      description: 'Run exactly this gate: no setup, no needs (CI jobs)',
      valueName: 'ID',
    },
    ...affectedOptions('Run'),
    concurrency: {
      type: 'string',
      short: 'j',
      description: 'Gates at once (default: number of CPUs)',
      valueName: 'N',
    },
    'fail-fast': { type: 'boolean', description: 'Stop everything at the first blocking failure' },
    'no-cache': {
      type: 'boolean',
      description: 'Run every gate and setup even when unchanged, and parse the config anew',
    },
    executor: {
      type: 'string',
      short: 'e',
      description: 'Where gates run: local (default) or docker',
      valueName: 'NAME',
    },
    json: { type: 'boolean', description: 'One JSON event per line on stdout' },
    explain: {
      type: 'boolean',
      description: 'Say for each gate why it ran or came from the cache',
    },
    sandbox: {
      type: 'boolean',
      description:
        "Prove inputs complete: run each gate in a bubblewrap sandbox that shows only its inputs, its needs' outputs and node_modules, and name the files a gate reads without declaring them",
    },
    'release-tag': {
      type: 'string',
      description:
        "With --executor docker: when the verdict passed, also build the config's release image as TAG and write its SLSA provenance (release.provenance.json; `gatehouse report sign` signs it)",
      valueName: 'TAG',
    },
    'cache-to': {
      type: 'string',
      description:
        "With --executor docker: after the run, save BuildKit's cache of setup and the gate stages into DIR (gatehouse-cache.tar and gatehouse-cache.json)",
      valueName: 'DIR',
    },
    'cache-from': {
      type: 'string',
      description:
        'With --executor docker: load a cache that --cache-to saved in DIR and let BuildKit answer unchanged stages from it (only caches you trust)',
      valueName: 'DIR',
    },
    'result-file': {
      type: 'string',
      description: "Write the selected gate's result JSON here",
      valueName: 'PATH',
    },
    'report-dir': {
      type: 'string',
      description: 'Also copy the report files into DIR',
      valueName: 'DIR',
    },
    wait: {
      type: 'string',
      description: 'Wait up to this long for another run to finish (default 0)',
      valueName: 'SECONDS',
    },
  },
  run: runCommand,
};
