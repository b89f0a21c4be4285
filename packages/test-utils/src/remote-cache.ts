import { execFileSync } from 'node:child_process';

/** Where a CI job runs, as the variables a remote-cache mode line reads. */
export interface CiSituation {
  /** What the line must set `GATEHOUSE_REMOTE_CACHE_READ_ONLY` to there. */
  readOnly: 'true' | 'false';
  env: Record<string, string>;
}

/**
 * `GATEHOUSE_REMOTE_CACHE_READ_ONLY` after `/bin/sh` runs `line` (a CI job's remote-cache mode
 * line, as the CI's shell receives it) with exactly `env` (plus PATH).
 */
export function readOnlyAfter(line: string, env: Record<string, string>): string {
  return execFileSync('/bin/sh', ['-c', `${line}\nprintf %s "$GATEHOUSE_REMOTE_CACHE_READ_ONLY"`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  }).toString();
}
