/**
 * A Debian image with Chromium and the host's Node, for running a web project's gates
 * (accessibility tests included) in containers without any image registry.
 *
 * Built from Debian's mirror with `debootstrap` (reachable where registries are not),
 * then `apt-get -f install` inside the rootfs, because debootstrap's own resolver
 * leaves packages like dconf-service unconfigured. The host's `node` binary and npm are
 * copied in (Debian bookworm's nodejs is too old for current tooling), and a `node`
 * user (uid 1000) is added for release images. The tag hashes the recipe and the Node
 * version, so an unchanged host reuses the image.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Repository part of the tag {@link ensureBrowserImage} returns. */
export const BROWSER_IMAGE_REPOSITORY = 'gatehouse-test-browser';

const RECIPE = {
  version: '1',
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  packages: ['chromium', 'ca-certificates', 'dbus-user-session', 'fonts-liberation'],
};

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function run(cmd: string, args: string[], opts: { input?: string } = {}): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
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
    child.stdin.end(opts.input ?? '');
  });
}

async function imageExists(tag: string): Promise<boolean> {
  try {
    await execFileAsync('docker', ['image', 'inspect', tag]);
    return true;
  } catch {
    return false;
  }
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

let pending: Promise<string> | null = null;

/**
 * Returns the tag of a Debian + Chromium + Node image, building it on first use
 * (a few minutes: debootstrap downloads about 150 MB of Debian packages).
 */
export function ensureBrowserImage(): Promise<string> {
  pending ??= build();
  return pending;
}

async function build(): Promise<string> {
  const npm = await npmDir();
  const npmVersion = (
    JSON.parse(await readFile(join(npm, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const hash = createHash('sha256')
    .update(JSON.stringify({ RECIPE, node: process.version, npmVersion }))
    .digest('hex')
    .slice(0, 12);
  const tag = `${BROWSER_IMAGE_REPOSITORY}:${hash}`;
  if (await imageExists(tag)) return tag;

  const root = join(tmpdir(), `gatehouse-browser-rootfs-${hash}`);
  await rm(root, { recursive: true, force: true });
  try {
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
    if (!(await exists(join(root, 'usr/bin/chromium'))))
      throw new Error('chromium missing from the rootfs');
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
    await writeFile(join(root, 'etc/resolv.conf'), '');
    const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const imp = spawn(
      'docker',
      [
        'import',
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        'ENV CHROMIUM_PATH=/usr/bin/chromium',
        '-',
        tag,
      ],
      { stdio: [tar.stdout, 'ignore', 'inherit'] },
    );
    await new Promise<void>((resolvePromise, reject) => {
      imp.on('error', reject);
      imp.on('close', (code) =>
        code === 0 ? resolvePromise() : reject(new Error(`docker import exited ${code}`)),
      );
    });
    return tag;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
