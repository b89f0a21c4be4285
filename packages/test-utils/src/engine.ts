/**
 * A second, empty Docker engine for tests that play a fresh machine (a CI agent): its own data
 * root, exec root, socket and pid file in a temporary directory, and its own Linux bridge so
 * BuildKit's `RUN` steps get a network namespace without touching the main engine's `docker0`
 * or iptables. Needs root (as the Docker tests do).
 *
 * Never `--bridge none`: dockerd then deletes the host's `docker0` interface
 * (`removeDefaultBridgeInterface`), which breaks every `RUN` of the main engine.
 */
import { spawn, execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';

const run = promisify(execFile);

/** A running engine; `stop` ends it and removes its directories and bridge. */
export interface TestEngine {
  /** `unix://…`, for `DOCKER_HOST`. */
  host: string;
  docker: Dockerode;
  stop(): Promise<void>;
}

async function waitFor(what: string, ms: number, ok: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts `dockerd` on a fresh state directory; rejects with its log when it does not answer. */
export async function startEngine(): Promise<TestEngine> {
  const dir = await mkdtemp(join(tmpdir(), 'gh-dockerd-'));
  const bridge = `ghbk${randomBytes(3).toString('hex')}`;
  const subnet = `10.${randomInt(200, 250)}.${randomInt(1, 254)}`;
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  const removeBridge = () => run('ip', ['link', 'del', bridge]).catch(() => undefined);
  try {
    await run('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
    await run('ip', ['link', 'set', bridge, 'up']);
  } catch (err) {
    await removeBridge();
    throw err;
  }
  const socket = join(dir, 'docker.sock');
  const logPath = join(dir, 'dockerd.log');
  const log = openSync(logPath, 'a');
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--host',
      `unix://${socket}`,
      '--pidfile',
      join(dir, 'dockerd.pid'),
      '--bridge',
      bridge,
      '--iptables=false',
      '--ip-masq=false',
      '--ip-forward=false',
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const docker = new Dockerode({ socketPath: socket });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    await removeBridge();
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  };
  try {
    await waitFor('the second dockerd', 60_000, async () => {
      if (child.exitCode !== null) throw new Error('dockerd exited');
      await docker.ping();
      return true;
    });
  } catch (err) {
    const text = await readFile(logPath, 'utf8').catch(() => '');
    await stop();
    throw new Error(
      `second dockerd did not start: ${(err as Error).message}\n${text.slice(-2000)}`,
    );
  }
  return { host: `unix://${socket}`, docker, stop };
}

/** Copies an image from one engine to another (save, then load), as a fresh machine gets its base image. */
export async function copyImage(from: Dockerode, to: Dockerode, ref: string): Promise<void> {
  const saved = (await from.getImage(ref).get()) as NodeJS.ReadableStream;
  const loading = await to.loadImage(saved, { quiet: true });
  let text = '';
  for await (const chunk of loading as AsyncIterable<Buffer>) text += chunk.toString();
  if (/"error/.test(text)) throw new Error(`loading ${ref} failed: ${text}`);
  await to.getImage(ref).inspect();
}

/**
 * A fresh CI agent: an empty engine holding only `images`, copied from the main engine as a pull
 * would give them.
 */
export async function startAgent(images: readonly string[]): Promise<TestEngine> {
  const engine = await startEngine();
  try {
    const main = new Dockerode();
    for (const ref of images) await copyImage(main, engine.docker, ref);
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}
