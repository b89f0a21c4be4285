/**
 * A Debian image with Chromium and the host's Node, for running a web project's gates
 * (accessibility tests included) in containers without any image registry.
 *
 * Built from Debian's mirror with `debootstrap` (reachable where registries are not),
 * then `apt-get -f install` inside the rootfs, because debootstrap's own resolver
 * leaves packages like dconf-service unconfigured. The host's `node` binary and npm are
 * copied in (Debian bookworm's nodejs is too old for current tooling), and a `node`
 * user (uid 1000) is added for release images. The tag hashes the recipe and the Node
 * version, so an unchanged host reuses the image. Several processes may ask at once, and
 * an earlier run may have died halfway: {@link ensureSharedImage} handles both.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { exists } from './fs.js';
import { ensureSharedImage } from './shared-image.js';

/** Repository part of the tag {@link ensureBrowserImage} returns. */
export const BROWSER_IMAGE_REPOSITORY = 'gatehouse-test-browser';

const RECIPE = {
  version: '1',
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  packages: ['chromium', 'ca-certificates', 'dbus-user-session', 'fonts-liberation'],
};

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // No stdin: a pipe the child never reads can fail with EPIPE and crash the caller.
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

/** Absolute directory of the npm package that ships with the running Node. */
async function npmDir(): Promise<string> {
  for (const candidate of [
    join(dirname(dirname(process.execPath)), 'lib/node_modules/npm'),
    '/usr/local/lib/node_modules/npm',
    '/usr/lib/node_modules/npm',
  ]) {
    if (await exists(join(candidate, 'package.json'))) return candidate;
  }
  throw new Error('npm not found next to the running node');
}

/** Options, for tests of the image machinery itself. */
export interface BrowserImageOptions {
  /** @default BROWSER_IMAGE_REPOSITORY */
  repository?: string;
  /**
   * Makes the Debian rootfs with Chromium in an empty directory.
   * @default debootstrap from Debian's mirror, then apt-get -f install inside it
   */
  bootstrap?: (rootfs: string) => Promise<void>;
  /** Directory for the lock and the working directory. @default os.tmpdir() */
  workRoot?: string;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/**
 * Returns the tag of a Debian + Chromium + Node image, making it on first use (a few
 * minutes: debootstrap downloads about 150 MB of Debian packages).
 */
export async function ensureBrowserImage(options: BrowserImageOptions = {}): Promise<string> {
  const npm = await npmDir();
  const npmVersion = (
    JSON.parse(await readFile(join(npm, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const hash = createHash('sha256')
    .update(JSON.stringify({ RECIPE, node: process.version, npmVersion }))
    .digest('hex')
    .slice(0, 12);
  const bootstrap = options.bootstrap ?? debootstrap;
  return ensureSharedImage({
    repository: options.repository ?? BROWSER_IMAGE_REPOSITORY,
    hash,
    workRoot: options.workRoot,
    log: options.log,
    changes: [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'ENV CHROMIUM_PATH=/usr/bin/chromium',
    ],
    message: 'gatehouse offline test image: Debian, Chromium, Node',
    fill: async (root) => {
      await bootstrap(root);
      if (!(await exists(join(root, 'usr/bin/chromium'))))
        throw new Error('chromium missing from the rootfs');
      await addNode(root, npm);
    },
  });
}

/** debootstrap, then repair what its resolver left unconfigured and add the `node` user. */
async function debootstrap(root: string): Promise<void> {
  // debootstrap may report failure for packages it could not configure; apt fixes them below.
  await run('debootstrap', [
    '--variant=minbase',
    `--include=${RECIPE.packages.join(',')}`,
    RECIPE.suite,
    root,
    RECIPE.mirror,
  ]).catch(async (err: Error) => {
    if (!(await exists(join(root, 'usr/bin/apt-get')))) throw err;
  });
  await cp('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
  await run('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
  try {
    await run('chroot', [
      root,
      '/bin/sh',
      '-c',
      'DEBIAN_FRONTEND=noninteractive apt-get -f install -y -q && dpkg --configure -a && ' +
        'id node >/dev/null 2>&1 || useradd -u 1000 -m -s /bin/sh node; apt-get clean',
    ]);
  } finally {
    await run('umount', [join(root, 'proc')]).catch(() => undefined);
  }
  await writeFile(join(root, 'etc/resolv.conf'), '');
}

/** The host's node binary and npm, with `npm` and `npx` wrappers on PATH. */
async function addNode(root: string, npm: string): Promise<void> {
  await mkdir(join(root, 'usr/local/bin'), { recursive: true });
  await cp(process.execPath, join(root, 'usr/local/bin/node'));
  await mkdir(join(root, 'usr/local/lib/node_modules'), { recursive: true });
  await cp(npm, join(root, 'usr/local/lib/node_modules/npm'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  await writeFile(
    join(root, 'usr/local/bin/npm'),
    '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n',
    { mode: 0o755 },
  );
  await writeFile(
    join(root, 'usr/local/bin/npx'),
    '#!/bin/sh\nexec node /usr/local/lib/node_modules/npm/bin/npx-cli.js "$@"\n',
    { mode: 0o755 },
  );
}
