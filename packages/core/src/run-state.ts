/**
 * Where a project's local state lives, and how a run is named: the one owner of
 * `.gatehouse/` and `.gatehouse/runs/<runId>/`, and of the run id format, for the runner,
 * the docker executor, the report package (merge, ledger) and the CLI.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** The state directory's name, next to the config. */
export const STATE_DIR_NAME = '.gatehouse';

/** The state directory of a project whose config lives in `rootDir`. */
export function stateDirOf(rootDir: string): string {
  return join(rootDir, STATE_DIR_NAME);
}

/** The directory holding one directory per run: `<stateDir>/runs`. */
export function runsDirOf(stateDir: string): string {
  return join(stateDir, 'runs');
}

/** One run's directory: `<stateDir>/runs/<runId>` (report, logs, evidence). */
export function runDirOf(stateDir: string, runId: string): string {
  return join(runsDirOf(stateDir), runId);
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A time-sortable random run id (ULID: 48-bit millisecond time + 80 random bits, Crockford
 * base32, 26 characters). Ids sort by creation time as plain strings.
 * @see https://github.com/ulid/spec
 */
export function newRunId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const rnd = randomBytes(10);
  let bits = 0n;
  for (const b of rnd) bits = (bits << 8n) | BigInt(b);
  let random = '';
  for (let i = 0; i < 16; i++) {
    random = CROCKFORD[Number(bits & 31n)]! + random;
    bits >>= 5n;
  }
  return time + random;
}

/** Where one run's files live, for every executor and the CLI. */
export function runPaths(stateDir: string, runId: string) {
  const runDir = runDirOf(stateDir, runId);
  return {
    runDir,
    logsDir: join(runDir, 'logs'),
    outDir: join(runDir, 'out'),
    gateLog: (id: string) => join(runDir, 'logs', `${id}.log`),
    gateOut: (id: string) => join(runDir, 'out', id),
    // Not in logs/, where any gate id (`setup` too) names a log.
    setupLog: join(runDir, 'setup.log'),
    reportDir: join(stateDir, 'report'),
  };
}

/** The files of one run, see {@link runPaths}. */
export type RunPaths = ReturnType<typeof runPaths>;
