/**
 * A container registry on localhost for tests of the CI targets' registry build cache: Debian's
 * `docker-registry` (the CNCF distribution server), filesystem storage in a temporary directory,
 * no auth. A Docker engine treats `127.0.0.0/8` as an insecure registry, so plain HTTP works.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';

const BIN = '/usr/bin/docker-registry';
const INSTALL_HINT = 'bash scripts/setup.sh --system (installs the Debian package docker-registry)';

/** A running registry; `host` is `127.0.0.1:PORT`. */
export interface TestRegistry {
  host: string;
  stop(): Promise<void>;
}

/**
 * For `describe.skipIf(!requireRegistry())`: true when the registry server is installed. Without
 * it, throws under `CI=true` (a CI run must not pass by skipping) and otherwise warns.
 */
export function requireRegistry(what: string): boolean {
  if (existsSync(BIN)) return true;
  if (process.env.CI === 'true')
    throw new Error(`${what} need ${BIN}; ${INSTALL_HINT}; CI=true: not skipping`);
  console.warn(`skipping ${what}: ${BIN} is missing (${INSTALL_HINT})`);
  return false;
}

/** Starts an empty registry; rejects with its log when it does not answer within 30 s. */
export async function startRegistry(): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'gh-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = join(dir, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
      `http: { addr: "${host}" }`,
      '',
    ].join('\n'),
  );
  const logPath = join(dir, 'registry.log');
  const log = openSync(logPath, 'a');
  const child = spawn(BIN, ['serve', config], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`http://${host}/v2/`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return { host, stop };
    if (child.exitCode !== null || Date.now() > until) {
      const text = await readFile(logPath, 'utf8').catch(() => '');
      await stop();
      throw new Error(`the test registry did not start on ${host}\n${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
