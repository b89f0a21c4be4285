/**
 * The release image of a monorepo app, built by real BuildKit: a pnpm workspace (the
 * `release-workspace/` fixture: app `@acme/web` needing `@acme/utils` from the workspace, `ms`
 * as its production dependency and `is-number` as a dev dependency, and `@acme/admin` beside
 * it), its config validated by core, the Dockerfile emitted, and the image inspected. setup's
 * `pnpm install` fetches from the registry through the build's CA secret, as a user's does.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig, type ResolvedPipeline } from '@gatehouse-ci/core';
import {
  DOCKER_TEST_TIMEOUT_MS,
  ensureBaseImage,
  hostPnpmDir,
  requireDocker,
} from '@gatehouse-ci/test-utils';
import { buildSecretArgs, emitDockerfile } from '../src/index.js';
import { docker } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./release-workspace', import.meta.url));
const enabled = await requireDocker('release image of a workspace package');
const dirs: string[] = [];
const images: string[] = [];
let base = '';

beforeAll(async () => {
  if (enabled) base = await ensureBaseImage({ pnpm: await hostPnpmDir() });
}, 600_000);

afterAll(async () => {
  for (const ref of images) await docker(['image', 'rm', '-f', ref]);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

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

/**
 * A copy of the fixture with `yaml` as its config, validated by core, and its release image
 * built from the emitted Dockerfile (every gate, the verdict, the release) as a new tag.
 */
async function release(yaml: string): Promise<{ pipeline: ResolvedPipeline; tag: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-release-deploy-'));
  dirs.push(dir);
  await cp(FIXTURE, dir, { recursive: true });
  await writeFile(join(dir, 'gatehouse.yml'), yaml);
  const v = await validateConfig(join(dir, 'gatehouse.yml'));
  expect(v.diagnostics).toEqual([]);
  const pipeline = v.pipeline!;
  const emitted = emitDockerfile(pipeline);
  const files = {
    [emitted.path]: emitted.dockerfile,
    '.dockerignore': emitted.dockerignore,
    ...emitted.judge,
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const secrets = buildSecretArgs(
    pipeline,
    {},
    { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' },
  ).flatMap((s) => ['--secret', s]);
  const tag = `gatehouse-release-deploy-test:${process.pid}-${images.length}`;
  images.push(tag);
  const r = await docker(['build', ...secrets, '-t', tag, '.'], { cwd: dir });
  // The release stage depends on the verdict: a built image means the verdict passed.
  expect(r.code, r.stderr.slice(-4000)).toBe(0);
  return { pipeline, tag };
}

/** `sh -c script` in the image, as its user. */
async function inImage(tag: string, script: string): Promise<string> {
  const r = await docker(['run', '--rm', '--entrypoint', 'sh', tag, '-c', script]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** Every path under the image's /app (links not followed), sorted. */
async function appFiles(tag: string): Promise<string[]> {
  return (await inImage(tag, 'cd /app && find . | sort')).trim().split('\n');
}

const kib = async (tag: string, path: string): Promise<number> =>
  Number.parseInt((await inImage(tag, `du -sk ${path}`)).split(/\s/)[0] ?? '', 10);

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
