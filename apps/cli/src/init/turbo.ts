/**
 * turbo's own task graph (`turbo run <tasks> --dry=json`), so that `init` writes the per-package
 * gates and dependencies turbo runs rather than guessing them.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** One task of turbo's dry run (`@acme/core#build`). */
export interface TurboTask {
  taskId: string;
  task: string;
  package: string;
  /** The package directory, relative to the repository root. */
  directory: string;
  /** turbo prints `<NONEXISTENT>` for a package without the script. */
  command: string;
  /** Task ids this one depends on, directly. */
  dependencies: string[];
  outputs: string[] | null;
}

const run = promisify(execFile);

/** The repository's own turbo binary, or null when it is not installed there. */
export async function localTurbo(dir: string): Promise<string | null> {
  const bin = join(dir, 'node_modules', '.bin', 'turbo');
  return access(bin).then(
    () => bin,
    () => null,
  );
}

/**
 * The tasks turbo would run for `tasks` in `dir`, from `turbo run … --dry=json` with the
 * repository's own turbo; null when turbo is not installed or the dry run fails (the reason in
 * `why`).
 */
export async function readTurboTasks(
  dir: string,
  tasks: readonly string[],
): Promise<{ tasks: TurboTask[] | null; why: string }> {
  const bin = await localTurbo(dir);
  if (!bin) return { tasks: null, why: 'turbo is not installed (node_modules/.bin/turbo)' };
  if (tasks.length === 0) return { tasks: [], why: 'no tasks' };
  try {
    const { stdout } = await run(bin, ['run', ...tasks, '--dry=json'], {
      cwd: dir,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    const json = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { tasks?: TurboTask[] };
    const list = (json.tasks ?? []).filter(
      (t) => t.package !== '//' && t.command !== '<NONEXISTENT>',
    );
    return { tasks: list, why: `turbo run ${tasks.join(' ')} --dry=json` };
  } catch (err) {
    const msg = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    return { tasks: null, why: `turbo's dry run failed: ${msg.split('\n').pop() ?? msg}` };
  }
}
