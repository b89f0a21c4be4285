/** The parts of the cache transfer that need no engine: names, the secret scan, index checks. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CACHE_INDEX,
  CACHE_TAR,
  cacheRepository,
  formatBytes,
  importCache,
  NeedleScanner,
} from '../src/cache-transfer.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function scan(chunks: string[], needles: Array<{ name: string; value: string }>) {
  const scanner = new NeedleScanner(needles);
  const out: string[] = [];
  await pipeline(
    Readable.from(chunks.map((c) => Buffer.from(c))),
    scanner,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c.toString());
        cb();
      },
    }),
  );
  return { found: [...scanner.found].sort(), passed: out.join('') };
}

describe('cache repository names', () => {
  it('are a valid image repository under gatehouse-cache/, scoped by the project directory', () => {
    const a = cacheRepository({ name: 'Store Front!', rootDir: '/work/a' });
    expect(a).toMatch(/^gatehouse-cache\/store-front-[0-9a-f]{12}$/);
    expect(cacheRepository({ name: 'Store Front!', rootDir: '/work/b' })).not.toBe(a);
    expect(cacheRepository({ name: '---', rootDir: '/x' })).toMatch(
      /^gatehouse-cache\/project-[0-9a-f]{12}$/,
    );
    expect(cacheRepository({ name: 'a'.repeat(39) + '-b', rootDir: '/x' })).toMatch(
      /^gatehouse-cache\/a{39}-[0-9a-f]{12}$/,
    );
  });

  it('sizes read as people write them', () => {
    expect([formatBytes(512), formatBytes(2048), formatBytes(121_300_000)]).toEqual([
      '512 B',
      '2.0 kB',
      '115.7 MB',
    ]);
  });
});

describe('the secret scan of a tarball', () => {
  it('finds a value split across chunks and passes every byte on unchanged', async () => {
    const r = await scan(
      ['layer ...s3cr', 'et-valu', 'e... end'],
      [
        { name: 'TOKEN', value: 's3cret-value' },
        { name: 'OTHER', value: 'absent' },
      ],
    );
    expect(r).toEqual({ found: ['TOKEN'], passed: 'layer ...s3cret-value... end' });
  });

  it('finds nothing when no value is there, and ignores empty values', async () => {
    expect(await scan(['a', 'b'], [{ name: 'EMPTY', value: '' }])).toEqual({
      found: [],
      passed: 'ab',
    });
  });
});

describe('importing a cache directory that cannot be used', () => {
  // The engine is never reached for these: the index is refused first.
  const noEngine = new Proxy(
    {},
    {
      get() {
        throw new Error('the engine must not be asked');
      },
    },
  ) as Dockerode;

  async function withIndex(index: unknown): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'gh-cache-index-'));
    dirs.push(dir);
    await writeFile(join(dir, CACHE_INDEX), JSON.stringify(index));
    await writeFile(join(dir, CACHE_TAR), 'not a tarball');
    return dir;
  }
  const image = (tag: string) => ({ stage: 'gate-a', tag, id: `sha256:${'a'.repeat(64)}` });
  const valid = {
    format: 1,
    gatehouseVersion: '0.1.0',
    pipeline: 'p',
    configSha256: 'c'.repeat(64),
    createdAt: '2026-01-01T00:00:00.000Z',
    images: [image('gatehouse-cache/p-0123456789ab:gate-a')],
    tar: { file: CACHE_TAR, bytes: 13, sha256: 'f'.repeat(64) },
  };

  it.each([
    ['a newer format', { ...valid, format: 2 }, /unknown index format 2/],
    ['no image', { ...valid, images: [] }, /lists no image/],
    [
      'a tag outside gatehouse-cache/',
      { ...valid, images: [image('node:20-bookworm-slim')] },
      /names an image outside gatehouse-cache\//,
    ],
    [
      'a registry in the tag',
      { ...valid, images: [image('registry.example/gatehouse-cache/p:gate-a')] },
      /outside gatehouse-cache\//,
    ],
    [
      'two repositories',
      {
        ...valid,
        images: [image('gatehouse-cache/p-1:gate-a'), image('gatehouse-cache/q-1:gate-a')],
      },
      /mixes repositories/,
    ],
    [
      'another tarball name',
      { ...valid, tar: { ...valid.tar, file: '../etc/x.tar' } },
      /does not describe the tarball/,
    ],
    ['a tarball that is not the one indexed', valid, /does not match its index/],
  ])('%s is refused with a reason', async (_name, index, why) => {
    const r = await importCache(noEngine, await withIndex(index));
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(why);
  });

  it('a directory without an index says so', async () => {
    const r = await importCache(noEngine, join(tmpdir(), 'gh-no-such-cache-dir'));
    expect(r).toEqual({
      ok: false,
      reason: `no ${CACHE_INDEX} in ${join(tmpdir(), 'gh-no-such-cache-dir')}`,
    });
  });
});
