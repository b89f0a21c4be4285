/**
 * The release image of a monorepo app, built by real BuildKit: a pnpm workspace (the
 * `release-workspace/` fixture: app `@acme/web` needing `@acme/utils` from the workspace, `ms`
 * as its production dependency and `is-number` as a dev dependency, and `@acme/admin` beside
 * it), its config validated by core, the Dockerfile emitted, and the image inspected. setup's
 * `pnpm install` fetches from the registry through the build's CA secret, as a user's does.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  DOCKER_TEST_TIMEOUT_MS,
  ensureBaseImage,
  hostPnpmDir,
  requireDocker,
} from '@gatehouse-ci/test-utils';
import { docker } from './helpers.js';
import { releaseImages } from './release-image.js';

const FIXTURE = fileURLToPath(new URL('./release-workspace', import.meta.url));
const enabled = await requireDocker('release image of a workspace package');
const images = releaseImages(FIXTURE, 'gatehouse-release-deploy-test', {
  NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
});
const { release, inImage, appFiles, kib } = images;
let base = '';

beforeAll(async () => {
  if (enabled) base = await ensureBaseImage({ pnpm: await hostPnpmDir() });
}, 600_000);

afterAll(() => images.cleanup());

function config(release: string): string {
  return `version: 1
name: shop
image: ${base}
setup:
  run: pnpm install --frozen-lockfile
  inputs: [package.json, pnpm-lock.yaml, pnpm-workspace.yaml, packages/admin/package.json, packages/utils/package.json, packages/web/package.json]
gates:
  build:
    kind: build
    packages: { script: build }
    needs: [^build]
    outputs: [dist/**]
release:
${release}  image: ${base}
targets: { dockerfile: {} }
`;
}

describe.skipIf(!enabled)(
  'release image of a workspace package (pnpm deploy)',
  { timeout: DOCKER_TEST_TIMEOUT_MS },
  () => {
    test('holds the app, its built workspace dependency and its production dependencies only', async () => {
      const { pipeline, tag } = await release(
        config(`  from: web-build\n  copy: [dist/]\n  cmd: [node, dist/index.js]\n`),
      );
      expect(pipeline.release?.package).toEqual({
        name: '@acme/web',
        dir: 'packages/web',
        manager: 'pnpm',
      });

      // It runs, with utils' built code and ms from node_modules.
      const run = await docker(['run', '--rm', tag]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('WEB READY IN 2S!\n');

      const files = await appFiles(tag);
      expect(files).toEqual(
        expect.arrayContaining([
          './dist/index.js',
          './package.json',
          './node_modules/@acme/utils',
          './node_modules/ms',
        ]),
      );
      expect(JSON.parse(await inImage(tag, 'cat /app/package.json'))).toMatchObject({
        name: '@acme/web',
      });
      // The workspace dependency is there as built: its dist, nothing of its sources.
      expect(
        (await inImage(tag, 'cd /app/node_modules/@acme/utils/ && find . | sort')).split('\n'),
      ).toEqual(['.', './dist', './dist/index.js', './package.json', '']);
      expect(await inImage(tag, 'cat /app/node_modules/ms/package.json')).toContain(
        '"version": "2.1.3"',
      );
      // No dev dependency, no other package (nor its dependencies), no workspace sources.
      for (const absent of ['is-number', 'admin', 'kleur'])
        expect(
          files.filter((f) => f.includes(absent)),
          absent,
        ).toEqual([]);
      for (const top of ['packages', 'src', 'pnpm-lock.yaml', 'pnpm-workspace.yaml'])
        expect(files, top).not.toContain(`./${top}`);
      expect(await inImage(tag, 'id -u')).toBe('1000\n');

      // The same app released the way a config without `deploy` has to: the workspace's
      // node_modules and packages. It holds what the deployed image leaves out.
      const { tag: whole } = await release(
        config(
          `  from: web-build\n  deploy: false\n  copy: [node_modules/, packages/]\n  cmd: [node, packages/web/dist/index.js]\n`,
        ),
      );
      expect((await docker(['run', '--rm', whole])).stdout).toBe('WEB READY IN 2S!\n');
      const wholeFiles = await appFiles(whole);
      for (const present of ['is-number', 'kleur', 'packages/admin'])
        expect(
          wholeFiles.some((f) => f.includes(present)),
          present,
        ).toBe(true);
      expect(await kib(tag, '/app')).toBeLessThan(await kib(whole, '/app'));
    });
  },
);
