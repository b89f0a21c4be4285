import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorEnabled, painter } from '../src/color.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repoRoot, 'apps', 'cli', 'bin', 'gatehouse.js');

/** SGR sequences (`ESC [ … m`): colour, bold, reset. Cursor movement is not counted. */
function colourEscapes(text: string): number {
  return (text.match(/\x1b\[[0-9;]*m/g) ?? []).length;
}

describe('colorEnabled', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  it.each([
    ['a terminal', tty, {}, true],
    ['a pipe', pipe, {}, false],
    ['a terminal with NO_COLOR=1', tty, { NO_COLOR: '1' }, false],
    ['a terminal with NO_COLOR=0 (any non-empty value)', tty, { NO_COLOR: '0' }, false],
    ['a terminal with NO_COLOR set but empty', tty, { NO_COLOR: '' }, true],
    ['a terminal with TERM=dumb', tty, { TERM: 'dumb' }, false],
    ['a pipe with FORCE_COLOR=1', pipe, { FORCE_COLOR: '1' }, true],
    ['a pipe with FORCE_COLOR=2', pipe, { FORCE_COLOR: '2' }, true],
    ['a pipe with FORCE_COLOR=3', pipe, { FORCE_COLOR: '3' }, true],
    ['a pipe with FORCE_COLOR=true', pipe, { FORCE_COLOR: 'true' }, true],
    ['a pipe with FORCE_COLOR set but empty', pipe, { FORCE_COLOR: '' }, true],
    ['a terminal with FORCE_COLOR=0', tty, { FORCE_COLOR: '0' }, false],
    ['a terminal with FORCE_COLOR=false', tty, { FORCE_COLOR: 'false' }, false],
    ['a pipe with FORCE_COLOR=1 and NO_COLOR=1', pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
    ['a terminal with FORCE_COLOR=0 and TERM=dumb', tty, { FORCE_COLOR: '0', TERM: 'dumb' }, false],
  ])('%s', (_what, stream, env, expected) => {
    expect(colorEnabled(stream, env)).toBe(expected);
  });

  it('a painter that is off returns the text unchanged; one that is on wraps it in SGR', () => {
    expect(painter(false)('red', 'x')).toBe('x');
    expect(painter(true)('red', 'x')).toBe('\x1b[31mx\x1b[0m');
  });
});

/** `gatehouse run` of a passing and a failing gate, on a pseudo-terminal or a pipe. */
describe('gatehouse run colours, counted on a real pseudo-terminal (util-linux `script`)', () => {
  let dir = '';
  beforeAll(async () => {
    if (!existsSync(join(repoRoot, 'apps', 'cli', 'dist', 'index.js')))
      throw new Error('apps/cli/dist is missing: run `pnpm build` first');
    // `script` ships in util-linux, present on every Debian/Ubuntu machine; missing, this fails.
    if (!['/usr/bin/script', '/bin/script'].some((p) => existsSync(p)))
      throw new Error('util-linux `script` is missing: it provides the pseudo-terminal');
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-color-'));
    await writeFile(
      join(dir, 'gatehouse.yml'),
      'version: 1\nname: colors\ngates:\n  ok:\n    run: "true"\n  bad:\n    run: "false"\n',
    );
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Output and exit code of `gatehouse run --no-cache`, under `script` when `tty`. */
  function runIn(
    tty: boolean,
    env: Record<string, string>,
  ): Promise<{ code: number | null; out: string }> {
    const cmd = `${process.execPath} ${bin} run --no-cache`;
    const child = tty
      ? spawn('script', ['-qec', cmd, '/dev/null'], { cwd: dir, env: base(env), stdio: 'pipe' })
      : spawn(process.execPath, [bin, 'run', '--no-cache'], { cwd: dir, env: base(env) });
    child.stdin.end();
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    return new Promise((r) => child.on('close', (code) => r({ code, out })));
  }
  /** Only what the case sets: no CI, NO_COLOR or FORCE_COLOR leaks in from the test's own environment. */
  const base = (env: Record<string, string>) => ({
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TERM: 'xterm-256color',
    ...env,
  });

  it('is coloured on a terminal by default (the pseudo-terminal is one)', async () => {
    const r = await runIn(true, {});
    expect(r.out).toContain('bad');
    // The live table hides the cursor: proof the CLI saw a terminal.
    expect(r.out).toContain('\x1b[?25l');
    expect(colourEscapes(r.out)).toBeGreaterThan(0);
    expect(r.code).toBe(1);
  });

  it('NO_COLOR=1 on a terminal: no colour escape, the live table still drawn', async () => {
    const r = await runIn(true, { NO_COLOR: '1' });
    expect(r.out).toContain('\x1b[?25l');
    expect(r.out).toContain('FAILED');
    expect(colourEscapes(r.out)).toBe(0);
  });

  it('FORCE_COLOR=0 on a terminal: no colour escape', async () => {
    const r = await runIn(true, { FORCE_COLOR: '0' });
    expect(r.out).toContain('FAILED');
    expect(colourEscapes(r.out)).toBe(0);
  });

  it('piped: no colour by default, colour with FORCE_COLOR=1 and with FORCE_COLOR set but empty', async () => {
    const plain = await runIn(false, {});
    expect(plain.out).toContain('FAILED');
    expect(colourEscapes(plain.out)).toBe(0);
    for (const value of ['1', '']) {
      const forced = await runIn(false, { FORCE_COLOR: value });
      // Lines, not the live table: a pipe cannot be redrawn.
      expect(forced.out).not.toContain('\x1b[?25l');
      expect(forced.out).toContain('\x1b[31m✖\x1b[0m bad failed');
      expect(forced.out).toContain('\x1b[31m✖ FAILED\x1b[0m');
      expect(forced.code).toBe(1);
    }
  });
});
