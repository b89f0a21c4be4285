import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { LogSink } from './log-sink.js';
import { MARKER_VAR, terminateTree, type TreeQuery } from './proc-tree.mjs';

export { MARKER_VAR, findTree, terminateTree, type TreeQuery } from './proc-tree.mjs';

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
  /**
   * The run's token (see {@link newRunToken}): every process of the gate carries
   * `GATEHOUSE_GATE_TOKEN=<runToken>.<nonce>`, so a later run can find them by the token its
   * lock recorded. @default a new token
   */
  runToken?: string;
  onOutput?: (stream: 'stdout' | 'stderr', redacted: Buffer) => void;
  onSpawn?: (pid: number) => void;
  /**
   * Run `/bin/sh -c command` through this wrapper (`--sandbox`'s bwrap): `argv` comes first,
   * and `argsFile`, when given, is opened as the wrapper's fd 3.
   */
  wrap?: { argv: string[]; argsFile?: string };
  /**
   * Where to take an already started supervisor from (see {@link SupervisorPool}); one is
   * started now when it has none. Its supervisors must carry `runToken`.
   */
  supervisors?: SupervisorPool;
}

/** A new run token: 128 random bits, hex. */
export function newRunToken(): string {
  return randomBytes(16).toString('hex');
}

/** What a run token looks like (a lock file is not trusted to hold one). */
export const RUN_TOKEN_RE = /^[0-9a-f]{32}$/;

const SUPERVISOR = fileURLToPath(new URL('./gate-supervisor.mjs', import.meta.url));

/**
 * Starts the supervisor (`$0 $1`: node and the script) in the background, with the control socket
 * (fd 3 here) as its stdin, and exits: the supervisor is reparented away from this process.
 */
const LAUNCH = '"$0" "$1" 0<&3 3<&- &';

/**
 * After a gate's tracked processes are gone, how long its output pipes may stay open before the
 * runner stops reading them: only a process that escaped tracking can still hold them.
 */
const PIPE_GRACE_MS = 1_000;

/** How long a stopped gate's supervisor has to report how the gate ended. */
const EXIT_REPORT_MS = 1_000;

interface SupervisorMessage {
  pid?: number;
  supervisor?: number;
  error?: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** A supervisor started and waiting for its command on the control socket. */
interface Launched {
  launcher: ChildProcess;
  /** The marker every process of its gate will carry: `<runToken>.<nonce>`. */
  marker: string;
  control: Readable & Writable;
  streams: { stdout: Readable; stderr: Readable };
  /** Why it could not be started, when the spawn failed after it returned. */
  error: string | null;
  /** The control socket closed: the supervisor is gone and cannot take a command. */
  closed: boolean;
}

/** Start a gate supervisor for the run `runToken`; it waits for its command. Throws when spawn does. */
function launchSupervisor(runToken: string): Launched {
  const marker = `${runToken}.${randomBytes(6).toString('hex')}`;
  const launcher = spawn('/bin/sh', ['-c', LAUNCH, process.execPath, SUPERVISOR], {
    cwd: '/',
    env: { [MARKER_VAR]: marker },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const launched: Launched = {
    launcher,
    marker,
    control: launcher.stdio[3] as Readable & Writable,
    streams: { stdout: launcher.stdout!, stderr: launcher.stderr! },
    error: null,
    closed: false,
  };
  launcher.once('error', (err) => {
    launched.error ??= err.message;
  });
  launched.control.on('error', () => undefined);
  launched.control.once('close', () => {
    launched.closed = true;
  });
  return launched;
}

/**
 * Supervisors started ahead of the gates of one run, so a gate that becomes ready does not
 * wait for a Node process to start (tens of milliseconds each, on the critical path of every
 * chain of gates). They are plain supervisors that have not been told their command: their
 * environment holds only the marker, as always. {@link close} ends the ones never used.
 */
export class SupervisorPool {
  readonly #runToken: string;
  #idle: Launched[] = [];
  #closed = false;

  constructor(runToken: string) {
    this.#runToken = runToken;
  }

  /** Supervisors started and waiting right now. */
  get idle(): number {
    this.#idle = this.#idle.filter(usable);
    return this.#idle.length;
  }

  /** Keep `n` supervisors waiting: start the missing ones, end the extra ones. */
  keep(n: number): void {
    if (this.#closed) return;
    const have = this.idle;
    for (let i = have; i < n; i++) {
      try {
        this.#idle.push(launchSupervisor(this.#runToken));
      } catch {
        return; // the gate that needs one will start its own and report why it could not
      }
    }
    for (const extra of this.#idle.splice(Math.max(0, n))) end(extra);
  }

  /** A waiting supervisor, or null when there is none. */
  take(): Launched | null {
    while (this.#idle.length > 0) {
      const l = this.#idle.shift()!;
      if (usable(l)) return l;
    }
    return null;
  }

  /**
   * End every waiting supervisor and start no more. Resolves once each has closed its control
   * socket (it exits when it sees the socket end), or after `graceMs`, when whatever is left
   * of them is stopped by its marker.
   */
  async close(graceMs = 1_000): Promise<void> {
    this.#closed = true;
    const left = this.#idle.splice(0);
    await Promise.all(
      left.map(async (l) => {
        end(l);
        if (l.closed) return;
        const closed = await new Promise<boolean>((r) => {
          const t = setTimeout(() => r(false), graceMs);
          l.control.once('close', () => {
            clearTimeout(t);
            r(true);
          });
        });
        if (!closed) await terminateTree({ marker: l.marker }, 200);
      }),
    );
  }
}

/** A waiting supervisor that can still take a command: started, and its socket open. */
function usable(l: Launched): boolean {
  return !l.closed && l.error === null;
}

/** Tell a waiting supervisor to exit (it exits when its control socket ends). */
function end(l: Launched): void {
  l.control.end();
  for (const s of [l.streams.stdout, l.streams.stderr]) s.resume();
}

/**
 * Run `/bin/sh -c command` under a gate supervisor (`gate-supervisor.mjs`): a separate process
 * whose environment holds no secret and whose parent is not this process. The gate runs in its
 * own process group, streaming output into the sink with backpressure.
 *
 * Every process of the gate carries a marker variable, so timeout and abort stop the whole tree —
 * including daemons that left the process group with `setsid` — and so does a command that exits
 * and leaves processes behind: nothing outlives its gate. The runner then stops reading the output
 * pipes instead of waiting for an end of file that a hidden process holding them never sends.
 */
export function runProcess(opts: RunProcessOptions): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    let timedOut = false;
    let interrupted = opts.signal.aborted;
    let spawnError: string | null = null;
    if (interrupted) {
      resolve({ exitCode: null, signal: null, timedOut, interrupted, spawnError });
      return;
    }
    let launched: Launched;
    try {
      launched = opts.supervisors?.take() ?? launchSupervisor(opts.runToken ?? newRunToken());
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
    const { launcher, marker, control, streams } = launched;

    let gatePid: number | null = null;
    let supervisorPid: number | null = null;
    let exit: SupervisorMessage['exit'] | null = null;
    let controlClosed = false;
    const tree = (): TreeQuery => ({
      marker,
      ...(gatePid !== null ? { pgid: gatePid } : {}),
      ...(supervisorPid !== null ? { exclude: [supervisorPid] } : {}),
    });
    let stopping: Promise<void> | null = null;
    const stop = () => (stopping ??= terminateTree(tree(), opts.killGraceMs));

    // Each step of the end re-checks these; `changed` wakes it.
    let wake: (() => void) | null = null;
    const changed = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const until = async (done: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!done()) {
        const left = end - Date.now();
        if (left <= 0) return;
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          wake = () => {
            clearTimeout(t);
            r();
          };
        });
      }
    };

    let finishing = false;
    const finish = async () => {
      if (finishing) return;
      finishing = true;
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      // What is left of the tree: everything on timeout or abort, leftovers after an exit.
      if (spawnError === null) await stop();
      if (gatePid !== null) await until(() => exit !== null || controlClosed, EXIT_REPORT_MS);
      // The supervisor stops anything left (it started the gate after all) and exits, which
      // closes the socket: when this resolves, no process of the gate is left, supervisor included.
      control.end();
      const over = (s: Readable) => s.readableEnded || s.destroyed;
      await until(
        () => over(streams.stdout) && over(streams.stderr) && controlClosed,
        PIPE_GRACE_MS,
      );
      for (const s of [streams.stdout, streams.stderr]) if (!s.readableEnded) s.destroy();
      control.destroy();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        timedOut,
        interrupted,
        spawnError,
      });
    };

    const timer =
      opts.timeoutMs > 0 && Number.isFinite(opts.timeoutMs)
        ? setTimeout(() => {
            timedOut = true;
            void finish();
          }, opts.timeoutMs)
        : null;
    const onAbort = () => {
      if (timedOut) return;
      interrupted = true;
      void finish();
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });

    for (const name of ['stdout', 'stderr'] as const) {
      const src = streams[name];
      src.on('data', (chunk: Buffer) => {
        const { redacted, ok } = opts.sink.write(name, chunk);
        if (redacted.length > 0) opts.onOutput?.(name, redacted);
        if (!ok) {
          src.pause();
          void opts.sink.drained().then(() => src.resume());
        }
      });
      src.on('end', changed);
      src.on('close', changed);
      src.on('error', changed);
    }

    if (launched.error !== null) {
      spawnError ??= launched.error;
      queueMicrotask(() => void finish());
    }
    launcher.once('error', (err) => {
      spawnError ??= err.message;
      void finish();
    });

    let lines = '';
    control.setEncoding('utf8');
    control.on('data', (chunk: string) => {
      lines += chunk;
      for (let nl = lines.indexOf('\n'); nl !== -1; nl = lines.indexOf('\n')) {
        const line = lines.slice(0, nl);
        lines = lines.slice(nl + 1);
        let msg: SupervisorMessage;
        try {
          msg = JSON.parse(line) as SupervisorMessage;
        } catch {
          continue;
        }
        if (typeof msg.pid === 'number' && typeof msg.supervisor === 'number') {
          gatePid = msg.pid;
          supervisorPid = msg.supervisor;
          opts.onSpawn?.(msg.pid);
        } else if (typeof msg.error === 'string') {
          if (gatePid === null) spawnError ??= msg.error;
          void finish();
        } else if (msg.exit) {
          exit = msg.exit;
          // Background processes left behind would hold the pipes: stop them.
          void finish();
        }
        changed();
      }
    });
    control.on('error', changed);
    const onControlClosed = () => {
      controlClosed = true;
      if (gatePid === null && exit === null && !finishing)
        spawnError ??= 'the gate supervisor ended before starting the command';
      changed();
      void finish();
    };
    if (launched.closed) queueMicrotask(onControlClosed);
    else control.on('close', onControlClosed);

    control.write(
      `${JSON.stringify({
        command: opts.command,
        cwd: opts.cwd,
        env: opts.env,
        killGraceMs: opts.killGraceMs,
        ...(opts.wrap ? { wrap: opts.wrap } : {}),
      })}\n`,
    );
  });
}
