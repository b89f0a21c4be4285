import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunReport } from '@gatehouse-ci/core';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = join(repoRoot, 'apps', 'cli', 'bin', 'gatehouse.js');

let dir = '';
let daemon = 0;
afterEach(async () => {
  if (daemon) {
    try {
      process.kill(daemon, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  daemon = 0;
  await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe('gatehouse run and signals', () => {
  it('Ctrl-C ends a gate whose setsid daemon holds stdout within seconds, and stops the daemon', async () => {
    if (!existsSync(join(repoRoot, 'apps', 'cli', 'dist', 'index.js')))
      throw new Error('apps/cli/dist is missing: run `pnpm build` first');
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-signals-'));
    await writeFile(
      join(dir, 'gatehouse.yml'),
      `version: 1
name: daemon
gates:
  serve:
    run: >-
      setsid sh -c 'echo $$ > daemon.pid; exec sleep 120' &
      echo started; sleep 120
`,
    );
    const child = spawn(process.execPath, [bin, 'run'], {
      cwd: dir,
      env: { PATH: process.env.PATH, CI: 'true' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    const pidFile = join(dir, 'daemon.pid');
    for (
      let i = 0;
      i < 600 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    daemon = Number(readFileSync(pidFile, 'utf8'));
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await closed;
    // TERM, then KILL after the 5 s grace at worst; the daemon's sleep would be 120 s.
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(code, out).toBe(130);
    expect(out).toMatch(/■ serve interrupted/);
    const report = JSON.parse(
      readFileSync(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'),
    ) as RunReport;
    expect(report.gates[0]!.status).toBe('interrupted');
    expect(alive(daemon)).toBe(false);
  });
});
