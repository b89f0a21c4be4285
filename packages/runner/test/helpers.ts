import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedGate, ResolvedPipeline, RunEvent, RunReport } from '@gatehouse-ci/core';
import { pipeline } from '@gatehouse-ci/test-utils';
import { execute, type LocalExecuteOptions } from '../src/index.js';

/** A fresh project directory with the given files. */
export async function project(files: Record<string, string> = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-runner-'));
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), c);
  }
  return dir;
}

export async function cleanup(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function pipe(
  dir: string,
  gates: ResolvedGate[],
  over: Partial<ResolvedPipeline> = {},
): ResolvedPipeline {
  return pipeline(gates, { rootDir: dir, configPath: join(dir, 'gatehouse.yml'), ...over });
}

/** Run and collect events; options default to a quiet, serial-safe run. */
export async function run(
  p: ResolvedPipeline,
  over: Partial<LocalExecuteOptions> = {},
): Promise<{ report: RunReport; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const report = await execute(p, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    concurrency: 2,
    killGraceMs: 300,
    onEvent: (e) => events.push(e),
    ...over,
  });
  return { report, events };
}

/** The report as written to disk for that run, and its copy in `.gatehouse/report/`. */
export function writtenReport(dir: string, runId: string): { run: RunReport; latest: RunReport } {
  const run = JSON.parse(
    readFileSync(join(dir, '.gatehouse', 'runs', runId, 'report.json'), 'utf8'),
  ) as RunReport;
  const latest = JSON.parse(
    readFileSync(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'),
  ) as RunReport;
  return { run, latest };
}

export function status(report: RunReport): Record<string, string> {
  return Object.fromEntries(report.gates.map((g) => [g.id, g.status]));
}

/** Whether a pid is a live (non-zombie) process. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every file under a dir (recursive), absolute paths. */
export function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('waitFor: timed out');
    await sleep(20);
  }
}

/**
 * Live (non-zombie) processes whose environment has an entry starting with `entry` (e.g.
 * `PROBE=<id>` or `GATEHOUSE_GATE_TOKEN=<token>.`), read from /proc.
 */
export function processesWith(entry: string): number[] {
  const needle = Buffer.from(entry);
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${name}/environ`);
    } catch {
      continue;
    }
    for (let at = env.indexOf(needle); at !== -1; at = env.indexOf(needle, at + 1)) {
      if ((at === 0 || env[at - 1] === 0) && alive(Number(name))) {
        found.push(Number(name));
        break;
      }
    }
  }
  return found;
}

/** SIGKILL these pids, ignoring the ones already gone (cleanup after a failed assertion). */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Why the build that child processes run (`test/fixtures/run-child.mjs` imports the runner's
 * dist/, which imports core's and report's) is not current, or null when it is.
 */
export function staleBuild(): string | null {
  for (const pkg of ['core', 'report', 'runner']) {
    const src = join(packagesDir, pkg, 'src');
    for (const f of allFiles(src)) {
      if (f.endsWith('.test.ts') || f.endsWith('.d.ts')) continue;
      if (!f.endsWith('.ts') && !f.endsWith('.mjs')) continue;
      const out = relative(src, f).replace(/\.ts$/, '.js');
      const built = join(packagesDir, pkg, 'dist', out);
      if (!existsSync(built)) return `${built} is missing`;
      if (statSync(built).mtimeMs < statSync(f).mtimeMs) return `${built} is older than its source`;
    }
  }
  return null;
}

/**
 * A run of `pipelineFile` in another Node process on the built runner (`fixtures/run-child.mjs`),
 * with exactly `env` as that process's environment. With `inheritEnv`, the run gets that whole
 * environment, as the CLI gives it `process.env`. `done` has the child's stdout and exit code.
 */
export function childRun(
  pipelineFile: string,
  opts: { only?: string[]; waitMs?: number; env: Record<string, string>; inheritEnv?: boolean },
): { proc: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'run-child.mjs');
  const args = [script, pipelineFile, (opts.only ?? []).join(','), String(opts.waitMs ?? 0)];
  if (opts.inheritEnv) args.push('inherit-env');
  const proc = spawn(process.execPath, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((r) =>
    proc.on('close', (code) => r({ code, out, err })),
  );
  return { proc, done };
}
