/**
 * The project's package manager and its version. Kept apart from `build.ts` so that the judge
 * bundled into the Docker verdict stage (which records gates' tools) does not take in the
 * report builder, whose module reads this package's own package.json when it loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageManagerRunBy, workspaceRootAbove, type RunEnvironment } from '@gatehouse-ci/core';

const LOCKFILES: Array<[string, string]> = [
  ['pnpm-lock.yaml', 'pnpm'],
  ['yarn.lock', 'yarn'],
  ['bun.lockb', 'bun'],
  ['bun.lock', 'bun'],
  ['package-lock.json', 'npm'],
  ['npm-shrinkwrap.json', 'npm'],
];

/**
 * The project's package manager and its version: package.json's `packageManager`, else the
 * lockfile. Beside lockfiles of more than one manager (a stale `yarn.lock` next to
 * `package-lock.json`), the one `setupRun` runs decides, as for the CI toolchain (core's
 * `packageManagerOf`); else the first found. A package of a workspace without either
 * ({@link workspaceRootAbove}: a package's own config) takes the workspace root's, which
 * installs it: the root's `packageManager`, else its lockfile.
 * @param setupRun the config's `setup.run`, if any
 */
export function packageManagerOf(
  rootDir: string,
  env: Record<string, string | undefined>,
  setupRun: string | null = null,
): RunEnvironment['packageManager'] {
  const setupRuns = setupRun === null ? null : packageManagerRunBy(setupRun);
  const own = declaredIn(rootDir) ?? lockedIn(rootDir, env, setupRuns);
  if (own !== null) return own;
  const ws = workspaceRootAbove(rootDir);
  return ws === null ? null : (declaredIn(ws.dir) ?? lockedIn(ws.dir, env, setupRuns));
}

/** `packageManager` of `dir`'s package.json (`pnpm@10.34.8+sha512…` → pnpm 10.34.8), or null. */
function declaredIn(dir: string): RunEnvironment['packageManager'] {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as unknown;
    const declared =
      pkg !== null && typeof pkg === 'object' && 'packageManager' in pkg
        ? (pkg as { packageManager: unknown }).packageManager
        : undefined;
    const m = typeof declared === 'string' ? /^([a-z]+)@([0-9][^+\s]*)/.exec(declared) : null;
    return m ? { name: m[1]!, version: m[2]! } : null;
  } catch {
    // No package.json, or not JSON: the lockfile may still say.
    return null;
  }
}

/**
 * The manager of the lockfile in `dir`, with the version the invoking tool announces when it is
 * that manager, or null without a lockfile. With lockfiles of several managers, the one the
 * setup runs (`setupRuns`) when it is among them, else the first found.
 */
function lockedIn(
  dir: string,
  env: Record<string, string | undefined>,
  setupRuns: string | null,
): RunEnvironment['packageManager'] {
  const found = LOCKFILES.filter(([file]) => existsSync(join(dir, file))).map(([, n]) => n);
  if (found.length === 0) return null;
  const ambiguous = new Set(found).size > 1;
  const name = ambiguous && setupRuns !== null && found.includes(setupRuns) ? setupRuns : found[0]!;
  const agent = /^([a-z]+)\/([0-9][^\s]*)/.exec(env.npm_config_user_agent ?? '');
  return { name, version: agent && agent[1] === name ? agent[2]! : null };
}
