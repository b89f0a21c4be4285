import { execFileSync } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent, RunReport } from '@gatehouse-ci/core';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { explain, type GateExplanation } from '../src/index.js';
import { cleanup, pipe, project, run, status, writtenReport } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

const entries = () => readdirSync(join(dir, '.gatehouse', 'cache', 'entries'));

function graph(nodeEnv = 'production') {
  return [
    gate('build', {
      inputs: ['src/**'],
      outputs: ['dist/**'],
      env: { NODE_ENV: nodeEnv },
      run: 'mkdir -p dist && cat src/*.js > dist/app.js && echo built >> build-count && echo "{}" > $GATEHOUSE_OUT/e.json',
    }),
    gate('check', {
      needs: ['build'],
      inputs: ['dist/**'],
      run: 'grep -q app dist/app.js && echo checked',
    }),
    gate('lint', { inputs: ['src/**'], run: 'echo lint' }),
  ];
}

async function runExplained(p: ReturnType<typeof pipe>, over = {}) {
  const ex: GateExplanation[] = [];
  const r = await run(p, { onExplain: (e) => ex.push(e), ...over });
  return { ...r, ex: Object.fromEntries(ex.map((e) => [e.id, e])) };
}

describe('cache', () => {
  it('hits when nothing changed, replays the log and evidence, and restores outputs', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const p = pipe(dir, graph());
    const first = await runExplained(p);
    expect(status(first.report)).toEqual({ build: 'passed', check: 'passed', lint: 'passed' });
    expect(first.ex.build!.reasons).toEqual(['no previous entry']);

    rmSync(join(dir, 'dist'), { recursive: true });
    const second = await runExplained(p);
    expect(status(second.report)).toEqual({ build: 'cached', check: 'cached', lint: 'cached' });
    const build = second.report.gates[0]!;
    expect(build.cached).toMatchObject({ status: 'passed', runId: first.report.runId });
    expect(readFileSync(join(dir, 'dist', 'app.js'), 'utf8')).toBe('app\n');
    expect(readFileSync(join(dir, 'build-count'), 'utf8')).toBe('built\n');
    const runDir = join(dir, '.gatehouse', 'runs', second.report.runId);
    expect(readFileSync(join(runDir, 'logs', 'check.log'), 'utf8')).toBe('checked\n');
    expect(readFileSync(join(runDir, 'out', 'build', 'e.json'), 'utf8')).toBe('{}\n');
    expect(build.log.sha256).toBe(first.report.gates[0]!.log.sha256);
    writtenReport(dir, second.report.runId);
  });

  it('a restore leaves an output that already holds the cached bytes as it is, and rewrites one that does not', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const p = pipe(dir, graph());
    await run(p);
    const out = join(dir, 'dist', 'app.js');
    const before = statSync(out);

    const second = await run(p);
    expect(status(second.report)).toEqual({ build: 'cached', check: 'cached', lint: 'cached' });
    // The same file, not a copy renamed over it.
    expect([statSync(out).ino, statSync(out).mtimeMs]).toEqual([before.ino, before.mtimeMs]);

    // Same size, other bytes: restored; and restored again when removed.
    writeFileSync(out, 'xyz\n');
    const third = await run(p);
    expect(status(third.report)).toEqual({ build: 'cached', check: 'cached', lint: 'cached' });
    expect(readFileSync(out, 'utf8')).toBe('app\n');
    rmSync(out);
    await run(p);
    expect(readFileSync(out, 'utf8')).toBe('app\n');
  });

  it('explains misses: input changed, env changed, upstream key changed, --no-cache', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    await run(pipe(dir, graph()));

    await writeFile(join(dir, 'src', 'app.js'), 'app v2\n');
    const before = await explain(pipe(dir, graph()));
    expect(before.find((e) => e.id === 'build')).toMatchObject({ action: 'run' });
    expect(before.find((e) => e.id === 'build')!.reasons[0]).toMatch(
      /^input src\/app\.js changed \(sha [0-9a-f]{12}… → [0-9a-f]{12}…\)$/,
    );
    expect(before.find((e) => e.id === 'check')!.reasons).toContain(
      'needs build whose key changed',
    );
    const changed = await runExplained(pipe(dir, graph()));
    expect(status(changed.report)).toEqual({ build: 'passed', check: 'passed', lint: 'passed' });
    expect(changed.ex.lint!.reasons[0]).toMatch(/^input src\/app\.js changed/);

    const envChanged = await runExplained(pipe(dir, graph('development')));
    expect(envChanged.ex.build!.reasons).toEqual(['env NODE_ENV changed']);
    expect(status(envChanged.report)).toMatchObject({ build: 'passed', lint: 'cached' });

    const forced = await runExplained(pipe(dir, graph('development')), { noCache: true });
    expect(status(forced.report)).toEqual({ build: 'passed', check: 'passed', lint: 'passed' });
    expect(forced.ex.lint!.reasons).toEqual(['--no-cache']);

    const cmd = graph('development');
    cmd[2] = { ...cmd[2]!, run: 'echo lint2' };
    expect((await explain(pipe(dir, cmd))).find((e) => e.id === 'lint')!.reasons).toEqual([
      'command changed',
    ]);
    expect(
      (await explain(pipe(dir, graph('development')))).every((e) => e.action === 'cached'),
    ).toBe(true);
  });

  it('outside git, never caches a gate without inputs; never caches failed, error or timeout results', async () => {
    dir = await project({ 'src/app.js': 'x' });
    const gates = [
      gate('noinputs', { run: 'echo x >> n' }),
      gate('missing', { inputs: ['src/**'], run: 'not-a-command-xyz' }),
      gate('slow', { inputs: ['src/**'], run: 'sleep 5', timeoutMs: 100 }),
      gate('red', { inputs: ['src/**'], run: 'echo no; exit 2' }),
    ];
    await run(pipe(dir, gates), { killGraceMs: 100 });
    const again = await runExplained(pipe(dir, gates), { killGraceMs: 100 });
    expect(status(again.report)).toEqual({
      noinputs: 'passed',
      missing: 'error',
      slow: 'timeout',
      red: 'failed',
    });
    expect(again.ex.noinputs!.reasons).toEqual([
      'no inputs declared and not in a git work tree: runs every time',
    ]);
    expect(again.ex.missing!.reasons[0]).toMatch(/^no cache entry for this key/);
    expect(again.ex.red!.reasons[0]).toMatch(/only passes are cached/);
    expect(readFileSync(join(dir, 'n'), 'utf8')).toBe('x\nx\n');
    expect(existsSync(join(dir, '.gatehouse', 'cache', 'entries'))).toBe(false);
  });

  it('a failure is not replayed: once the environment is fixed, the gate passes', async () => {
    dir = await project({ 'src/app.js': 'x' });
    // The tool the gate needs appears between the runs (installed, a service started…).
    const gates = [gate('t', { inputs: ['src/**'], run: 'test -f tool-installed' })];
    const first = await run(pipe(dir, gates));
    expect(status(first.report)).toEqual({ t: 'failed' });
    await writeFile(join(dir, 'tool-installed'), '');
    const second = await run(pipe(dir, gates));
    expect(status(second.report)).toEqual({ t: 'passed' });
    expect(second.report.verdict.status).toBe('passed');
  });

  it('in a git work tree, a gate without inputs is keyed on every file git knows', async () => {
    // count is how the test sees runs: ignored, like any file a tool writes.
    dir = await project({ 'src/app.js': 'x', '.gitignore': 'dist/\nignored.txt\ncount\n' });
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'init');
    const gates = [
      gate('all', {
        run: 'echo x >> count; mkdir -p dist && echo built > dist/out.js',
        outputs: ['dist/**'],
      }),
    ];
    await run(pipe(dir, gates));
    const cached = await runExplained(pipe(dir, gates));
    expect(status(cached.report)).toEqual({ all: 'cached' });
    // An ignored file changes nothing; a tracked edit and a new untracked file each rerun.
    await writeFile(join(dir, 'ignored.txt'), 'x');
    expect(status((await run(pipe(dir, gates))).report)).toEqual({ all: 'cached' });
    await writeFile(join(dir, 'src/app.js'), 'y');
    const edited = await runExplained(pipe(dir, gates));
    expect(status(edited.report)).toEqual({ all: 'passed' });
    expect(edited.ex.all!.reasons).toEqual([expect.stringMatching(/^input src\/app\.js changed/)]);
    await writeFile(join(dir, 'src/new.js'), 'z');
    const added = await runExplained(pipe(dir, gates));
    expect(added.ex.all!.reasons).toEqual(['input src/new.js added']);
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('x\nx\nx\n');
  });

  it('a lockfile change reruns every gate, with the reason', async () => {
    dir = await project({ 'src/app.js': 'x', 'package-lock.json': '{"v":1}' });
    const gates = [gate('lint', { inputs: ['src/**'], run: 'true' })];
    await run(pipe(dir, gates));
    await writeFile(join(dir, 'package-lock.json'), '{"v":2}');
    const again = await runExplained(pipe(dir, gates));
    expect(status(again.report)).toEqual({ lint: 'passed' });
    expect(again.ex.lint!.reasons).toEqual(['lockfile package-lock.json changed']);
  });

  it("a package's config sees the workspace root's lockfile: a change there reruns", async () => {
    // A monorepo: the config sits in packages/app, the lockfile at the git work tree's top.
    dir = await project({
      'pnpm-lock.yaml': 'lockfileVersion: 1\n',
      'packages/app/src/app.js': 'x',
      'outside/pnpm-lock.yaml': 'not an ancestor\n',
    });
    execFileSync('git', ['init', '-q'], { cwd: dir });
    const app = join(dir, 'packages/app');
    const gates = [gate('lint', { inputs: ['src/**'], run: 'true' })];
    await run(pipe(app, gates));
    expect(status((await run(pipe(app, gates))).report)).toEqual({ lint: 'cached' });
    await writeFile(join(dir, 'outside/pnpm-lock.yaml'), 'still not an ancestor\n');
    expect(status((await run(pipe(app, gates))).report)).toEqual({ lint: 'cached' });
    await writeFile(join(dir, 'pnpm-lock.yaml'), 'lockfileVersion: 2\n');
    const again = await runExplained(pipe(app, gates));
    expect(status(again.report)).toEqual({ lint: 'passed' });
    expect(again.ex.lint!.reasons).toEqual(['lockfile ../../pnpm-lock.yaml changed']);
  });

  it("is keyed on the node the gates' PATH runs, not on Gatehouse's own", async () => {
    dir = await project({ 'src/app.js': 'x' });
    // Three PATHs: one whose node is this process's, one with another Node (a wrapper that
    // says it is v22.99.0), one with no node at all. The gate prints the version it runs.
    const bin = async (name: string, node: string | null) => {
      const d = join(dir, '.bins', name);
      await mkdir(d, { recursive: true });
      if (node !== null) await symlink(node, join(d, 'node'));
      return d;
    };
    await mkdir(join(dir, '.bins'));
    const other = join(dir, '.bins', 'other-node');
    await writeFile(
      other,
      `#!/bin/sh\n[ "$1" = --version ] && { echo v22.99.0; exit 0; }\nexec '${process.execPath}' "$@"\n`,
      { mode: 0o755 },
    );
    const envOf = (d: string) => ({ env: { PATH: d, HOME: process.env.HOME } });
    const host = envOf(await bin('host', process.execPath));
    const another = envOf(await bin('another', other));
    const none = envOf(await bin('none', null));
    const lint = { inputs: ['src/**'], run: 'if node --version; then :; fi' };
    const gates = [gate('lint', lint)];
    const logOf = (r: { report: RunReport }) =>
      readFileSync(join(dir, r.report.gates[0]!.log.path!), 'utf8');

    await run(pipe(dir, gates), host);
    expect(status((await run(pipe(dir, gates), host)).report)).toEqual({ lint: 'cached' });

    const moved = await runExplained(pipe(dir, gates), another);
    expect(status(moved.report)).toEqual({ lint: 'passed' });
    expect(moved.ex.lint!.reasons).toEqual([`node changed (${process.version} → v22.99.0)`]);
    expect(logOf(moved)).toBe('v22.99.0\n');
    expect((await explain(pipe(dir, gates), { ...another, remoteCache: null }))[0]!.action).toBe(
      'cached',
    );
    expect((await explain(pipe(dir, gates), { ...host, remoteCache: null }))[0]!.action).toBe(
      'cached',
    );

    const gone = await runExplained(pipe(dir, gates), none);
    expect(status(gone.report)).toEqual({ lint: 'passed' });
    expect(gone.ex.lint!.reasons).toEqual(['node changed (v22.99.0 → no node on PATH)']);
    // A gate's own PATH is the one its commands get.
    const own = [gate('lint', { ...lint, env: { PATH: another.env.PATH } })];
    const mine = await runExplained(pipe(dir, own), host);
    expect(mine.ex.lint!.reasons).toContain(`node changed (no node on PATH → v22.99.0)`);
  });

  it('a damaged entry is a miss with a warning, never a hit', async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const gates = [gate('lint', { inputs: ['src/**'], run: 'echo lint output; echo x >> count' })];
    await run(pipe(dir, gates));
    const [key] = entries();
    truncateSync(join(dir, '.gatehouse', 'cache', 'entries', key!, 'log.txt'), 3);

    const second = await run(pipe(dir, gates));
    expect(status(second.report)).toEqual({ lint: 'passed' });
    const warn = second.events.find(
      (e): e is Extract<RunEvent, { type: 'message' }> => e.type === 'message',
    );
    expect(warn).toMatchObject({ level: 'warn' });
    expect(warn!.text).toMatch(/damaged \(log\.txt has 3 bytes, expected 12\)/);
    expect(readFileSync(join(dir, 'count'), 'utf8')).toBe('x\nx\n');
    writtenReport(dir, second.report.runId);

    // The re-run stored a good entry again; a tampered entry.json is also refused.
    const entryJson = join(dir, '.gatehouse', 'cache', 'entries', key!, 'entry.json');
    const entry = JSON.parse(readFileSync(entryJson, 'utf8'));
    entry.result.exitCode = 0;
    entry.result.status = 'passed';
    entry.result.reason = 'tampered';
    await writeFile(entryJson, JSON.stringify(entry));
    const third = await run(pipe(dir, gates));
    expect(status(third.report)).toEqual({ lint: 'passed' });
    expect(third.events.some((e) => e.type === 'message' && /not authenticated/.test(e.text))).toBe(
      true,
    );
  });

  it('evicts least recently used entries above the size cap', async () => {
    dir = await project({ 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' });
    const big = (id: string, input: string) =>
      gate(id, { inputs: [input], run: `head -c 40000 /dev/zero | tr '\\0' ${id}` });
    const gates = [big('a', 'a.txt'), big('b', 'b.txt'), big('c', 'c.txt')];
    await run(pipe(dir, gates), { concurrency: 1 });
    expect(entries()).toHaveLength(3);
    // Make a's entry the most recently used and c's the oldest.
    const root = join(dir, '.gatehouse', 'cache', 'entries');
    const byGate = Object.fromEntries(
      entries().map((k) => [
        JSON.parse(readFileSync(join(root, k, 'entry.json'), 'utf8')).manifest.gate,
        k,
      ]),
    );
    const t = Date.now() / 1000;
    utimesSync(join(root, byGate.c), t - 300, t - 300);
    utimesSync(join(root, byGate.b), t - 200, t - 200);
    utimesSync(join(root, byGate.a), t - 100, t - 100);
    // A run that only hits stores nothing, so it never evicts.
    await run(pipe(dir, [big('a', 'a.txt')]), { cacheMaxBytes: 100_000 });
    expect(entries()).toHaveLength(3);
    // A new entry takes the cache to ~160 kB: the two least recently used go.
    await writeFile(join(dir, 'd.txt'), 'd');
    const second = await run(pipe(dir, [big('a', 'a.txt'), big('d', 'd.txt')]), {
      cacheMaxBytes: 100_000,
    });
    expect(status(second.report)).toEqual({ a: 'cached', d: 'passed' });
    const left = entries().map(
      (k) => JSON.parse(readFileSync(join(root, k, 'entry.json'), 'utf8')).manifest.gate,
    );
    expect(left.sort()).toEqual(['a', 'd']);
  });
});
