/**
 * The real `turborepo-remote-cache` server (tools/turborepo-remote-cache, installed by
 * scripts/setup.sh), started on a free localhost port with local storage in a temp dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@gatehouse-ci/test-utils';

const TOOL = fileURLToPath(new URL('../../../tools/turborepo-remote-cache/', import.meta.url));
/** The server's entry point. */
export const SERVER_CLI = join(TOOL, 'node_modules', 'turborepo-remote-cache', 'dist', 'cli.js');
export const serverInstalled = existsSync(SERVER_CLI);

export interface CacheServer {
  url: string;
  token: string;
  team: string;
  /** Where the server keeps artifacts: `<storage>/<team>/<hash>` (and `<hash>.tag`). */
  storage: string;
  /** Artifact files (not tags) the server holds, as absolute paths. */
  artifacts(): string[];
  stop(): Promise<void>;
}

/**
 * Start the server; with `signing`, it stores and serves `x-artifact-tag` (it does not check
 * signatures itself: clients do); with `readOnly`, it refuses every upload (403). Throws when it
 * does not answer within 20 s.
 */
export async function startCacheServer(
  opts: { signing?: boolean; readOnly?: boolean } = {},
): Promise<CacheServer> {
  if (!serverInstalled)
    throw new Error(
      `turborepo-remote-cache is not installed at ${SERVER_CLI}: run scripts/setup.sh (or npm ci in tools/turborepo-remote-cache)`,
    );
  const storage = mkdtempSync(join(tmpdir(), 'gh-remote-cache-'));
  const port = await freePort();
  const token = 'test-token-7f3a';
  const team = 'gatehouse-tests';
  const child: ChildProcess = spawn(process.execPath, [SERVER_CLI], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      STORAGE_PROVIDER: 'local',
      STORAGE_PATH: storage,
      STORAGE_PATH_USE_TMP_FOLDER: 'false',
      TURBO_TOKEN: token,
      ...(opts.signing ? { TURBO_REMOTE_CACHE_SIGNATURE_KEY: 'server-stores-tags' } : {}),
      ...(opts.readOnly ? { READ_ONLY: 'true' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`turborepo-remote-cache exited with ${child.exitCode}: ${output}`);
    try {
      const res = await fetch(`${url}/v8/artifacts/status`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`turborepo-remote-cache did not answer on ${url} in 20 s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    token,
    team,
    storage,
    artifacts: () => {
      const dir = join(storage, team);
      if (!existsSync(dir)) return [];
      return readdirSync(dir)
        .filter((n) => !n.endsWith('.tag'))
        .map((n) => join(dir, n))
        .filter((p) => statSync(p).isFile());
    },
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(storage, { recursive: true, force: true });
    },
  };
}
