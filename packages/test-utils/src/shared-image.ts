/**
 * Expensive test images, made once per host and shared by every test process.
 *
 * Vitest runs test files in several worker processes, and a test run can die halfway
 * (Ctrl-C, a killed CI job). So making an image is guarded three ways:
 * - a lock that works across processes: a directory created atomically, naming its
 *   owner (pid and start time). A lock whose owner is dead is taken over at once; a live
 *   owner is waited for however long its build takes (no age limit: a Chromium image
 *   takes minutes on a loaded machine). The lock only saves duplicate work: correctness
 *   does not depend on it, because of the next two points.
 * - each build has its own working directory and temporary tag, both named after their
 *   owner. Leftovers of builds whose owner is dead (a half-made rootfs, a `/proc` still
 *   mounted in it, an unfinished image) are unmounted and removed; a live owner's never.
 * - the image is imported under the temporary tag and only tagged with its final name
 *   once complete, so the final tag never names a half-made image.
 */
import { execFile, spawn } from 'node:child_process';
import { procStat, processRunning } from '@gatehouse-ci/core';
import { mkdir, mkdtemp, readFile, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** How one image is made. */
export interface SharedImageSpec {
  /** Repository part of the tag, e.g. `gatehouse-test-base`. */
  repository: string;
  /** Hash of every input of the recipe; the tag's version part. `[0-9a-z]+`. */
  hash: string;
  /** Fills `rootfs` (an empty directory) with the image's files. */
  fill(rootfs: string): Promise<void>;
  /** `docker import --change` instructions (ENV, WORKDIR, CMD…). */
  changes?: string[];
  /** Commit message of the imported image. */
  message?: string;
  /** Directory for locks and working directories. @default os.tmpdir() */
  workRoot?: string;
  /** Called with one line per step, for progress. */
  log?: (line: string) => void;
}

const PARTIAL = '-partial-';

function docker(args: string[], timeoutMs = 120_000): Promise<{ stdout: string }> {
  return execFileAsync('docker', args, {
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
}

/** Whether the engine has an image with this exact tag. */
export async function imageExists(ref: string): Promise<boolean> {
  try {
    await docker(['image', 'inspect', '--format', '{{.Id}}', ref], 30_000);
    return true;
  } catch {
    return false;
  }
}

/**
 * This process, as `pid.starttime`: a pid alone may be reused by a new process after
 * the old one died, the pair is not.
 */
export function processToken(pid = process.pid): string {
  return `${pid}.${procStat(pid)?.start || '0'}`;
}

/** True when the process a {@link processToken} names is still running. */
export function processAlive(token: string): boolean {
  const [pidText, start] = token.split('.');
  const pid = Number.parseInt(pidText ?? '', 10);
  return processRunning(pid, start === '0' ? undefined : start);
}

async function lockOwner(lock: string): Promise<string | null> {
  try {
    const text = (await readFile(join(lock, 'owner'), 'utf8')).trim();
    return text || null;
  } catch {
    return null;
  }
}

/**
 * Runs `fn` while holding the lock directory `lock`, across processes. Taken over when
 * its owner is dead, or when it has had no owner file for a minute (an owner killed
 * between `mkdir` and writing the file).
 */
export async function withProcessLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  let ownerlessSince = 0;
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'owner'), `${processToken()}\n`);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = await lockOwner(lock);
      if (owner === null) {
        ownerlessSince ||= Date.now();
        if (Date.now() - ownerlessSince < 60_000) {
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
      } else if (processAlive(owner)) {
        ownerlessSince = 0;
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      // Dead or absent owner: break the lock. Another waiter may do the same at once;
      // mkdir then lets exactly one of them in.
      await rm(lock, { recursive: true, force: true });
      ownerlessSince = 0;
    }
  }
  try {
    return await fn();
  } finally {
    await rm(join(lock, 'owner'), { force: true });
    await rmdir(lock).catch(() => undefined);
  }
}

/** Mount points at or below `dir` (deepest first), from /proc/self/mounts. */
async function mountsUnder(dir: string): Promise<string[]> {
  let text = '';
  try {
    text = await readFile('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((p) =>
      p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))),
    )
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Removes a working directory, unmounting anything a dead build left mounted in it. */
export async function removeWorkDir(dir: string): Promise<void> {
  for (const m of await mountsUnder(dir)) {
    await execFileAsync('umount', ['-l', m]).catch(() => undefined);
  }
  await rm(dir, { recursive: true, force: true });
}

/** The owner token inside a working directory name `<repo>-rootfs-<token>-XXXXXX`. */
function dirOwner(name: string, prefix: string): string {
  return name.slice(prefix.length).replace(/-[^-]*$/, '');
}

/** Working directories of earlier builds of this repository whose owner is dead. */
async function deadWorkDirs(root: string, repository: string): Promise<string[]> {
  const prefix = `${repository}-rootfs-`;
  const names = await readdir(root).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith(prefix) && !processAlive(dirOwner(n, prefix)))
    .map((n) => join(root, n));
}

/** Temporary tags (`repo:<hash>-partial-<token>`) of imports whose owner is dead. */
async function deadPartialTags(repository: string): Promise<string[]> {
  const { stdout } = await docker([
    'image',
    'ls',
    '--format',
    '{{.Repository}}:{{.Tag}}',
    repository,
  ]);
  return stdout
    .split('\n')
    .map((s) => s.trim())
    .filter(
      (s) => s.includes(PARTIAL) && !processAlive(s.slice(s.indexOf(PARTIAL) + PARTIAL.length)),
    );
}

/** `tar -c rootfs | docker import … - tag`, without the tarball touching the disk. */
function importRootfs(rootfs: string, tag: string, spec: SharedImageSpec): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['--numeric-owner', '-C', rootfs, '-cf', '-', '.'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const args = ['import'];
    for (const c of spec.changes ?? []) args.push('--change', c);
    if (spec.message) args.push('--message', spec.message);
    const imp = spawn('docker', [...args, '-', tag], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    tar.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    imp.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    tar.stdout.pipe(imp.stdin);
    let tarCode: number | null = null;
    tar.on('error', reject);
    imp.on('error', reject);
    tar.on('close', (code) => (tarCode = code));
    imp.on('close', (code) => {
      if (code === 0 && tarCode === 0) resolve();
      else
        reject(
          new Error(`docker import of ${tag} failed (tar ${tarCode}, import ${code}): ${stderr}`),
        );
    });
  });
}

const pending = new Map<string, Promise<string>>();

/**
 * The tag `repository:hash`, making the image first when the engine lacks it. Safe when
 * several processes ask at once (one builds, the others wait and reuse it) and after a
 * run that died halfway.
 */
export function ensureSharedImage(spec: SharedImageSpec): Promise<string> {
  if (!/^[0-9a-z]+$/.test(spec.hash)) throw new Error(`bad image hash ${spec.hash}`);
  const tag = `${spec.repository}:${spec.hash}`;
  let job = pending.get(tag);
  if (!job) {
    job = make(spec, tag);
    pending.set(tag, job);
    job.catch(() => pending.delete(tag));
  }
  return job;
}

async function make(spec: SharedImageSpec, tag: string): Promise<string> {
  if (await imageExists(tag)) return tag;
  const root = spec.workRoot ?? tmpdir();
  const log = spec.log ?? (() => undefined);
  return withProcessLock(join(root, `${spec.repository}.lock`), async () => {
    // Whoever held the lock before us may have made it.
    if (await imageExists(tag)) return tag;
    for (const dir of await deadWorkDirs(root, spec.repository)) {
      log(`removing ${dir}, left by an earlier build that did not finish`);
      await removeWorkDir(dir);
    }
    for (const ref of await deadPartialTags(spec.repository)) {
      log(`removing the unfinished image ${ref}`);
      await docker(['image', 'rm', '-f', ref]).catch(() => undefined);
    }
    const me = processToken();
    const rootfs = await mkdtemp(join(root, `${spec.repository}-rootfs-${me}-`));
    const partial = `${tag}${PARTIAL}${me}`;
    try {
      log(`making ${tag}`);
      await spec.fill(rootfs);
      await importRootfs(rootfs, partial, spec);
      await docker(['image', 'tag', partial, tag]);
      log(`made ${tag}`);
    } finally {
      await docker(['image', 'rm', partial]).catch(() => undefined);
      await removeWorkDir(rootfs);
    }
    return tag;
  });
}
