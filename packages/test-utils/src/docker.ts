/**
 * Docker helpers for Gatehouse's own tests.
 *
 * No image registry is reachable from the test machines, so the base image every
 * Docker test uses is assembled from the host: Debian's busybox-static for the shell
 * and core utilities, the host's `node` with its shared libraries, and the host's npm.
 * The tarball is fed to `docker import`; the tag carries a hash of every input so a
 * changed host (new node, new busybox) yields a new image and an unchanged one is reused.
 * Concurrent callers and leftovers of dead runs are handled by {@link ensureSharedImage}.
 */
import { execFile } from 'node:child_process';
import { exists } from './fs.js';
import { ensureSharedImage } from './shared-image.js';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  cp,
  mkdir,
  readFile,
  realpath,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Repository part of the tag {@link ensureBaseImage} returns. */
export const BASE_IMAGE_REPOSITORY = 'gatehouse-test-base';

/** Bump when the recipe below changes in a way the input hashes cannot see. */
const RECIPE_VERSION = '3';

/** Where the host's files come from. Overridable for odd hosts; defaults match Debian. */
export interface BaseImageSources {
  /** @default '/bin/busybox' (Debian `busybox-static`) */
  busybox: string;
  /** @default the running Node's `process.execPath` */
  node: string;
  /** npm package directory. @default '/usr/lib/node_modules/npm' or '/usr/local/lib/node_modules/npm' */
  npm: string;
  /** @default '/etc/ssl/certs/ca-certificates.crt' */
  caBundle: string;
  /**
   * GNU coreutils binaries copied to `/usr/bin` (they only need libc, which node brings),
   * so the image behaves like Debian-based node images: `timeout` exits 124 (busybox's
   * exits 143) and `date +%N` works.
   * @default ['/usr/bin/timeout', '/usr/bin/date', '/usr/bin/env']
   */
  coreutils: string[];
  /**
   * `/bin/sh`. Debian's dash by default, like Debian-based node images: busybox's own
   * `sh` runs its applets before `PATH`, so `timeout` there would always be busybox's.
   * `null` keeps busybox `sh`.
   * @default '/usr/bin/dash' when present
   */
  shell: string | null;
  /**
   * A binary installed as `/usr/bin/awk`, ahead of busybox's `awk` in `PATH`: Debian's
   * `/usr/bin/mawk` makes the image's awk the one Debian-based node images have.
   * `null` keeps busybox `awk`.
   * @default null
   */
  awk: string | null;
  /**
   * A pnpm package directory (e.g. the host's global pnpm) installed in the image with its
   * `pnpm`/`pnpx` commands, for pnpm projects. `null` leaves pnpm out, as node images do.
   * @default null
   */
  pnpm: string | null;
  /**
   * A Yarn classic package directory (e.g. the host's, {@link hostYarnDir}) installed in the
   * image with its `yarn`/`yarnpkg` commands, for yarn projects. `null` leaves yarn out (node
   * images ship Yarn 1, this image does not unless asked, so other images keep their tag).
   * @default null
   */
  yarn: string | null;
  /**
   * Native binaries or addons whose shared libraries the image must also hold (only the
   * libraries are copied): nx's native binding, for one, needs glibc's `libutil`, which node
   * does not, and without it nx spins instead of failing.
   * @default []
   */
  librariesOf: string[];
}

/** The `PATH` baked into the image. */
export const BASE_IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
  'node:x:1000:1000:node:/home/node:/bin/sh',
  '',
].join('\n');
const GROUP = ['root:x:0:', 'nogroup:x:65534:', 'node:x:1000:', ''].join('\n');

async function defaultSources(): Promise<BaseImageSources> {
  let npm = '/usr/lib/node_modules/npm';
  if (!(await exists(npm))) npm = '/usr/local/lib/node_modules/npm';
  return {
    busybox: '/bin/busybox',
    node: await realpath(process.execPath),
    npm,
    caBundle: '/etc/ssl/certs/ca-certificates.crt',
    coreutils: ['/usr/bin/timeout', '/usr/bin/date', '/usr/bin/env'],
    shell: (await exists('/usr/bin/dash')) ? '/usr/bin/dash' : null,
    awk: null,
    pnpm: null,
    yarn: null,
    librariesOf: [],
  };
}

function docker(args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync('docker', args, {
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Shared libraries (absolute paths, loader included) the binary needs, from `ldd`. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execFileAsync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of stdout.split('\n')) {
    const viaArrow = /=>\s+(\/\S+)/.exec(line);
    const direct = /^\s*(\/\S+)\s+\(/.exec(line);
    const path = viaArrow?.[1] ?? direct?.[1];
    if (path) libs.add(path);
  }
  return [...libs].sort();
}

async function busyboxApplets(busybox: string): Promise<string[]> {
  const { stdout } = await execFileAsync(busybox, ['--list'], { encoding: 'utf8' });
  return stdout
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => /^[a-z0-9_.[-]+$/i.test(s) && s !== 'busybox')
    .sort();
}

async function inputsHash(src: BaseImageSources, libs: string[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`recipe ${RECIPE_VERSION}\n`);
  hash.update(`busybox ${await fileSha256(src.busybox)}\n`);
  hash.update(`node ${await fileSha256(src.node)}\n`);
  hash.update(`npm ${await readFile(join(src.npm, 'package.json'), 'utf8')}\n`);
  hash.update(`ca ${await fileSha256(src.caBundle)}\n`);
  hash.update(`shell ${src.shell ? await fileSha256(src.shell) : 'busybox'}\n`);
  // Only a chosen awk changes the hash, so images built before this option keep their tag.
  if (src.awk) hash.update(`awk ${await fileSha256(src.awk)}\n`);
  if (src.pnpm) hash.update(`pnpm ${await readFile(join(src.pnpm, 'package.json'), 'utf8')}\n`);
  if (src.yarn) hash.update(`yarn ${await readFile(join(src.yarn, 'package.json'), 'utf8')}\n`);
  for (const bin of src.coreutils) hash.update(`coreutils ${bin} ${await fileSha256(bin)}\n`);
  for (const lib of libs) hash.update(`lib ${lib} ${await fileSha256(lib)}\n`);
  return hash.digest('hex').slice(0, 16);
}

async function buildRootfs(root: string, src: BaseImageSources, libs: string[]): Promise<void> {
  for (const dir of [
    'bin',
    'sbin',
    'usr/bin',
    'usr/sbin',
    'usr/local/bin',
    'usr/local/lib/node_modules',
    'etc/ssl/certs',
    'root',
    'home/node',
    'app',
    'var/tmp',
  ]) {
    await mkdir(join(root, dir), { recursive: true });
  }
  await mkdir(join(root, 'tmp'), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await chmod(join(root, 'var/tmp'), 0o1777);
  await chmod(join(root, 'root'), 0o700);

  await copyFile(src.busybox, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  if (src.shell) {
    await copyFile(src.shell, join(root, 'bin/dash'));
    await chmod(join(root, 'bin/dash'), 0o755);
    await symlink('dash', join(root, 'bin/sh'));
  }
  for (const applet of await busyboxApplets(src.busybox)) {
    const link = join(root, 'bin', applet);
    if (!(await exists(link))) await symlink('busybox', link);
  }
  for (const bin of src.coreutils) {
    const dest = join(root, 'usr/bin', basename(bin));
    await copyFile(bin, dest);
    await chmod(dest, 0o755);
  }
  if (src.awk) {
    await copyFile(src.awk, join(root, 'usr/bin/awk'));
    await chmod(join(root, 'usr/bin/awk'), 0o755);
  }
  // Scripts (npm's included) start with `#!/usr/bin/env node`.
  if (!(await exists(join(root, 'usr/bin/env'))))
    await symlink('/bin/busybox', join(root, 'usr/bin/env'));

  await copyFile(src.node, join(root, 'usr/local/bin/node'));
  await chmod(join(root, 'usr/local/bin/node'), 0o755);
  // Copy each library's real bytes to the path the binary asks for (symlinks resolved).
  for (const lib of libs) {
    const dest = join(root, lib);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(await realpath(lib), dest);
    await chmod(dest, 0o755);
  }

  const npmDest = join(root, 'usr/local/lib/node_modules/npm');
  await cp(src.npm, npmDest, { recursive: true, dereference: true });
  await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));

  if (src.pnpm) {
    await cp(src.pnpm, join(root, 'usr/local/lib/node_modules/pnpm'), {
      recursive: true,
      dereference: true,
    });
    await symlink('../lib/node_modules/pnpm/bin/pnpm.cjs', join(root, 'usr/local/bin/pnpm'));
    await symlink('../lib/node_modules/pnpm/bin/pnpx.cjs', join(root, 'usr/local/bin/pnpx'));
  }

  if (src.yarn) {
    await cp(src.yarn, join(root, 'usr/local/lib/node_modules/yarn'), {
      recursive: true,
      dereference: true,
    });
    await symlink('../lib/node_modules/yarn/bin/yarn.js', join(root, 'usr/local/bin/yarn'));
    await symlink('../lib/node_modules/yarn/bin/yarn.js', join(root, 'usr/local/bin/yarnpkg'));
  }

  await copyFile(src.caBundle, join(root, 'etc/ssl/certs/ca-certificates.crt'));
  await writeFile(join(root, 'etc/passwd'), PASSWD);
  await writeFile(join(root, 'etc/group'), GROUP);
  await writeFile(
    join(root, 'etc/nsswitch.conf'),
    'passwd: files\ngroup: files\nhosts: files dns\n',
  );
  if (process.getuid?.() === 0) await chown(join(root, 'home/node'), 1000, 1000);
}

/**
 * The offline base image for Docker tests, built once per host (inputs hashed into the tag).
 * Contains dash as `/bin/sh`, busybox (cat, tee, sleep, …), GNU `timeout`/`date`/`env`, `node`, `npm`, `npx`
 * (and `pnpm`, `yarn` when their sources are given),
 * users `root` and `node` (uid 1000), `/tmp` (1777) and the host's CA bundle.
 * @returns the tag, `gatehouse-test-base:<hash>`
 */
export async function ensureBaseImage(sources: Partial<BaseImageSources> = {}): Promise<string> {
  const src = { ...(await defaultSources()), ...sources };
  const libs = [
    ...new Set(
      (
        await Promise.all(
          [
            src.node,
            ...src.coreutils,
            ...src.librariesOf,
            ...(src.shell ? [src.shell] : []),
            ...(src.awk ? [src.awk] : []),
          ].map(sharedLibraries),
        )
      ).flat(),
    ),
  ].sort();
  return ensureSharedImage({
    repository: BASE_IMAGE_REPOSITORY,
    hash: await inputsHash(src, libs),
    fill: (root) => buildRootfs(root, src, libs),
    changes: [
      `ENV PATH=${BASE_IMAGE_PATH}`,
      'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
      // A fixture's `npm ci` in a build reaches the registry from a container: take what the
      // build's npm cache mount already holds without asking the registry again, and ride out
      // a slow or briefly unreachable registry (a stalled request is retried after a minute)
      // instead of failing a verdict cell for it.
      'ENV npm_config_prefer_offline=true',
      'ENV npm_config_fetch_timeout=60000',
      'ENV npm_config_fetch_retries=6',
      'ENV npm_config_fetch_retry_mintimeout=2000',
      'ENV npm_config_fetch_retry_maxtimeout=120000',
      'WORKDIR /',
      'CMD ["/bin/sh"]',
    ],
    message: 'gatehouse offline test base image',
  });
}

/** The global pnpm package directory of the host (the pnpm that runs this repository). */
export async function hostPnpmDir(): Promise<string> {
  const { stdout } = await execFileAsync('npm', ['root', '-g'], { encoding: 'utf8' });
  const dir = join(stdout.trim(), 'pnpm');
  if (!(await exists(join(dir, 'bin/pnpm.cjs'))))
    throw new Error(`no pnpm in ${dir}: install it with \`npm i -g pnpm\` (scripts/setup.sh does)`);
  return dir;
}

/**
 * The package directory of the `yarn` on the host's `PATH` (Yarn classic, as scripts/setup.sh
 * installs it with npm), found through the command's link, so a yarn installed under another
 * prefix is found too.
 */
export async function hostYarnDir(): Promise<string> {
  const { stdout } = await execFileAsync('sh', ['-c', 'command -v yarn'], {
    encoding: 'utf8',
  }).catch(() => ({ stdout: '' }));
  const bin = stdout.trim();
  if (!bin)
    throw new Error('no yarn on PATH: install it with `npm i -g yarn@1` (scripts/setup.sh does)');
  const dir = dirname(dirname(await realpath(bin)));
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8').catch(() => '{}')) as {
    name?: string;
    version?: string;
  };
  if (
    pkg.name !== 'yarn' ||
    !pkg.version?.startsWith('1.') ||
    !(await exists(join(dir, 'bin/yarn.js')))
  )
    throw new Error(
      `${bin} is not Yarn classic from npm (${dir}: ${pkg.name ?? 'no package.json'}@${pkg.version ?? '?'}): install it with \`npm i -g yarn@1\` (scripts/setup.sh does)`,
    );
  return dir;
}

/**
 * Time cap for a test that builds with Docker. Generous on purpose: on a loaded 2-CPU
 * machine a build is slow but moving. A stuck build is caught by
 * {@link DOCKER_IDLE_LIMIT_MS} instead, so a test never fails for time while BuildKit
 * still makes progress.
 */
/**
 * The docker CLI the tests run: `GATEHOUSE_DOCKER_CLI`, else Debian's `/usr/bin/docker` (its
 * classic builder speaks BuildKit with `DOCKER_BUILDKIT=1` and `-o type=local`; newer CLIs need
 * buildx).
 */
export const DOCKER_CLI =
  process.env['GATEHOUSE_DOCKER_CLI'] ??
  (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');

export const DOCKER_TEST_TIMEOUT_MS = 30 * 60_000;

/** A build that prints no progress for this long is stuck, and is stopped. */
export const DOCKER_IDLE_LIMIT_MS = 5 * 60_000;

/** Whether a Docker engine answers (honours `DOCKER_HOST`). */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await docker(['version', '--format', '{{.Server.Version}}'], 15_000);
    return true;
  } catch {
    return false;
  }
}

/**
 * For `describe.skipIf(!(await requireDocker()))`: true when the engine answers. Without
 * an engine it throws under `CI=true` (a CI run must not pass by skipping) and otherwise
 * warns and returns false.
 */
export async function requireDocker(what = 'Docker tests'): Promise<boolean> {
  if (await dockerAvailable()) return true;
  const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (process.env.CI === 'true') {
    throw new Error(
      `${what} need a Docker engine, none answered at ${where} (CI=true: not skipping)`,
    );
  }
  console.warn(`skipping ${what}: no Docker engine answered at ${where}`);
  return false;
}
