// The remote cache on the storefront example, against the real turborepo-remote-cache server
// (tools/turborepo-remote-cache) on localhost:
//   1. a clone with an empty local cache and no remote cache (the baseline);
//   2. a clone with an empty local cache and an empty server: every gate misses and uploads;
//   3. a second clone of the same commit, empty local cache: every cacheable gate from the server.
// Each run is a full `gatehouse run` (setup included: `npm ci` is not cached remotely).
//   node bench/remote-cache.mjs [rounds]     (after `pnpm build` and scripts/setup.sh)
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'apps/cli/bin/gatehouse.js');
const serverCli = join(
  root,
  'tools/turborepo-remote-cache/node_modules/turborepo-remote-cache/dist/cli.js',
);
const { fetch } = globalThis;
const rounds = Number(process.argv[2] ?? 1);
const work = mkdtempSync(join(tmpdir(), 'gh-remote-bench-'));
// A token is searched for in every upload: a short common word would be found in paths.
const token = randomBytes(16).toString('hex');
const git = (cwd, ...args) =>
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', ...args], {
    cwd,
    stdio: 'pipe',
  });

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer() {
  const storage = mkdtempSync(join(work, 'storage-'));
  const artifacts = () =>
    readdirSync(join(storage, 'bench'))
      .filter((n) => !n.endsWith('.tag'))
      .map((n) => readFileSync(join(storage, 'bench', n)));
  const port = await freePort();
  const child = spawn(process.execPath, [serverCli], {
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
    },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`${url}/v8/artifacts/status`, {
      headers: { authorization: `Bearer ${token}` },
    })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return { url, artifacts, stop: () => child.kill('SIGTERM') };
    await setTimeout(100);
  }
  throw new Error('turborepo-remote-cache did not start');
}

function repo(name) {
  const dir = join(work, name);
  cpSync(join(root, 'examples/storefront'), dir, {
    recursive: true,
    filter: (src) => !/\/(node_modules|dist|coverage|reports|\.gatehouse\/(?!docker))/.test(src),
  });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'storefront');
  return dir;
}

function run(dir, remote) {
  const env = {
    ...process.env,
    CI: 'true',
    XDG_STATE_HOME: join(work, 'state'),
    ...(remote
      ? {
          GATEHOUSE_REMOTE_CACHE_URL: remote.url,
          GATEHOUSE_REMOTE_CACHE_TEAM: 'bench',
          GATEHOUSE_REMOTE_CACHE_TOKEN: token,
        }
      : {}),
  };
  const t0 = performance.now();
  const out = execFileSync(process.execPath, [bin, 'run', '--json'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  const report = JSON.parse(readFileSync(join(dir, '.gatehouse/report/report.json'), 'utf8'));
  const setupMs = report.setup?.durationMs ?? 0;
  const statuses = Object.fromEntries(
    report.gates.map((g) => [
      g.id,
      g.status === 'cached' ? `cached${g.cached.from ? `:${g.cached.from}` : ''}` : g.status,
    ]),
  );
  const warnings = out
    .toString()
    .split('\n')
    .filter((l) => l.includes('"level":"warn"'))
    .map((l) => JSON.parse(l).text);
  return { ms, setupMs, gatesMs: ms - setupMs, verdict: report.verdict.status, statuses, warnings };
}

const fmt = (r) =>
  `${(r.ms / 1000).toFixed(1)} s (setup ${(r.setupMs / 1000).toFixed(1)} s, rest ${(r.gatesMs / 1000).toFixed(1)} s) ${r.verdict} ${JSON.stringify(r.statuses)}${r.warnings.length ? ` warnings: ${JSON.stringify(r.warnings)}` : ''}`;

try {
  for (let i = 0; i < rounds; i++) {
    const server = await startServer();
    try {
      const base = run(repo(`base-${i}`), null);
      const a = repo(`a-${i}`);
      const first = run(a, server);
      const b = join(work, `b-${i}`);
      git(work, 'clone', '-q', a, b);
      const second = run(b, server);
      // What the remote cache itself costs a gate that misses: one GET answered 404 and one PUT
      // of the artifact the first clone uploaded, each timed alone (the runs above are too
      // noisy on a shared machine to show a few milliseconds).
      const { RemoteCacheClient } = await import('../packages/runner/dist/remote-cache.js');
      const client = new RemoteCacheClient({
        url: server.url,
        token,
        team: 'bench',
        signatureKey: null,
        readOnly: false,
        timeoutMs: 10_000,
        maxBytes: 512 * 1024 * 1024,
      });
      const bodies = server.artifacts();
      const t0 = performance.now();
      for (const body of bodies) {
        const key = randomBytes(32).toString('hex');
        if ((await client.get(key)).kind !== 'missing') throw new Error('expected a miss');
        if ((await client.put(key, body, 1000)) !== null) throw new Error('PUT failed');
      }
      const missMs = performance.now() - t0;
      const bytes = bodies.reduce((n, b) => n + b.length, 0);
      console.log(`round ${i + 1}`);
      console.log(
        `  ${bodies.length} artifacts, ${(bytes / 1024).toFixed(0)} KiB gzipped; GET 404 + PUT of all: ${missMs.toFixed(0)} ms ` +
          `(${((missMs / base.gatesMs) * 100).toFixed(1)}% of the gates' time without a remote cache, ` +
          `${((missMs / base.ms) * 100).toFixed(1)}% of the whole run)`,
      );
      console.log(`  no remote cache:           ${fmt(base)}`);
      console.log(`  first clone, misses+PUTs:  ${fmt(first)}`);
      console.log(`  second clone, remote hits: ${fmt(second)}`);
      console.log(
        `  miss overhead ${(((first.ms - base.ms) / base.ms) * 100).toFixed(1)}% (whole run), ` +
          `${(((first.gatesMs - base.gatesMs) / base.gatesMs) * 100).toFixed(1)}% (after setup); ` +
          `second clone ${(first.ms / second.ms).toFixed(1)}x faster (whole run), ` +
          `${(first.gatesMs / second.gatesMs).toFixed(1)}x (after setup)`,
      );
    } finally {
      server.stop();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
