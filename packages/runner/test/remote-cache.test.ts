import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { GateResult, RunEvent, RunReport } from '@gatehouse-ci/core';
import { validateReportSchema } from '@gatehouse-ci/report';
import { freePort, gate } from '@gatehouse-ci/test-utils';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { explain } from '../src/explain.js';
import { artifactTag, RemoteCacheClient, type RemoteCacheConfig } from '../src/remote-cache.js';
import { gzipArtifact, tarArtifact, type ArtifactManifest } from '../src/remote-artifact.js';
import { pipe, project, run, status } from './helpers.js';
import { serverInstalled, startCacheServer, type CacheServer } from './remote-server.js';

const CANARY = 'canary-secret-5b2e9d41';
const JUNIT = `<?xml version="1.0"?>
<testsuites><testsuite name="s" tests="3" failures="0">
<testcase name="a" classname="s"/><testcase name="b" classname="s"/><testcase name="c" classname="s"/>
</testsuite></testsuites>
`;

/** A project in git: a build with outputs and evidence, a gate that needs it, one keyed on git's files, two with secrets, one that fails. */
function gates() {
  return [
    gate('build', {
      inputs: ['src/**'],
      outputs: ['dist/**'],
      run: 'mkdir -p dist && cat src/app.js > dist/app.js && cp junit.xml "$GATEHOUSE_OUT/junit.xml" && echo built',
      evidence: [{ format: 'junit', path: 'junit.xml' }],
    }),
    gate('check', {
      needs: ['build'],
      inputs: ['dist/**'],
      run: 'grep -q app dist/app.js && echo checked',
    }),
    gate('lint', { run: 'echo lint ok' }),
    // Prints its secret: the log is redacted, so the result is shared.
    gate('sonar', { inputs: ['src/**'], secrets: ['CANARY'], run: 'echo "token is $CANARY"' }),
    // Writes its secret into its evidence and outputs: never uploaded.
    gate('leaky', {
      inputs: ['src/**'],
      secrets: ['CANARY'],
      outputs: ['leak/**'],
      run: 'mkdir -p leak && echo "$CANARY" > leak/token.txt && echo "$CANARY" > "$GATEHOUSE_OUT/raw.txt"',
    }),
    gate('flaky', { inputs: ['src/**'], mode: 'advisory', run: 'echo nope && exit 3' }),
  ];
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    stdio: 'pipe',
  }).toString();

/** `salt` makes the keys of this project its own, so tests sharing a server do not meet. */
async function cloneA(salt: string): Promise<string> {
  const dir = await project({
    'src/app.js': 'app\n',
    'src/salt.js': `// ${salt}\n`,
    'junit.xml': JUNIT,
    '.gitignore': '.gatehouse/\ndist/\nleak/\n',
  });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'init');
  return dir;
}

function cloneOf(dir: string): string {
  const to = mkdtempSync(join(tmpdir(), 'gh-clone-'));
  git(dir, 'clone', '-q', dir, to);
  return to;
}

const warnings = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'message' && e.level === 'warn' ? [e.text] : []));

const config = (s: CacheServer, over: Partial<RemoteCacheConfig> = {}): RemoteCacheConfig => ({
  url: s.url,
  token: s.token,
  team: s.team,
  signatureKey: null,
  readOnly: false,
  timeoutMs: 5000,
  maxBytes: 64 * 1024 * 1024,
  ...over,
});

/** Run with the canary secret set and a state key of this test's own. */
function runIn(dir: string, remoteCache: RemoteCacheConfig | null, stateHome: string) {
  return run(pipe(dir, gates()), {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      XDG_STATE_HOME: stateHome,
      CANARY,
    },
    remoteCache,
  });
}

/** What must be the same between a run and its replay from the cache. */
const replayed = (g: GateResult) => ({
  id: g.id,
  status: g.status === 'cached' ? g.cached!.status : g.status,
  exitCode: g.exitCode,
  evidence: g.evidence,
  thresholds: g.thresholds,
  log: g.log.sha256,
  commandSha256: g.commandSha256,
});
const byId = (r: RunReport) => Object.fromEntries(r.gates.map((g) => [g.id, g]));

/** Unpacked artifact on the server's disk. */
function unpack(path: string): { tar: Buffer; manifest: ArtifactManifest } {
  const tar = gunzipSync(readFileSync(path));
  const len = parseInt(tar.subarray(124, 136).toString('ascii'), 8);
  const manifest = JSON.parse(tar.subarray(512, 512 + len).toString('utf8')) as ArtifactManifest;
  return { tar, manifest };
}

const CI = process.env.CI === 'true';

// Under CI=true a missing or broken server fails these tests; they are never skipped there.
describe.skipIf(!serverInstalled && !CI)('remote cache against turborepo-remote-cache', () => {
  let server: CacheServer;
  let signed: CacheServer;
  const dirs: string[] = [];
  let stateHome = '';
  beforeAll(async () => {
    server = await startCacheServer();
    signed = await startCacheServer({ signing: true });
    stateHome = mkdtempSync(join(tmpdir(), 'gh-state-'));
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), signed?.stop()]);
    await rm(stateHome, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  const track = (d: string) => (dirs.push(d), d);

  it('a second clone whose every gate is on the server does not run setup; one change makes it run', async () => {
    // A server of its own: the other tests count what is on theirs.
    const own = await startCacheServer();
    try {
      await setupSkipped(own);
    } finally {
      await own.stop();
    }
  }, 60_000);

  async function setupSkipped(server: CacheServer): Promise<void> {
    const setupGates = () => [
      gate('build', {
        inputs: ['src/**'],
        outputs: ['dist/**'],
        run: 'test -f installed && mkdir -p dist && cat src/app.js > dist/app.js',
      }),
      gate('check', { needs: ['build'], inputs: ['dist/**'], run: 'grep -q app dist/app.js' }),
      gate('lint', { inputs: ['src/**'], run: 'test -f installed' }),
    ];
    const withSetup = (dir: string) =>
      pipe(dir, setupGates(), {
        // What setup installs, the gates need: `installed` stands for node_modules.
        setup: { run: 'echo x >> installed', inputs: [], env: {}, secrets: [], timeoutMs: 60_000 },
      });
    const opts = (remoteCache: RemoteCacheConfig) => ({
      env: { PATH: process.env.PATH, HOME: process.env.HOME, XDG_STATE_HOME: stateHome },
      remoteCache,
    });
    const a = track(await cloneA('t-setup'));
    writeFileSync(join(a, '.gitignore'), '.gatehouse/\ndist/\ninstalled\n');
    git(a, 'add', '-A');
    git(a, 'commit', '-q', '-m', 'ignore installed');
    const first = await run(withSetup(a), opts(config(server)));
    expect(first.report.setup?.status).toBe('passed');
    expect(first.report.verdict.status).toBe('passed');

    const b = track(cloneOf(a));
    const second = await run(withSetup(b), opts(config(server)));
    expect(second.report.setup).toMatchObject({ status: 'unneeded', durationMs: 0 });
    expect(existsSync(join(b, 'installed'))).toBe(false);
    expect(status(second.report)).toEqual({ build: 'cached', check: 'cached', lint: 'cached' });
    for (const g of second.report.gates) expect(g.cached?.from).toBe('remote');
    expect(readFileSync(join(b, 'dist', 'app.js'), 'utf8')).toBe('app\n');
    expect(second.events).toContainEqual(
      expect.objectContaining({
        type: 'message',
        level: 'info',
        text: 'setup not run: the results of all 3 gates are in the cache',
      }),
    );
    expect(validateReportSchema(second.report)).toEqual([]);

    // A third clone with a change: one gate must run, so setup runs first, and the gate sees it.
    const c = track(cloneOf(a));
    writeFileSync(join(c, 'src', 'app.js'), 'app two\n');
    const third = await run(withSetup(c), opts(config(server)));
    expect(third.report.setup?.status).toBe('passed');
    expect(readFileSync(join(c, 'installed'), 'utf8')).toBe('x\n');
    expect(status(third.report)).toEqual({ build: 'passed', check: 'passed', lint: 'passed' });
  }

  it('a run uploads; a second clone with an empty local cache replays every cacheable gate from it', async () => {
    const a = track(await cloneA('t1'));
    const first = await runIn(a, config(server), stateHome);
    expect(status(first.report)).toEqual({
      build: 'passed',
      check: 'passed',
      lint: 'passed',
      sonar: 'passed',
      leaky: 'passed',
      flaky: 'failed',
    });
    expect(warnings(first.events)).toEqual([
      'gate leaky is not uploaded to the remote cache: its log, evidence or outputs contain a secret value',
    ]);
    // build, check, lint and sonar: the passes without a secret in their bytes.
    const stored = server.artifacts().map((p) => unpack(p).manifest.entry.manifest.gate);
    expect(stored.sort()).toEqual(['build', 'check', 'lint', 'sonar']);

    // HEAD answers for what is there and what is not.
    const client = new RemoteCacheClient(config(server));
    expect(await client.has(unpack(server.artifacts()[0]!).manifest.key)).toBe(true);
    expect(await client.has('0'.repeat(64))).toBe(false);
    expect(
      await new RemoteCacheClient(config(server, { token: 'wrong' })).has('0'.repeat(64)),
    ).toBeNull();

    const b = track(cloneOf(a));
    // explain asks the server about what the new clone's local cache lacks.
    const said = await explain(pipe(b, gates()), {
      env: { PATH: process.env.PATH, CANARY },
      remoteCache: config(server),
    });
    const actions = Object.fromEntries(said.map((e) => [e.id, e.action]));
    expect(actions).toMatchObject({
      build: 'cached',
      lint: 'cached',
      sonar: 'cached',
      leaky: 'run',
      flaky: 'run',
    });
    expect(said.find((e) => e.id === 'build')!.reasons[0]).toMatch(/^on the remote cache: /);
    expect(said.find((e) => e.id === 'leaky')!.reasons).toContain('not on the remote cache either');
    const unasked = await explain(pipe(b, gates()), {
      env: { PATH: process.env.PATH, CANARY },
      remoteCache: null,
    });
    expect(unasked.find((e) => e.id === 'build')!.action).toBe('run');
    const down = await explain(pipe(b, gates()), {
      env: { PATH: process.env.PATH, CANARY },
      remoteCache: { ...config(server), url: `http://127.0.0.1:${await freePort()}` },
    });
    expect(down.find((e) => e.id === 'build')).toMatchObject({ action: 'run' });
    expect(down.find((e) => e.id === 'build')!.reasons).toContain(
      'the remote cache did not answer',
    );

    const second = await runIn(b, config(server), stateHome);
    expect(status(second.report)).toEqual({
      build: 'cached',
      check: 'cached',
      lint: 'cached',
      sonar: 'cached',
      leaky: 'passed',
      flaky: 'failed',
    });
    const A = byId(first.report);
    const B = byId(second.report);
    for (const id of ['build', 'check', 'lint', 'sonar']) {
      expect(B[id]!.cached).toEqual({
        status: 'passed',
        key: A[id]!.cached?.key ?? B[id]!.cached!.key,
        runId: first.report.runId,
        from: 'remote',
      });
      expect(replayed(B[id]!)).toEqual(replayed(A[id]!));
    }
    expect(B.build!.evidence.tests).toMatchObject({ total: 3, passed: 3 });
    expect(second.report.verdict.status).toBe(first.report.verdict.status);
    expect(second.report.verdict.reasons).toEqual(first.report.verdict.reasons);
    // The outputs came along, and the gate that needs them ran against them.
    expect(readFileSync(join(b, 'dist', 'app.js'), 'utf8')).toBe('app\n');
    const log = readFileSync(
      join(b, '.gatehouse', 'runs', second.report.runId, 'logs', 'check.log'),
      'utf8',
    );
    expect(log).toBe('checked\n');

    // The report says where the hits came from, and stays valid against its schema.
    expect(validateReportSchema(second.report)).toEqual([]);
    const html = readFileSync(
      join(b, '.gatehouse', 'runs', second.report.runId, 'report.html'),
      'utf8',
    );
    expect(html.match(/, from the remote cache/g)).toHaveLength(4);

    // A third run in B replays from its own cache now.
    const third = await runIn(b, config(server), stateHome);
    expect(byId(third.report).build!.cached!.from).toBeUndefined();
    expect(byId(third.report).build!.status).toBe('cached');

    // The canary never reached the server, compressed or not.
    for (const p of server.artifacts()) {
      expect(readFileSync(p).includes(CANARY)).toBe(false);
      expect(unpack(p).tar.includes(CANARY)).toBe(false);
    }
  });

  it('a corrupted artifact on the server is refused with one warning and the gate reruns', async () => {
    const a = track(await cloneA('t2'));
    // The server keeps the artifacts of earlier tests too: only this run's are edited.
    const before = new Set(server.artifacts());
    const ours = () => server.artifacts().filter((p) => !before.has(p));
    await runIn(a, config(server), stateHome);
    const b = track(cloneOf(a));
    // Flip a byte of the build's log inside its artifact, keeping the gzip valid.
    const path = ours().find((p) => unpack(p).manifest.entry.manifest.gate === 'build')!;
    const { tar } = unpack(path);
    const at = tar.indexOf('built\n');
    expect(at).toBeGreaterThan(0);
    tar[at] = 'B'.charCodeAt(0);
    writeFileSync(path, gzipArtifact(tar));
    // And the lint artifact is no gzip at all any more.
    const lint = ours().find((p) => unpack(p).manifest.entry.manifest.gate === 'lint')!;
    writeFileSync(lint, 'not an artifact');

    const second = await runIn(b, config(server), stateHome);
    expect(status(second.report)).toMatchObject({
      build: 'passed',
      lint: 'passed',
      check: 'cached',
      sonar: 'cached',
    });
    const w = warnings(second.events).filter((t) => t.startsWith('remote cache artifact'));
    expect(w).toHaveLength(2);
    expect(w.find((t) => t.includes('gate build'))).toMatch(
      /log\.txt does not match its size and sha256\); running the gate$/,
    );
    expect(w.find((t) => t.includes('gate lint'))).toMatch(/not a gzip stream/);
    expect(
      readFileSync(join(b, '.gatehouse', 'runs', second.report.runId, 'logs', 'build.log'), 'utf8'),
    ).toBe('built\n');
  });

  it('with a signing key, a forged artifact (consistent, but signed with another key) is refused', async () => {
    const key = 'team-signing-key-1';
    const a = track(await cloneA('t3'));
    const before = new Set(signed.artifacts());
    await runIn(a, config(signed, { signatureKey: key }), stateHome);
    const path = signed
      .artifacts()
      .filter((p) => !before.has(p))
      .find((p) => unpack(p).manifest.entry.manifest.gate === 'build')!;
    // A self-consistent forgery: a different log, listed with its own size and sha256.
    const { manifest } = unpack(path);
    const forgedLog = Buffer.from('forged build\n');
    const entry = {
      ...manifest.entry,
      files: manifest.entry.files.map((f) =>
        f.path === 'log.txt'
          ? {
              path: f.path,
              bytes: forgedLog.length,
              sha256: createHash('sha256').update(forgedLog).digest('hex'),
            }
          : f,
      ),
    };
    const original = unpack(path).tar;
    const files = new Map<string, Buffer>();
    for (const f of manifest.entry.files) files.set(f.path, fileIn(original, f.path));
    files.set('log.txt', forgedLog);
    const forged = gzipArtifact(tarArtifact(manifest.key, entry, files));
    writeFileSync(path, forged);
    writeFileSync(`${path}.tag`, artifactTag('not-the-team-key', forged, signed.team));

    // Without the key, the forgery would be taken: it is consistent with the key it claims.
    const b = track(cloneOf(a));
    const second = await runIn(b, config(signed, { signatureKey: key }), stateHome);
    expect(status(second.report)).toMatchObject({ build: 'passed', check: 'cached' });
    expect(warnings(second.events).filter((t) => t.startsWith('remote cache artifact'))).toEqual([
      expect.stringMatching(
        /^remote cache artifact [0-9a-f]{12} of gate build is refused \(its signature does not match\); running the gate$/,
      ),
    ]);
    expect(
      readFileSync(join(b, '.gatehouse', 'runs', second.report.runId, 'logs', 'build.log'), 'utf8'),
    ).toBe('built\n');

    // The same forgery signed with the team's key passes every check: whoever holds the key
    // and write access can poison the cache (decision 0010). (B's rerun uploaded a good build.)
    writeFileSync(path, forged);
    writeFileSync(`${path}.tag`, artifactTag(key, forged, signed.team));
    const c = track(cloneOf(a));
    const third = await runIn(c, config(signed, { signatureKey: key }), stateHome);
    expect(byId(third.report).build!.status).toBe('cached');
    expect(
      readFileSync(join(c, '.gatehouse', 'runs', third.report.runId, 'logs', 'build.log'), 'utf8'),
    ).toBe('forged build\n');
  });

  it('read-only never uploads, and still reads', async () => {
    const a = track(await cloneA('t4'));
    const ro = await startCacheServer();
    try {
      const first = await runIn(a, config(ro, { readOnly: true }), stateHome);
      expect(status(first.report)).toMatchObject({ build: 'passed', lint: 'passed' });
      expect(ro.artifacts()).toEqual([]);
      expect(warnings(first.events)).toEqual([]);
      // Filled by a read-write run, read by a read-only one.
      await runIn(track(cloneOf(a)), config(ro), stateHome);
      const c = track(cloneOf(a));
      const before = ro.artifacts().length;
      const third = await runIn(c, config(ro, { readOnly: true }), stateHome);
      expect(byId(third.report).build!.cached?.from).toBe('remote');
      expect(ro.artifacts()).toHaveLength(before);
    } finally {
      await ro.stop();
    }
  });

  it('a server that refuses uploads is warned about once and still read; a wrong token is one warning', async () => {
    const ro = await startCacheServer({ readOnly: true });
    try {
      const a = track(await cloneA('t7'));
      const first = await runIn(a, config(server), stateHome);
      // The read-only server holds what the read-write one stored (its files, copied on disk).
      mkdirSync(join(ro.storage, ro.team), { recursive: true });
      for (const p of server.artifacts()) copyFileSync(p, join(ro.storage, ro.team, basename(p)));

      const b = track(cloneOf(a));
      const second = await runIn(b, config(ro), stateHome);
      expect(status(second.report)).toMatchObject({
        build: 'cached',
        check: 'cached',
        sonar: 'cached',
        leaky: 'passed',
      });
      expect(byId(second.report).build!.cached!.from).toBe('remote');
      // leaky ran and would be uploaded but for its secret; nothing else ran and passed.
      const c = track(cloneOf(a));
      await writeFile(join(c, 'src', 'extra.js'), 'more\n');
      git(c, 'add', '-A');
      git(c, 'commit', '-q', '-m', 'more');
      const third = await runIn(c, config(ro), stateHome);
      expect(status(third.report)).toMatchObject({ build: 'passed', sonar: 'passed' });
      expect(warnings(third.events).filter((t) => t.startsWith('remote cache'))).toEqual([
        'remote cache refuses uploads (PUT answered 403 Forbidden); results of this run are not shared',
      ]);

      const d = track(cloneOf(a));
      const wrong = await runIn(d, config(server, { token: 'not-the-token' }), stateHome);
      expect(status(wrong.report)).toEqual(status(first.report));
      expect(warnings(wrong.events).filter((t) => t.includes('remote cache not used'))).toEqual([
        'remote cache not used for the rest of this run: GET answered 401 Unauthorized; running with the local cache only',
      ]);
    } finally {
      await ro.stop();
    }
  });

  it('a server that is down: local cache only, one warning for the whole run, same verdict', async () => {
    const a = track(await cloneA('t5'));
    const port = await freePort();
    const local = await runIn(track(cloneOf(a)), null, stateHome);
    const down = await runIn(a, { ...config(server), url: `http://127.0.0.1:${port}` }, stateHome);
    expect(status(down.report)).toEqual(status(local.report));
    expect(down.report.verdict).toEqual(local.report.verdict);
    const w = warnings(down.events).filter((t) => t.includes('remote cache'));
    expect(w).toEqual([
      'remote cache not used for the rest of this run: ECONNREFUSED; running with the local cache only',
    ]);
    // The local cache still works: a rerun replays from it.
    const again = await runIn(a, { ...config(server), url: `http://127.0.0.1:${port}` }, stateHome);
    expect(byId(again.report).build!.status).toBe('cached');
  });

  it('a server that never answers: short timeout, one warning, the run goes on', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const a = track(await cloneA('t6'));
      const t0 = Date.now();
      const r = await runIn(
        a,
        { ...config(server), url: `http://127.0.0.1:${port}`, timeoutMs: 300 },
        stateHome,
      );
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(status(r.report)).toMatchObject({ build: 'passed', check: 'passed', lint: 'passed' });
      expect(warnings(r.events).filter((t) => t.includes('remote cache not used'))).toEqual([
        'remote cache not used for the rest of this run: no answer in time; running with the local cache only',
      ]);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

/** The bytes of member `name` of an uncompressed tar written by tarArtifact. */
function fileIn(tar: Buffer, name: string): Buffer {
  let at = 0;
  let long: string | null = null;
  while (at + 512 <= tar.length && !tar.subarray(at, at + 512).every((b) => b === 0)) {
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('ascii'), 8);
    const type = String.fromCharCode(tar[at + 156]!);
    const data = tar.subarray(at + 512, at + 512 + size);
    const n =
      long ??
      tar
        .subarray(at, at + 100)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    if (type === 'x') long = /path=([^\n]*)\n/.exec(data.toString('utf8'))![1]!;
    else {
      long = null;
      if (n === name) return Buffer.from(data);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`${name} is not in the artifact`);
}
