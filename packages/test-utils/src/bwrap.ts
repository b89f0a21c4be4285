import { spawnSync } from 'node:child_process';

/** Why bubblewrap cannot make a sandbox here (the sandbox `--sandbox` makes), or null when it can. */
export function bwrapProblem(): string | null {
  const r = spawnSync(
    'bwrap',
    ['--ro-bind', '/', '/', '--unshare-pid', '--proc', '/proc', '--dev', '/dev', 'true'],
    { encoding: 'utf8', timeout: 15_000 },
  );
  if (r.error) return `bwrap did not start (${r.error.message})`;
  if (r.status !== 0)
    return `bwrap failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`}`;
  return null;
}

/**
 * For `describe.skipIf(!requireBwrap())`: true when bubblewrap works here. Without it, throws
 * under `CI=true` (a CI run must not pass by skipping) and otherwise warns and returns false.
 */
export function requireBwrap(what = 'sandbox tests'): boolean {
  const problem = bwrapProblem();
  if (problem === null) return true;
  if (process.env.CI === 'true')
    throw new Error(
      `${what} need bubblewrap (apt-get install bubblewrap): ${problem}; CI=true: not skipping`,
    );
  console.warn(`skipping ${what}: ${problem} (apt-get install bubblewrap)`);
  return false;
}
