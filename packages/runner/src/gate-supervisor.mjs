// @ts-check
/**
 * The gate supervisor: the parent of one gate's `/bin/sh -c <run>`. `proc.ts` starts it through a
 * shell that exits at once, so its parent is not the gatehouse process, and with an environment
 * holding only `GATEHOUSE_GATE_TOKEN`. A gate that reads its ancestors' environments
 * (`/proc/$PPID/environ` and up) finds no secret there, whatever the environment gatehouse was
 * started with.
 *
 * fd 0 is a socket to the runner. The runner sends one JSON line, `{command, cwd, env,
 * killGraceMs, wrap?}` (the gate's environment never appears in this process's own), and reads lines
 * back: `{pid, supervisor}` once the gate started, `{error}` when it could not start,
 * `{exit: {code, signal}}` when it ended. fds 1 and 2 are the gate's output pipes; this process
 * hands them to the gate and keeps no copy.
 *
 * When the socket closes — the runner is done with the gate, or it died (`kill -9`) — or this
 * process gets SIGTERM or SIGHUP, it stops what is left of the gate's process tree and exits.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { MARKER_VAR, terminateTree } from './proc-tree.mjs';

const marker = process.env[MARKER_VAR] ?? '';
const control = new Socket({ fd: 0, readable: true, writable: true });
/** @type {number | undefined} */
let gatePid;
let started = false;
let graceMs = 5_000;
let buffered = '';
let stopping = false;

/** @param {unknown} message */
function send(message) {
  if (control.writable) control.write(`${JSON.stringify(message)}\n`);
}

/** The output pipes belong to the gate now: put /dev/null in their place here. */
function releaseOutput() {
  for (const fd of [1, 2]) {
    closeSync(fd);
    openSync('/dev/null', 'w'); // takes the lowest free descriptor: the one just closed
  }
}

/**
 * @param {{ command: string, cwd: string, env: Record<string, string>, killGraceMs: number,
 *   wrap?: { argv: string[], argsFile?: string } }} spec
 */
function start(spec) {
  started = true;
  graceMs = spec.killGraceMs;
  // A wrapper (the sandbox's bwrap) runs `/bin/sh -c <command>` itself; its arguments file is fd 3.
  const wrap = spec.wrap;
  /** @type {number | undefined} */
  let argsFd;
  let child;
  try {
    if (wrap?.argsFile) argsFd = openSync(wrap.argsFile, 'r');
    const [file, ...args] = wrap
      ? [...wrap.argv, '/bin/sh', '-c', spec.command]
      : ['/bin/sh', '-c', spec.command];
    child = spawn(/** @type {string} */ (file), args, {
      cwd: spec.cwd,
      env: { ...spec.env, [MARKER_VAR]: marker },
      detached: true,
      stdio: argsFd === undefined ? ['ignore', 1, 2] : ['ignore', 1, 2, argsFd],
    });
  } catch (err) {
    if (argsFd !== undefined) closeSync(argsFd);
    releaseOutput();
    send({ error: /** @type {Error} */ (err).message });
    return;
  }
  if (argsFd !== undefined) closeSync(argsFd);
  releaseOutput();
  gatePid = child.pid;
  child.once('spawn', () => send({ pid: child.pid, supervisor: process.pid }));
  child.once('error', (err) => send({ error: err.message }));
  child.once('exit', (code, signal) => send({ exit: { code, signal } }));
}

async function stop() {
  if (stopping) return;
  stopping = true;
  await terminateTree({ marker, pgid: gatePid }, graceMs);
  process.exit(0);
}

control.setEncoding('utf8');
control.on('data', (/** @type {string} */ chunk) => {
  if (started || stopping) return;
  buffered += chunk;
  const nl = buffered.indexOf('\n');
  if (nl === -1) return;
  const line = buffered.slice(0, nl);
  buffered = '';
  try {
    start(JSON.parse(line));
  } catch (err) {
    send({ error: `bad request: ${/** @type {Error} */ (err).message}` });
  }
});
control.on('error', () => undefined);
control.on('end', () => void stop());
control.on('close', () => void stop());
process.on('SIGTERM', () => void stop());
process.on('SIGHUP', () => void stop());
