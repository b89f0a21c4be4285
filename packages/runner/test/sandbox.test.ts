import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatehouseError, type GateResult, type RunReport } from '@gatehouse-ci/core';
import { gate, requireBwrap } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { bisectMissing, pathTokens } from '../src/sandbox.js';
import { cleanup, pipe, processesWith, project, run, status } from './helpers.js';

const hasBwrap = requireBwrap('the runner sandbox tests');

let dir = '';
afterEach(() => cleanup(dir));

const result = (report: RunReport, id: string): GateResult =>
  report.gates.find((g) => g.id === id)!;

// The report names logs relative to the project.
const log = (r: GateResult): string => readFileSync(join(dir, r.log.path!), 'utf8');

describe.skipIf(!hasBwrap)('run --sandbox (bubblewrap)', () => {
  it('passes a gate whose inputs are complete, and says it ran sandboxed', async () => {
    dir = await project({ 'src/a.txt': 'alpha\n', 'src/b.txt': 'beta\n' });
    const p = pipe(dir, [gate('cat', { run: 'cat src/a.txt src/b.txt', inputs: ['src/**'] })]);
    const { report } = await run(p, { sandbox: true });
    expect(status(report)).toEqual({ cat: 'passed' });
    expect(result(report, 'cat').sandbox).toBe(true);
    expect(log(result(report, 'cat'))).toBe('alpha\nbeta\n');
  });

  it('a gate reading an undeclared file passes outside but is an error naming the file inside', async () => {
    dir = await project({
      'src/main.js': 'console.log(require("./helper").x)\n',
      'src/helper.js': 'exports.x = 42\n',
    });
    const p = pipe(dir, [gate('node', { run: 'node src/main.js', inputs: ['src/main.js'] })]);
    const outside = await run(p, { noCache: true });
    expect(status(outside.report)).toEqual({ node: 'passed' });
    expect(result(outside.report, 'node').sandbox).toBeUndefined();

    const { report } = await run(p, { sandbox: true });
    const r = result(report, 'node');
    expect(r.status).toBe('error');
    expect(r.sandbox).toBe(true);
    expect(r.reason).toMatch(/^inputs incomplete: it reads src\/helper\.js, not shown/);
    expect(r.reason).toMatch(/the gate passes in the sandbox with it\); add it to `inputs`/);
    expect(log(r)).toMatch(/Cannot find module '\.\/helper'/);
    expect(report.verdict.status).toBe('failed');
  });

  it('a gate that fails on its own is failed, not error', async () => {
    dir = await project({ 'src/a.txt': 'alpha\n' });
    const p = pipe(dir, [
      gate('bad', { run: 'cat src/a.txt; echo broken >&2; exit 3', inputs: ['src/**'] }),
    ]);
    const { report } = await run(p, { sandbox: true });
    const r = result(report, 'bad');
    expect(r.status).toBe('failed');
    expect(r.exitCode).toBe(3);
    expect(r.reason).toMatch(/fails outside the sandbox too/);
  });

  it('cannot see a project file outside its inputs', async () => {
    const secret = 'sandbox-canary-4b1d';
    dir = await project({ 'src/a.txt': 'alpha\n', 'notes/secret.txt': `${secret}\n` });
    const p = pipe(dir, [gate('peek', { run: 'cat notes/secret.txt', inputs: ['src/**'] })]);
    const { report } = await run(p, { sandbox: true });
    const r = result(report, 'peek');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/it reads notes\/secret\.txt/);
    expect(log(r)).toMatch(/No such file or directory/);
    expect(log(r)).not.toContain(secret);
  });

  it('finds a missing file the log does not name by bisecting, within the rerun limit', async () => {
    const files: Record<string, string> = { 'conf/flag': 'on\n' };
    for (let i = 0; i < 30; i++) files[`data/f${i}.txt`] = `${i}\n`;
    dir = await project(files);
    const p = pipe(dir, [
      gate('quiet', { run: 'test -f conf/flag && test -f data/f11.txt', inputs: ['data/f0.txt'] }),
    ]);
    const { report } = await run(p, { sandbox: true });
    const r = result(report, 'quiet');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/it needs (data\/f11\.txt, conf\/flag|conf\/flag, data\/f11\.txt),/);
    expect(r.reason).toMatch(/found by bisecting: \d+ sandboxed reruns over 30 project files/);

    // With a limit too low to finish, it says so instead of naming a guess.
    const limited = await run(p, { sandbox: true, sandboxProbeRuns: 2 });
    expect(result(limited.report, 'quiet').status).toBe('error');
    expect(result(limited.report, 'quiet').reason).toMatch(
      /bisecting stopped at the limit of 2 sandboxed reruns/,
    );
  });

  it("reads its need's output, and only declared outputs reach the project", async () => {
    dir = await project({ 'src/app.js': 'app\n' });
    const p = pipe(dir, [
      gate('build', {
        run: 'mkdir -p dist && cp src/app.js dist/app.js && echo junk > leak.txt && echo changed >> src/app.js',
        inputs: ['src/**'],
        outputs: ['dist/**'],
      }),
      gate('serve', { needs: ['build'], run: 'cat dist/app.js', inputs: ['src/**'] }),
    ]);
    const { report } = await run(p, { sandbox: true });
    expect(status(report)).toEqual({ build: 'passed', serve: 'passed' });
    expect(log(result(report, 'serve'))).toBe('app\n');
    expect(readFileSync(join(dir, 'dist/app.js'), 'utf8')).toBe('app\n');
    // Written outside `outputs`: stays in the sandbox.
    expect(existsSync(join(dir, 'leak.txt'))).toBe(false);
    expect(readFileSync(join(dir, 'src/app.js'), 'utf8')).toBe('app\n');
  });

  it("sees setup's node_modules (read-only) and may create caches in it", async () => {
    dir = await project({ 'src/main.js': 'console.log(require("dep").name)\n' });
    const p = pipe(
      dir,
      [
        gate('use', {
          run: 'node src/main.js && mkdir -p node_modules/.cache/tool && touch node_modules/.cache/tool/x && ! touch node_modules/dep/index.js 2>/dev/null',
          inputs: ['src/**'],
        }),
      ],
      {
        setup: {
          run: 'mkdir -p node_modules/dep && echo \'exports.name = "dep-ok"\' > node_modules/dep/index.js',
          inputs: [],
          env: {},
          secrets: [],
          timeoutMs: 60_000,
        },
      },
    );
    const { report } = await run(p, { sandbox: true });
    const r = result(report, 'use');
    expect(r.status, r.reason ?? '').toBe('passed');
    expect(log(r)).toBe('dep-ok\n');
    expect(existsSync(join(dir, 'node_modules/.cache'))).toBe(false);
  });

  it('has a private /proc: no host process is visible', async () => {
    dir = await project({ 'a.txt': 'a\n' });
    // Outside the sandbox this test process is in /proc, so the same gate fails there.
    const p = pipe(dir, [
      gate('proc', { run: `test ! -e /proc/${process.pid}`, inputs: ['a.txt'] }),
    ]);
    expect(status((await run(p, { noCache: true })).report)).toEqual({ proc: 'failed' });
    const { report } = await run(p, { sandbox: true });
    expect(status(report)).toEqual({ proc: 'passed' });
  });

  it('a gate without inputs sees the files git knows, and not the ignored ones', async () => {
    dir = await project({
      'tracked.txt': 't\n',
      'untracked.txt': 'u\n',
      'ignored.log': 'i\n',
      '.gitignore': '*.log\n',
    });
    execFileSync('git', ['init', '-q', dir]);
    execFileSync('git', ['-C', dir, 'add', 'tracked.txt', '.gitignore']);
    const p = pipe(dir, [
      gate('all', { run: 'cat tracked.txt untracked.txt .gitignore && test ! -e ignored.log' }),
    ]);
    expect(status((await run(p, { noCache: true })).report)).toEqual({ all: 'failed' });
    const { report } = await run(p, { sandbox: true });
    expect(status(report)).toEqual({ all: 'passed' });
  });

  it('keeps secrets, redaction and timeouts as outside', async () => {
    const canary = 'canary-sandbox-9e21';
    dir = await project({ 'a.txt': 'a\n' });
    const p = pipe(dir, [
      gate('secret', {
        run: 'echo "token=$TOKEN plain=$PLAIN"',
        secrets: ['TOKEN'],
        env: { PLAIN: 'p' },
        inputs: ['a.txt'],
      }),
      gate('slow', {
        run: 'sleep 60 & sleep 60',
        inputs: ['a.txt'],
        timeoutMs: 700,
        env: { PROBE: `sbx-${process.pid}` },
      }),
    ]);
    const { report } = await run(p, {
      sandbox: true,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TOKEN: canary },
    });
    expect(status(report)).toEqual({ secret: 'passed', slow: 'timeout' });
    const text = log(result(report, 'secret'));
    expect(text).toMatch(/token=\S+ plain=p/);
    expect(text).not.toContain(canary);
    expect(processesWith(`PROBE=sbx-${process.pid}`)).toEqual([]);
  });

  it("shows a PATH directory's prefix, so a tool linked from bin/ into lib/ runs", async () => {
    dir = await project({ 'a.txt': 'a\n' });
    // A tool installed under a prefix outside the system directories, as `npm i -g --prefix`
    // lays it out: bin/tool is a link to ../lib/tool/run.sh.
    const prefix = mkdtempSync(join(tmpdir(), 'gh-prefix-'));
    try {
      mkdirSync(join(prefix, 'bin'));
      mkdirSync(join(prefix, 'lib', 'tool'), { recursive: true });
      writeFileSync(join(prefix, 'lib', 'tool', 'run.sh'), '#!/bin/sh\necho tool ran\n', {
        mode: 0o755,
      });
      symlinkSync('../lib/tool/run.sh', join(prefix, 'bin', 'tool'));
      const p = pipe(dir, [gate('t', { run: 'tool && cat a.txt', inputs: ['a.txt'] })]);
      const { report } = await run(p, {
        sandbox: true,
        env: { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, HOME: process.env.HOME },
      });
      expect(status(report)).toEqual({ t: 'passed' });
      expect(log(result(report, 't'))).toBe('tool ran\na\n');
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('never replays a result recorded outside the sandbox, and caches its own passes', async () => {
    dir = await project({ 'a.txt': 'a\n' });
    const p = pipe(dir, [gate('g', { run: 'cat a.txt', inputs: ['a.txt'] })]);
    expect(status((await run(p)).report)).toEqual({ g: 'passed' });
    expect(status((await run(p)).report)).toEqual({ g: 'cached' });
    const reasons: string[] = [];
    const first = await run(p, { sandbox: true, onExplain: (e) => reasons.push(...e.reasons) });
    expect(status(first.report)).toEqual({ g: 'passed' });
    expect(reasons).toContain('now run in the sandbox');
    const again = await run(p, { sandbox: true });
    expect(status(again.report)).toEqual({ g: 'cached' });
    expect(result(again.report, 'g').sandbox).toBe(true);
  });
});

describe('run --sandbox without bubblewrap', () => {
  it('refuses before anything runs (GH_SANDBOX_UNAVAILABLE)', async () => {
    dir = await project({ 'a.txt': 'a\n' });
    const p = pipe(dir, [gate('g', { run: 'touch ran', inputs: ['a.txt'] })]);
    const err = (await run(p, { sandbox: true, env: { PATH: '/nonexistent' } }).catch(
      (e: unknown) => e,
    )) as GatehouseError;
    expect(err).toBeInstanceOf(GatehouseError);
    expect(err.code).toBe('GH_SANDBOX_UNAVAILABLE');
    expect(err.message).toMatch(/no `bwrap` is on PATH; nothing was run/);
    expect(err.hint).toMatch(/apt-get install bubblewrap/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(existsSync(join(dir, '.gatehouse', 'runs'))).toBe(false);
  });
});

describe('sandbox helpers', () => {
  it('pathTokens picks file names out of error messages', () => {
    const t = pathTokens(
      [
        "Error: ENOENT: no such file or directory, open '/p/src/data.json'",
        'cat: notes/secret.txt: No such file or directory',
        "Cannot find module './helper'",
        '    at Object.<anonymous> (/p/src/main.js:1:13)',
      ].join('\n'),
    );
    expect(t).toEqual(
      expect.arrayContaining([
        '/p/src/data.json',
        'notes/secret.txt',
        './helper',
        '/p/src/main.js',
      ]),
    );
  });

  it('bisectMissing finds the files a probe needs, and respects its limit', async () => {
    const pool = Array.from({ length: 64 }, (_, i) => `f${i}`);
    const needed = ['f5', 'f40'];
    const probe = (extra: string[]) => Promise.resolve(needed.every((n) => extra.includes(n)));
    const found = await bisectMissing(pool, probe, 30);
    expect(found.outcome).toBe('found');
    expect([...found.files].sort()).toEqual([...needed].sort());
    expect(found.runs).toBeLessThanOrEqual(16);
    expect((await bisectMissing(pool, probe, 3)).outcome).toBe('budget');
    expect((await bisectMissing(pool, () => Promise.resolve(false), 30)).outcome).toBe('none');
  });
});
