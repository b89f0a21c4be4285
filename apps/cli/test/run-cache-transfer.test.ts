/**
 * `gatehouse run --executor docker --cache-to/--cache-from` through the CLI on the real engine:
 * what it prints, and that a cache it cannot use is one warning line and leaves the exit code
 * to the verdict.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_TEST_TIMEOUT_MS, ensureBaseImage, requireDocker } from '@gatehouse-ci/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const hasDocker = await requireDocker('the CLI build cache transfer tests');
const dirs: string[] = [];

async function tempDir(prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A project whose gate `unit` exits with `code`; a fresh nonce makes its first build run. */
async function project(image: string, code: number): Promise<string> {
  const dir = await tempDir('gatehouse-cache-cli-');
  await writeFile(join(dir, 'package.json'), `{"name":"c","nonce":"${randomUUID()}"}\n`);
  await writeFile(
    join(dir, 'gatehouse.yml'),
    [
      'version: 1',
      'name: cache-cli',
      `image: ${image}`,
      'setup:',
      '  inputs: [package.json]',
      '  run: echo setup',
      'gates:',
      `  unit: { run: "echo unit; exit ${code}" }`,
      '',
    ].join('\n'),
  );
  return dir;
}

const cli = (argv: string[], cwd: string) =>
  runCli(argv, cwd, {
    PATH: process.env.PATH,
    CI: 'true',
    ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
  });

describe.skipIf(!hasDocker)(
  'run --cache-to / --cache-from',
  { timeout: DOCKER_TEST_TIMEOUT_MS },
  () => {
    let image = '';
    beforeAll(async () => {
      image = await ensureBaseImage();
    }, 600_000);
    afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

    it('says what it exported; a damaged cache is one warning line and the exit code is the verdict', async () => {
      const cache = join(await tempDir('gatehouse-cache-dir-'), 'cache');
      const made = await cli(
        ['run', '--executor', 'docker', '--cache-to', cache],
        await project(image, 0),
      );
      expect(made.code, made.out + made.err).toBe(0);
      expect(made.out).toMatch(
        /ℹ build cache exported to .*\/cache\/gatehouse-cache\.tar \(\d+\.\d MB in \d+\.\d s; setup, gate-unit; index gatehouse-cache\.json\)\n/,
      );
      expect((await readdir(cache)).sort()).toEqual([
        'gatehouse-cache.json',
        'gatehouse-cache.tar',
      ]);

      await truncate(join(cache, 'gatehouse-cache.tar'), 10_000);
      for (const [code, verdict] of [
        [0, 0],
        [3, 1],
      ] as const) {
        const r = await cli(
          ['run', '--executor', 'docker', '--cache-from', cache],
          await project(image, code),
        );
        expect(r.code, r.out + r.err).toBe(verdict);
        const warnings = r.out.split('\n').filter((l) => l.includes('⚠'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(
          /⚠ build cache in .*cache not used \(gatehouse-cache\.tar does not match its index \(size or sha256\)\); building without it$/,
        );
        expect(r.out).toMatch(code === 0 ? / unit passed / : / unit failed /);
      }
    });
  },
);
