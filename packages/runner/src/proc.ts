import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { LogSink } from './log-sink.js';

/** How a gate's process ended. */
export interface ProcessOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  interrupted: boolean;
  spawnError: string | null;
}

/** Options of {@link runProcess}. */
export interface RunProcessOptions {
  command: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** TERM first, KILL after this many ms. */
  killGraceMs: number;
  signal: AbortSignal;
  sink: LogSink;
  onOutput?: (stream: 'stdout' | 'stderr', redacted: Buffer) => void;
  onSpawn?: (pid: number) => void;
}

/**
 * True while a live (non-zombie) process is in the group. Zombies count as gone: where
 * PID 1 does not reap orphans (some containers), a killed orphan stays a zombie forever.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return liveMembers(pgid) !== 0;
}

/** Non-zombie members of a process group, from /proc; -1 when /proc cannot tell. */
function liveMembers(pgid: number): number {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return -1;
  }
  let live = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command: state ppid pgrp ...
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[2]) === pgid && rest[0] !== 'Z' && rest[0] !== 'X') live++;
  }
  return live;
}

function killGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // The group is already gone.
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * TERM the whole process group, wait up to `graceMs` for it to empty, then KILL it.
 * Resolves once the group is gone (or KILL was sent and a short wait elapsed).
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<void> {
  if (!groupAlive(pgid)) return;
  killGroup(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(25, Math.max(1, deadline - Date.now())));
    if (!groupAlive(pgid)) return;
  }
  killGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 40 && groupAlive(pgid); i++) await sleep(25);
}

/**
 * Run `/bin/sh -c command` in its own process group, streaming output into the sink with
 * backpressure. Timeout and abort stop the whole tree; a tree left behind by a command that
 * exited (background children) is stopped too, so nothing outlives its gate.
 */
export function runProcess(opts: RunProcessOptions): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    let timedOut = false;
    let interrupted = false;
    let stopping: Promise<void> | null = null;
    let child;
    try {
      child = spawn('/bin/sh', ['-c', opts.command], {
        cwd: opts.cwd,
        env: opts.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      resolve({
        exitCode: null,
        signal: null,
        timedOut,
        interrupted,
        spawnError: (err as Error).message,
      });
      return;
    }
    const pid = child.pid;
    let spawnError: string | null = null;
    const stop = () => {
      if (pid !== undefined && stopping === null) stopping = terminateGroup(pid, opts.killGraceMs);
      return stopping ?? Promise.resolve();
    };
    const timer =
      opts.timeoutMs > 0 && Number.isFinite(opts.timeoutMs)
        ? setTimeout(() => {
            timedOut = true;
            void stop();
          }, opts.timeoutMs)
        : null;
    const onAbort = () => {
      if (timedOut) return;
      interrupted = true;
      void stop();
    };
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
    if (pid !== undefined) opts.onSpawn?.(pid);

    for (const name of ['stdout', 'stderr'] as const) {
      const src = child[name]!;
      src.on('data', (chunk: Buffer) => {
        const { redacted, ok } = opts.sink.write(name, chunk);
        if (redacted.length > 0) opts.onOutput?.(name, redacted);
        if (!ok) {
          src.pause();
          void opts.sink.drained().then(() => src.resume());
        }
      });
    }

    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    child.once('error', (err) => {
      spawnError = err.message;
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Background processes that still hold the pipes would keep 'close' from firing.
      if (pid !== undefined && groupAlive(pid)) void stop();
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      const finalExit = exit ?? { code, signal };
      void (async () => {
        if (pid !== undefined && groupAlive(pid)) await stop();
        else if (stopping) await stopping;
        resolve({
          exitCode: finalExit.code,
          signal: finalExit.signal,
          timedOut,
          interrupted,
          spawnError,
        });
      })();
    });
  });
}
