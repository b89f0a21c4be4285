/**
 * Vitest global setup: makes the shared test images before any test worker starts, so
 * no test pays for them inside its own timeout and no two workers make them at once.
 * (The images also guard themselves across processes: see shared-image.ts.)
 *
 * Without a Docker engine this fails under `CI=true` and otherwise leaves the tests that
 * need one to skip. `GATEHOUSE_TEST_IMAGES=lazy` leaves making them to the first test
 * that asks, for quick runs of a few files.
 */
import { ensureBrowserImage } from './browser-image.js';
import { dockerAvailable, ensureBaseImage, hostPnpmDir, hostYarnDir } from './docker.js';

function say(line: string): void {
  process.stderr.write(`[test images] ${line}\n`);
}

export default async function setup(): Promise<void> {
  if (process.env.GATEHOUSE_TEST_IMAGES === 'lazy') return;
  if (!(await dockerAvailable())) {
    const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    if (process.env.CI === 'true') {
      throw new Error(
        `no Docker engine answered at ${where}; CI=true needs one (scripts/start-dockerd.sh)`,
      );
    }
    say(`no Docker engine at ${where}: tests that need one will skip`);
    return;
  }
  const t0 = Date.now();
  say('checking (the first time on a machine: a few minutes, Chromium comes from Debian)');
  const tags = await Promise.all([
    ensureBaseImage(),
    // Alpine-like: busybox sh, timeout and date (plugins/dockerfile build tests).
    ensureBaseImage({ shell: null, coreutils: [] }),
    // Debian's mawk as awk, as in Debian-based node images (the wrapper's log redaction).
    ensureBaseImage({ awk: '/usr/bin/mawk' }),
    ensureBrowserImage({ log: say }),
  ]);
  // With pnpm, for the pnpm workspace fixture (after the others: it needs the host's pnpm),
  // and with yarn, for the yarn workspace fixture.
  tags.push(await ensureBaseImage({ pnpm: await hostPnpmDir() }));
  tags.push(await ensureBaseImage({ yarn: await hostYarnDir() }));
  say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${tags.join(', ')}`);
}
