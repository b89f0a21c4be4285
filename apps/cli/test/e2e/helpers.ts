import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateResult, RunReport } from '@gatehouse-ci/core';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));
export const CLI = join(REPO_ROOT, 'apps/cli/bin/gatehouse.js');
export const STOREFRONT = join(REPO_ROOT, 'examples/storefront');

/** Files of the example that a copy must not take: installs, builds and run state. */
const LOCAL_ONLY = new Set(['node_modules', 'dist', 'coverage', 'reports', '.gatehouse']);

/**
 * Copies the storefront example into a fresh temp dir (without installs or state), so a
 * test can break it on purpose. The copy's setup gate installs its dependencies.
 */
export async function copyStorefront(prefix = 'gatehouse-e2e-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await cp(STOREFRONT, dir, {
    recursive: true,
    filter: (src) => !LOCAL_ONLY.has(relative(STOREFRONT, src).split('/')[0] ?? ''),
  });
  return dir;
}

/** Runs the built CLI; never throws on a non-zero exit. */
export function gatehouse(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): SpawnSyncReturns<string> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  // The example's sonar gate runs only when a SonarQube server is configured.
  if (!opts.env || !('SONAR_HOST_URL' in opts.env)) delete env.SONAR_HOST_URL;
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: env as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 600_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

export async function readReport(dir: string): Promise<RunReport> {
  return JSON.parse(
    await readFile(join(dir, '.gatehouse/report/report.json'), 'utf8'),
  ) as RunReport;
}

export function gateOf(report: RunReport, id: string): GateResult {
  const g = report.gates.find((x) => x.id === id);
  if (!g) throw new Error(`gate ${id} missing from report ${report.runId}`);
  return g;
}

/** Status of each gate, by id. */
export function statuses(report: RunReport): Record<string, string> {
  return Object.fromEntries(report.gates.map((g) => [g.id, g.status]));
}

/** Replaces text in a file of the copy, failing loudly when the text is not there. */
export async function edit(
  dir: string,
  file: string,
  from: string,
  to: string,
): Promise<() => Promise<void>> {
  const path = join(dir, file);
  const before = await readFile(path, 'utf8');
  if (!before.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
  await writeFile(path, before.replace(from, to));
  return () => writeFile(path, before);
}

/** Output of a CLI call for assertion messages. */
export function show(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
