/**
 * The release image of an app of an npm or yarn workspace, built by real BuildKit (one suite,
 * run by `release-npm-deploy.docker.test.ts` and `release-yarn-deploy.docker.test.ts` on their
 * fixtures): app `@acme/web` needing `@acme/utils` from the workspace, `tiny-ms` and
 * `tiny-color@2` as production dependencies, `tiny-check` as a dev dependency, and
 * `@acme/admin` beside it with `tiny-color@1` and `tiny-log`. Its config is validated by core,
 * the Dockerfile emitted, and the image inspected. The dependencies are vendored as tarballs
 * (`vendor/`), so setup's install and the deploy work offline. `tiny-ms` needs `tiny-color@1`,
 * which the package manager hoisted for admin while web's own `tiny-color@2` is nested under
 * web: the deployed tree must keep both, each where its dependent finds it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DOCKER_TEST_TIMEOUT_MS, requireDocker } from '@gatehouse-ci/test-utils';
import { docker } from './helpers.js';
import { releaseImages } from './release-image.js';

/** One workspace fixture and how to install it. */
export interface ReleaseDeployCase {
  manager: 'npm' | 'yarn';
  /** The fixture directory. */
  fixture: string;
  /** Setup's command and inputs in the fixture's config. */
  setupRun: string;
  setupInputs: string;
  /** The image gates and the release are built on (made before the tests). */
  baseImage: () => Promise<string>;
}

/** Registers the release image tests of one fixture. */
export async function releaseDeployTests(c: ReleaseDeployCase): Promise<void> {
  const what = `release image of a package of ${c.manager === 'npm' ? 'an npm' : 'a yarn'} workspace`;
  const enabled = await requireDocker(what);
  const images = releaseImages(c.fixture, `gatehouse-release-${c.manager}-deploy-test`);
  const { release, inImage, appFiles, kib } = images;
  let base = '';

  beforeAll(async () => {
    if (enabled) base = await c.baseImage();
  }, 600_000);

  afterAll(() => images.cleanup());

  function config(release: string): string {
    return `version: 1
name: shop
image: ${base}
setup:
  run: ${c.setupRun}
  inputs: ${c.setupInputs}
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

  describe.skipIf(!enabled)(what, { timeout: DOCKER_TEST_TIMEOUT_MS }, () => {
    test('holds the app, its built workspace dependency and its production dependencies only', async () => {
      const { pipeline, tag } = await release(
        config(`  from: web-build\n  copy: [dist/]\n  cmd: [node, dist/index.js]\n`),
      );
      expect(pipeline.release?.package).toEqual({
        name: '@acme/web',
        dir: 'packages/web',
        manager: c.manager,
      });

      // It runs, with utils' built code, tiny-color@2 for web and tiny-color@1 for tiny-ms.
      const run = await docker(['run', '--rm', tag]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('[v2] WEB READY IN [V1] 1.5S!\n');

      const files = await appFiles(tag);
      expect(files).toEqual([
        '.',
        './dist',
        './dist/index.js',
        './node_modules',
        './node_modules/@acme',
        './node_modules/@acme/utils',
        './node_modules/@acme/utils/dist',
        './node_modules/@acme/utils/dist/index.js',
        './node_modules/@acme/utils/package.json',
        './node_modules/tiny-color',
        './node_modules/tiny-color/index.js',
        './node_modules/tiny-color/package.json',
        './node_modules/tiny-ms',
        './node_modules/tiny-ms/index.js',
        './node_modules/tiny-ms/node_modules',
        './node_modules/tiny-ms/node_modules/tiny-color',
        './node_modules/tiny-ms/node_modules/tiny-color/index.js',
        './node_modules/tiny-ms/node_modules/tiny-color/package.json',
        './node_modules/tiny-ms/package.json',
        './node_modules/tiny-num',
        './node_modules/tiny-num/index.js',
        './node_modules/tiny-num/package.json',
        './package.json',
      ]);
      expect(JSON.parse(await inImage(tag, 'cat /app/package.json'))).toMatchObject({
        name: '@acme/web',
      });
      const version = async (path: string) =>
        (
          JSON.parse(await inImage(tag, `cat /app/node_modules/${path}/package.json`)) as {
            version: string;
          }
        ).version;
      expect(await version('tiny-color')).toBe('2.0.0');
      expect(await version('tiny-ms/node_modules/tiny-color')).toBe('1.0.0');
      // Real directories, not links into a workspace the image does not have.
      expect(await inImage(tag, 'find /app -type l')).toBe('');
      // No dev dependency, no other package nor its dependency, no sources, no lockfile.
      for (const absent of ['tiny-check', 'admin', 'tiny-log', 'src', 'vendor', 'lock'])
        expect(
          files.filter((f) => f.includes(absent)),
          absent,
        ).toEqual([]);
      expect(await inImage(tag, 'id -u')).toBe('1000\n');

      // The same app released the way a config without `deploy` has to: the workspace's
      // node_modules and packages. It holds what the deployed image leaves out.
      const { tag: whole } = await release(
        config(
          `  from: web-build\n  deploy: false\n  copy: [node_modules/, packages/]\n  cmd: [node, packages/web/dist/index.js]\n`,
        ),
      );
      expect((await docker(['run', '--rm', whole])).stdout).toBe('[v2] WEB READY IN [V1] 1.5S!\n');
      const wholeFiles = await appFiles(whole);
      for (const present of ['tiny-check', 'tiny-log', 'packages/admin', 'packages/web/src'])
        expect(
          wholeFiles.some((f) => f.includes(present)),
          present,
        ).toBe(true);
      // What each adds to the base image, in bytes, and what /app holds on disk.
      const added = async (ref: string) => {
        const r = await docker(['image', 'inspect', '--format', '{{.Size}}', ref, base]);
        const [image, of] = r.stdout.trim().split('\n').map(Number);
        return (image as number) - (of as number);
      };
      const sizes = {
        deployed: await added(tag),
        whole: await added(whole),
        deployedKib: await kib(tag, '/app'),
        wholeKib: await kib(whole, '/app'),
      };
      expect(sizes.deployed).toBeLessThan(sizes.whole);
      expect(sizes.deployedKib).toBeLessThan(sizes.wholeKib);
      console.log(
        `${c.manager} deploy adds ${sizes.deployed} B to the base (/app: ${sizes.deployedKib} KiB on disk, ${files.length} entries); ` +
          `deploy: false adds ${sizes.whole} B (/app: ${sizes.wholeKib} KiB, ${wholeFiles.length} entries)`,
      );
    });
  });
}
