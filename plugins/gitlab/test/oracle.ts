/**
 * The GitLab CI oracle: `gitlab-ci-local` (tools/gitlab-ci-local, installed by
 * `scripts/setup.sh` with the Node 22 it needs) validates a `.gitlab-ci.yml` against GitLab's
 * JSON schema and runs its jobs with the shell executor, passing artifacts along `needs:`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '@gatehouse-ci/core';
import { REPORT_JOB_NAME } from '../src/build.js';

const TOOL_DIR = fileURLToPath(new URL('../../../tools/gitlab-ci-local/', import.meta.url));
const BIN = join(TOOL_DIR, 'node_modules', '.bin');
const INSTALL_HINT = 'bash scripts/setup.sh --system (installs rsync and tools/gitlab-ci-local)';

/** The environment gitlab-ci-local runs in: its Node 22 first on PATH (then `extra.PATH`, if given). */
export function oracleEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  env.PATH = `${BIN}${delimiter}${env.PATH ?? ''}`;
  // A CI=true of the test run must not change how the emitted jobs see themselves.
  delete env.CI;
  delete env.GITLAB_CI;
  return env;
}

/** Why gitlab-ci-local cannot run here, or null when it can. */
export function gitlabCiLocalProblem(): string | null {
  if (!existsSync(join(BIN, 'gitlab-ci-local'))) return `${BIN}/gitlab-ci-local is not installed`;
  const node = spawnSync(join(BIN, 'node'), ['--version'], { encoding: 'utf8' });
  const major = Number(/^v(\d+)/.exec(node.stdout ?? '')?.[1] ?? 0);
  if (major < 22)
    return `gitlab-ci-local needs Node >= 22, ${BIN}/node is ${node.stdout || 'missing'}`;
  const rsync = spawnSync('rsync', ['--version'], { encoding: 'utf8' });
  if (rsync.error || rsync.status !== 0) return 'rsync is not installed (Debian package rsync)';
  return null;
}

/**
 * For `describe.skipIf(!requireGitlabCiLocal())`: true when the oracle works here. Without it,
 * throws under `CI=true` (a CI run must not pass by skipping) and otherwise warns.
 */
export function requireGitlabCiLocal(what = 'GitLab CI oracle tests'): boolean {
  const problem = gitlabCiLocalProblem();
  if (problem === null) return true;
  if (process.env.CI === 'true')
    throw new Error(
      `${what} need gitlab-ci-local: ${problem}; ${INSTALL_HINT}; CI=true: not skipping`,
    );
  console.warn(`skipping ${what}: ${problem} (${INSTALL_HINT})`);
  return false;
}

const projects: string[] = [];

/** Remove every project {@link makeProject} made (for `afterAll`). */
export async function removeProjects(): Promise<void> {
  await Promise.all(projects.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A fresh git repository (gitlab-ci-local needs one, with a commit) holding `files`. */
export async function makeProject(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-gitlab-'));
  projects.push(dir);
  for (const [path, contents] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), contents);
  }
  const git = (...args: string[]): void => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-qm', 'fixture');
  return dir;
}

export interface OracleRun {
  /** gitlab-ci-local's exit code: 0 when the pipeline passed (or the file was valid). */
  status: number | null;
  output: string;
  ok: boolean;
}

/** Run gitlab-ci-local in `dir` with `args`; the job's own output is part of `output`. */
export function runGitlabCiLocal(
  dir: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<OracleRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(BIN, 'gitlab-ci-local'), ['--no-color', ...args], {
      cwd: dir,
      env: oracleEnv(extraEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output, ok: status === 0 }));
  });
}

/**
 * Run the whole pipeline: every job with the shell executor (the default image is for real
 * runners), each in its own copy of the project (`--shell-isolation`), so a job sees another
 * job's files only through artifacts and `needs:`.
 */
export function runPipeline(
  dir: string,
  extraEnv: Record<string, string> = {},
  extraArgs: string[] = [],
): Promise<OracleRun> {
  return runGitlabCiLocal(
    dir,
    [
      '--shell-executor-no-image',
      '--force-shell-executor',
      '--shell-isolation',
      '--json-schema-validation',
      ...extraArgs,
    ],
    extraEnv,
  );
}

/** Schema-check each text as a project's `.gitlab-ci.yml` (parse, validate, list the jobs). */
export async function validatePipelines(texts: string[]): Promise<OracleRun[]> {
  return Promise.all(
    texts.map(async (text) => {
      const dir = await makeProject({ '.gitlab-ci.yml': text });
      // `rules: changes:` need a remote to compare with: validation lists every job instead.
      const run = await runGitlabCiLocal(dir, [
        '--list-all',
        '--json-schema-validation',
        '--no-evaluate-rule-changes',
      ]);
      return run;
    }),
  );
}

/** `job → sorted needs` of every job of a parsed `.gitlab-ci.yml` (keys that are jobs). */
export function jobGraph(doc: Record<string, unknown>): Record<string, string[]> {
  const graph: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(doc)) {
    if (value === null || typeof value !== 'object' || !('script' in value)) continue;
    const needs = ((value as { needs?: Array<{ job: string }> }).needs ?? []).map((n) => n.job);
    graph[name] = needs.sort();
  }
  return graph;
}

/** The CLI built from this repository, which the oracle pipelines' jobs call. */
export const CLI = fileURLToPath(new URL('../../../apps/cli/bin/gatehouse.js', import.meta.url));

/** Job name → PASS / FAIL / WARN from gitlab-ci-local's summary. */
export function jobResults(run: OracleRun): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of run.output.matchAll(/^ (PASS|FAIL|WARN)\s+(\S+)/gm)) out[m[2]!] = m[1]!;
  return out;
}

/** Gate id → status of a report. */
export function statuses(report: RunReport): Record<string, string> {
  return Object.fromEntries(report.gates.map((g) => [g.id, g.status]));
}

/** The report the pipeline's report job merged, from its artifacts in `dir`. */
export async function mergedReport(dir: string): Promise<RunReport> {
  const path = join(
    dir,
    `.gitlab-ci-local/artifacts/${REPORT_JOB_NAME}/gatehouse-report/report.json`,
  );
  return JSON.parse(await readFile(path, 'utf8')) as RunReport;
}

/**
 * `gatehouse run --no-cache` in `dir` (in `env`), and the report it wrote. Throws when the run
 * neither passed nor failed (exit 0 or 1).
 */
export async function localReport(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs?: number,
): Promise<RunReport> {
  const r = spawnSync(process.execPath, [CLI, 'run', '--no-cache'], {
    cwd: dir,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
  });
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`gatehouse run exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(
    await readFile(join(dir, '.gatehouse/report/report.json'), 'utf8'),
  ) as RunReport;
}
