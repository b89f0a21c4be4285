/**
 * Test images are shared by every test process of a run and outlive runs. Two processes
 * asking at once must both get the image, made once; a run that died halfway (killed
 * while making it: a half-made rootfs, a mount inside it, an unfinished tag, its lock)
 * must not break the next one.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { requireDocker } from '../src/docker.js';
import {
  imageExists,
  processAlive,
  removeWorkDir,
  processToken,
  withProcessLock,
} from '../src/shared-image.js';

const execFileAsync = promisify(execFile);
const CHILD = fileURLToPath(new URL('./race-child.ts', import.meta.url));
// tsx is this package's dependency: resolve it from here, not from wherever vitest runs.
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const hasDocker = await requireDocker('the shared test image tests');
const repository = `gatehouse-test-race-${process.pid}`;
const dirs: string[] = [];

async function dockerOut(args: string[]): Promise<string> {
  return (await execFileAsync('docker', args, { encoding: 'utf8' })).stdout.trim();
}

function child(workRoot: string, counter: string, holdMs: number): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, workRoot, repository, counter, String(holdMs)],
    {
      cwd: PACKAGE_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
}

function finish(c: ChildProcess): Promise<{ code: number | null; out: string; err: string }> {
  let out = '';
  let err = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => c.on('close', (code) => resolve({ code, out, err })));
}

async function lines(file: string): Promise<string[]> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean);
}

async function removeImages(): Promise<void> {
  const refs = (
    await dockerOut(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repository])
  )
    .split('\n')
    .filter(Boolean);
  if (refs.length) await execFileAsync('docker', ['image', 'rm', '-f', ...refs]);
}

afterAll(async () => {
  if (hasDocker) await removeImages();
  for (const d of dirs) await removeWorkDir(d);
});

describe('process tokens', () => {
  it('name this process while it lives, and no other', () => {
    const me = processToken();
    expect(me).toMatch(/^\d+\.\d+$/);
    expect(processAlive(me)).toBe(true);
    // Same pid, another start time: the pid was reused by a new process.
    expect(processAlive(`${process.pid}.1`)).toBe(false);
    expect(processAlive('999999999.1')).toBe(false);
    expect(processAlive('garbage')).toBe(false);
  });
});

describe('withProcessLock', () => {
  it('takes over a lock whose owner is dead, and leaves none behind', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gatehouse-lock-'));
    dirs.push(root);
    const lock = join(root, 'x.lock');
    await mkdir(lock);
    await writeFile(join(lock, 'owner'), '999999999.1\n');
    expect(await withProcessLock(lock, async () => 42)).toBe(42);
    expect(existsSync(lock)).toBe(false);
  });

  it('lets one holder in at a time', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gatehouse-lock-'));
    dirs.push(root);
    const lock = join(root, 'x.lock');
    let inside = 0;
    let most = 0;
    await Promise.all(
      [1, 2, 3].map(() =>
        withProcessLock(lock, async () => {
          most = Math.max(most, ++inside);
          await new Promise((r) => setTimeout(r, 300));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
  });
});

describe.skipIf(!hasDocker)('ensureBrowserImage across processes (real engine)', () => {
  it('a run killed while making the image does not break the next; two processes asking at once both get it, made once', async () => {
    const workRoot = await mkdtemp(join(tmpdir(), 'gatehouse-race-'));
    dirs.push(workRoot);
    const counter = join(workRoot, 'bootstraps.txt');

    // A run that dies halfway: killed in the middle of its bootstrap.
    const doomed = child(workRoot, counter, 60_000);
    const doomedDone = finish(doomed);
    let exited = false;
    void doomedDone.then(() => (exited = true));
    for (let i = 0; i < 600 && !exited && (await lines(counter)).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    if ((await lines(counter)).length === 0) {
      doomed.kill('SIGKILL');
      expect.fail(`the first run never started its bootstrap: ${(await doomedDone).err}`);
    }
    const left = (await readdir(workRoot)).filter((n) => n.includes('-rootfs-'));
    expect(left).toHaveLength(1);
    // Make the leftover look like a dead debootstrap run: a filesystem still mounted inside.
    const mounted = process.getuid?.() === 0;
    if (mounted) {
      await mkdir(join(workRoot, left[0]!, 'proc'), { recursive: true });
      await execFileAsync('mount', ['-t', 'tmpfs', 'none', join(workRoot, left[0]!, 'proc')]);
    }
    doomed.kill('SIGKILL');
    await doomedDone;
    expect(existsSync(join(workRoot, `${repository}.lock`))).toBe(true);
    // An unfinished import of a dead run, under a temporary tag.
    const empty = await mkdtemp(join(tmpdir(), 'gatehouse-empty-'));
    dirs.push(empty);
    await execFileAsync('sh', [
      '-c',
      'tar -C "$1" -cf - . | docker import - "$2"',
      'sh',
      empty,
      `${repository}:0-partial-999999999.1`,
    ]);

    const both = await Promise.all([
      finish(child(workRoot, counter, 2000)),
      finish(child(workRoot, counter, 2000)),
    ]);
    for (const r of both) expect(r.code, r.err).toBe(0);
    const tags = both.map((r) => r.out.trim());
    expect(tags[0]).toMatch(new RegExp(`^${repository}:[0-9a-f]{12}$`));
    expect(tags[1]).toBe(tags[0]);
    // The killed run's bootstrap, then exactly one more.
    expect(await lines(counter)).toHaveLength(2);

    // The fake rootfs has no libc for node: check the file is there, not that it runs.
    const out = await dockerOut([
      'run',
      '--rm',
      tags[0]!,
      'sh',
      '-c',
      'chromium && test -x /usr/local/bin/node && test -x /usr/local/bin/npm && echo node-and-npm',
    ]);
    expect(out.split('\n')).toEqual(['fake-chromium', 'node-and-npm']);
    // Nothing of the dead run, nor of the two live ones, is left.
    expect((await readdir(workRoot)).sort()).toEqual(['bootstraps.txt']);
    const refs = await dockerOut(['image', 'ls', '--format', '{{.Tag}}', repository]);
    expect(refs.split('\n')).toEqual([tags[0]!.split(':')[1]]);
    expect(await imageExists(tags[0]!)).toBe(true);
    if (mounted) {
      expect(await readFile('/proc/self/mounts', 'utf8')).not.toContain(workRoot);
    }

    // Asked again: reused, not made again.
    const again = await finish(child(workRoot, counter, 0));
    expect(again.out.trim()).toBe(tags[0]);
    expect(await lines(counter)).toHaveLength(2);
  }, 600_000);
});
