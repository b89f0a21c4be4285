/**
 * Whether a process recorded earlier (a lock holder, an image builder) still runs. A pid
 * alone can be reused by a new process after the old one died; the pid and its start time
 * (`/proc/<pid>/stat`, field 22) together cannot.
 */
import { readFileSync } from 'node:fs';

/** State (`R`, `S`, `Z`…) and start time of a process, or null (no such process, or no `/proc`). */
export function procStat(pid: number): { state: string; start: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', start: fields[19] ?? '' };
  } catch {
    return null;
  }
}

/** This process's start time, where there is a `/proc`. */
export const OWN_PROC_START: string | undefined = procStat(process.pid)?.start || undefined;

/**
 * Whether process `pid` still runs and, when `procStart` was recorded, is the same process:
 * false for a pid that is gone, a zombie, or now another process. Without `/proc` a live pid
 * is all that can be known.
 */
export function processRunning(pid: number, procStart?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (OWN_PROC_START === undefined) return true;
  const st = procStat(pid);
  if (st === null || st.state === 'Z' || st.state === 'X') return false;
  return procStart === undefined || procStart === st.start;
}
