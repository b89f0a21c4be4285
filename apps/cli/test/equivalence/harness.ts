/**
 * The verdict-equivalence harness: one project tree, judged by every way Gatehouse runs its
 * gates and by the project's own scripts, with the verdicts compared cell by cell.
 *
 * A fixture is copied to a temp dir, made a git repository (as a user's checkout is),
 * given the config `gatehouse init` writes (or its own), and then, fault by fault: the
 * fault is planted, every executor judges the tree, the fault is taken out again.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadPipeline, topologicalLayers, type RunReport } from '@gatehouse-ci/core';
import { matchFiles } from '@gatehouse-ci/runner';
import { edit, gatehouse, show } from '../e2e/helpers.js';

/** The BuildKit-speaking client (the 20.10 CLI needs no buildx plugin). */
const DOCKER = process.env.GATEHOUSE_DOCKER_CLI ?? '/usr/bin/docker';

/** A verdict, or why a column does not apply to a fault. */
export type Cell = 'passed' | 'failed' | 'n/a' | `error: ${string}`;

/** The ways the same tree is judged, in the order the matrix shows them. */
export const EXECUTORS = [
  'own scripts',
  'run (cold)',
  'run (warm, after the edit)',
  'run --sandbox',
  'run --executor docker',
  'docker build .',
  'CI: run --only + merge',
] as const;
export type Executor = (typeof EXECUTORS)[number];

export interface Fault {
  id: string;
  /** What the fault is, for the matrix. */
  what: string;
  /** Plants the fault; returns what takes it out. */
  plant(dir: string): Promise<() => Promise<void>>;
  /** The verdict every applicable column must give. */
  expect: 'passed' | 'failed';
  /** The fault is in gatehouse.yml, which the project's own scripts do not read. */
  configOnly?: boolean;
  /** Gates that must not come from a cache in the warm run (the edit touches what they read). */
  rerun?: string[];
  /**
   * Gates the fault must make fail: every column that writes a report must show each of them
   * `failed` (a red from another gate is not this fault's verdict).
   */
  fails?: string[];
}

export interface Fixture {
  name: string;
  /** The project's own checks: each a shell command run at the project root. */
  own: OwnCheck[];
  /** The gate image for the Docker columns. */
  image(): Promise<string>;
  faults: Fault[];
}

export type OwnCheck =
  | { script: string }
  /** A check that needs a server: `serve` runs in the background until `url` answers. */
  | { script: string; serve: string; url: string };

/** Replaces text in a file, failing loudly when it is not there; returns the undo. */
export const replaceIn = edit;

/** What leaves a copy of a fixture behind: installs, builds and state of earlier runs. */
const LOCAL_ONLY = new Set(['node_modules', 'dist', 'coverage', '.gatehouse', '.turbo']);

/** Copies `source` into a fresh temp dir and commits it as a new git repository. */
export async function checkout(source: string, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await cp(source, dir, {
    recursive: true,
    filter: (src) =>
      !relative(source, src)
        .split('/')
        .some((part) => LOCAL_ONLY.has(part)),
  });
  commit(dir, 'checkout');
  return dir;
}

/** Commits everything in the work tree (a user commits their config with the project). */
export function commit(dir: string, message: string): void {
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  const isRepo = spawnSync('git', ['rev-parse', '--git-dir'], { cwd: dir }).status === 0;
  if (!isRepo) git('init', '-q', '-b', 'main');
  git('add', '-A');
  git(
    '-c',
    'user.email=fixture@example.test',
    '-c',
    'user.name=fixture',
    'commit',
    '-q',
    '--allow-empty',
    '-m',
    message,
  );
}

interface Shell {
  status: number | null;
  out: string;
}

function sh(dir: string, script: string, timeoutMs = 600_000): Shell {
  const r = spawnSync('sh', ['-c', script], {
    cwd: dir,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, CI: 'true', FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function waitForUrl(url: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** Runs the project's own checks; passed when every one exits 0. */
async function ownScripts(dir: string, checks: OwnCheck[]): Promise<{ cell: Cell; log: string }> {
  let log = '';
  for (const check of checks) {
    if (!('serve' in check)) {
      const r = sh(dir, check.script);
      log += `$ ${check.script} → ${r.status}\n${r.out}\n`;
      if (r.status !== 0) return { cell: 'failed', log };
      continue;
    }
    const server = spawn('sh', ['-c', check.serve], { cwd: dir, detached: true, stdio: 'ignore' });
    try {
      if (!(await waitForUrl(check.url, 30_000)))
        return { cell: `error: ${check.serve} did not answer at ${check.url}`, log };
      const r = await new Promise<Shell>((resolve) => {
        const child = spawn('sh', ['-c', check.script], { cwd: dir });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (status) => resolve({ status, out }));
      });
      log += `$ ${check.script} (with ${check.serve}) → ${r.status}\n${r.out}\n`;
      if (r.status !== 0) return { cell: 'failed', log };
    } finally {
      try {
        process.kill(-server.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
  return { cell: 'passed', log };
}

/** The verdict a report states, when the CLI's exit code agrees with it. */
function reportCell(exit: number | null, report: RunReport | null): Cell {
  if (!report) return `error: no report (exit ${exit})`;
  const v = report.verdict.status;
  const expectedExit = v === 'passed' ? 0 : 1;
  if (exit !== expectedExit) return `error: verdict ${v} but exit ${exit}`;
  return v === 'passed' ? 'passed' : 'failed';
}

async function reportAt(path: string): Promise<RunReport | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RunReport;
  } catch {
    return null;
  }
}

/**
 * The gates of the copy's config as Gatehouse resolves them (gates of `packages:` expanded to
 * one gate per package), in an order where needs come first.
 */
async function gateOrder(dir: string): Promise<string[]> {
  const { gates } = await loadPipeline(join(dir, 'gatehouse.yml'));
  return topologicalLayers(gates.map((g) => ({ id: g.id, needs: g.needs }))).flat();
}

/**
 * The files the gates' `outputs` match now: a CI job gets them only from the jobs it needs,
 * so they are removed before the CI column.
 */
async function gateOutputFiles(dir: string): Promise<string[]> {
  const { gates } = await loadPipeline(join(dir, 'gatehouse.yml'));
  const patterns = gates.flatMap((g) => g.outputs);
  return patterns.length === 0 ? [] : matchFiles(dir, patterns);
}

export interface Judged {
  cell: Cell;
  /** Why, for a failure message. */
  log: string;
  /** The report, for columns that write one. */
  report?: RunReport | null;
  ms: number;
}

/**
 * `passed` when the verdict stage's judge came from BuildKit's cache: a tree judged before (an
 * earlier run of the suite on this machine) prints no verdict, and BuildKit caches only steps
 * that succeeded, which the judge does only for a passing verdict.
 */
function cachedVerdict(out: string): 'passed' | undefined {
  const step = /^#(\d+) \[gatehouse-verdict [^\]]*\] RUN /m.exec(out)?.[1];
  return step && new RegExp(`^#${step} CACHED$`, 'm').test(out) ? 'passed' : undefined;
}

/** Judges the tree in `dir` with one executor. */
export async function judge(
  executor: Executor,
  dir: string,
  fixture: Fixture,
  fault: Fault,
): Promise<Judged> {
  const t0 = Date.now();
  const done = (cell: Cell, log: string, report?: RunReport | null): Judged => ({
    cell,
    log,
    report,
    ms: Date.now() - t0,
  });
  const cli = (args: string[]) => gatehouse(args, { cwd: dir, timeoutMs: 1_500_000 });
  switch (executor) {
    case 'own scripts': {
      if (fault.configOnly) return done('n/a', 'the fault is in gatehouse.yml');
      const { cell, log } = await ownScripts(dir, fixture.own);
      return done(cell, log);
    }
    case 'run (cold)':
    case 'run (warm, after the edit)':
    case 'run --sandbox': {
      const args =
        executor === 'run (cold)'
          ? ['run', '--no-cache']
          : executor === 'run --sandbox'
            ? ['run', '--sandbox', '--no-cache']
            : ['run'];
      const r = cli(args);
      const report = await reportAt(join(dir, '.gatehouse/report/report.json'));
      return done(reportCell(r.status, report), show(r), report);
    }
    case 'run --executor docker': {
      const r = cli(['run', '--executor', 'docker']);
      const report = await reportAt(join(dir, '.gatehouse/report/report.json'));
      return done(reportCell(r.status, report), show(r), report);
    }
    case 'docker build .': {
      // A user recompiles after editing the config (`gatehouse check` in CI insists).
      const c = cli(['compile', '--target', 'dockerfile']);
      if (c.status !== 0) return done(`error: compile exit ${c.status}`, show(c));
      const ca = process.env.NODE_EXTRA_CA_CERTS ?? process.env.SSL_CERT_FILE;
      const secret = ca ? ` --secret id=gatehouse_ca,src=${ca}` : '';
      const r = sh(dir, `DOCKER_BUILDKIT=1 ${DOCKER} build --progress=plain${secret} .`, 1_500_000);
      // The exit code counts only when the verdict stage says the same: a build that broke
      // for another reason (no network, a bad image) is an error, not a verdict.
      const said = /gatehouse: verdict (passed|failed)/.exec(r.out)?.[1] ?? cachedVerdict(r.out);
      if (said === 'passed' && r.status === 0) return done('passed', r.out);
      if (said === 'failed' && r.status !== 0) return done('failed', r.out);
      return done(
        `error: docker build exit ${r.status}, verdict stage said ${said ?? 'nothing'}`,
        r.out,
      );
    }
    case 'CI: run --only + merge': {
      // One job per gate, needs first, each with no cache (a fresh CI agent), then the merge
      // job. The outputs a job needs come from the jobs before it, never from earlier runs.
      for (const file of await gateOutputFiles(dir)) await rm(join(dir, file), { force: true });
      await rm(join(dir, 'ci-results'), { recursive: true, force: true });
      let log = '';
      for (const id of await gateOrder(dir)) {
        const r = cli([
          'run',
          '--only',
          id,
          '--no-cache',
          '--result-file',
          `ci-results/${id}.json`,
        ]);
        log += `--- job ${id}\n${show(r)}\n`;
      }
      const m = cli([
        'report',
        'merge',
        'ci-results',
        '-o',
        'ci-report/report.json',
        '--fail-on-verdict',
      ]);
      log += `--- merge\n${show(m)}\n`;
      const report = await reportAt(join(dir, 'ci-report/report.json'));
      await rm(join(dir, 'ci-results'), { recursive: true, force: true });
      await rm(join(dir, 'ci-report'), { recursive: true, force: true });
      return done(reportCell(m.status, report), log, report);
    }
  }
}

/** One row of the matrix: a fault and what every executor said. */
export interface Row {
  fixture: string;
  fault: Fault;
  cells: Partial<Record<Executor, Judged>>;
}

const mark = (cell: Cell | undefined, expected: string): string =>
  cell === undefined
    ? '…'
    : cell === 'n/a'
      ? '—'
      : cell === expected
        ? cell
        : `**${cell}** (want ${expected})`;

/** The matrix as a Markdown table (what the suite prints and docs/ publishes). */
export function matrixMarkdown(rows: Row[]): string {
  const head = ['fixture', 'planted fault', 'expected', ...EXECUTORS];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    lines.push(
      `| ${[
        row.fixture,
        row.fault.what,
        row.fault.expect,
        ...EXECUTORS.map((e) => {
          const j = row.cells[e];
          const m = mark(j?.cell, row.fault.expect);
          return j && j.cell !== 'n/a' ? `${m} (${(j.ms / 1000).toFixed(0)} s)` : m;
        }),
      ].join(' | ')} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
