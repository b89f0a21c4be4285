import { createHash, createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { GateResult } from '@gatehouse-ci/core';
import { describe, expect, it } from 'vitest';
import { CACHE_FORMAT, manifestKey, type GateManifest } from '../src/manifest.js';
import {
  ARTIFACT_FORMAT,
  ARTIFACT_MANIFEST,
  gzipArtifact,
  gzipArtifactAsync,
  openArtifact,
  tarArtifact,
  tarMembers,
  type SharedEntry,
} from '../src/remote-artifact.js';
import { artifactTag, remoteCacheConfig } from '../src/remote-cache.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function entry(files: Record<string, string>, status: GateResult['status'] = 'passed') {
  const manifest = { gate: 'build', command: 'make' } as unknown as GateManifest;
  const key = manifestKey(manifest);
  const bytes = new Map(Object.entries(files).map(([p, c]) => [p, Buffer.from(c)]));
  const body: SharedEntry = {
    format: CACHE_FORMAT,
    key,
    runId: 'r1',
    createdAt: '2026-01-01T00:00:00.000Z',
    manifest,
    result: { id: 'build', status } as GateResult,
    files: [...bytes].map(([path, b]) => ({ path, sha256: sha(b), bytes: b.length })),
  };
  return { key, body, bytes };
}

describe('remote cache artifacts', () => {
  it('round-trip, with names longer than a tar header holds and non-ASCII names', async () => {
    const long = `outputs/${'deep/'.repeat(40)}file.js`;
    const { key, body, bytes } = entry({
      'log.txt': 'built\n',
      'evidence/junit.xml': '<x/>',
      [long]: 'a'.repeat(1000),
      'outputs/dist/é ü.js': 'x',
    });
    const gz = gzipArtifact(tarArtifact(key, body, bytes));
    expect(gzipArtifact(tarArtifact(key, body, bytes)).equals(gz)).toBe(true);
    expect((await gzipArtifactAsync(tarArtifact(key, body, bytes))).equals(gz)).toBe(true);
    const opened = openArtifact(key, gz, 1 << 20);
    expect(opened.entry).toEqual(body);
    expect(opened.files.get(long)!.toString()).toBe('a'.repeat(1000));
    expect(opened.files.get('outputs/dist/é ü.js')!.toString()).toBe('x');
  });

  it('refuses an artifact that does not answer the requested key', () => {
    const { key, body, bytes } = entry({ 'log.txt': 'ok\n' });
    const gz = gzipArtifact(tarArtifact(key, body, bytes));
    const other = 'f'.repeat(64);
    expect(() => openArtifact(other, gz, 1 << 20)).toThrow('it describes another key');
    // Claims the requested key, but its manifest hashes to another one.
    const lying = { ...body, key: other };
    expect(() =>
      openArtifact(other, gzipArtifact(tarArtifact(other, lying, bytes)), 1 << 20),
    ).toThrow('its gate manifest does not hash to the requested key');
  });

  it('refuses failures, unlisted, missing and altered files, other member types, and bombs', () => {
    const failed = entry({ 'log.txt': 'x\n' }, 'failed');
    expect(() =>
      openArtifact(
        failed.key,
        gzipArtifact(tarArtifact(failed.key, failed.body, failed.bytes)),
        1 << 20,
      ),
    ).toThrow('its result is not a pass of this gate');

    const { key, body, bytes } = entry({ 'log.txt': 'ok\n', 'evidence/a.json': '{}' });
    const tarWith = (b: SharedEntry, files: Map<string, Buffer>) =>
      gzipArtifact(tarArtifact(key, b, files));
    const head = Buffer.from(`${JSON.stringify({ format: ARTIFACT_FORMAT, key, entry: body })}\n`);
    const members = (...names: string[]) =>
      gzipSync(
        tarMembers([
          [ARTIFACT_MANIFEST, head],
          ...names.map((n) => [n, bytes.get(n) ?? Buffer.from('?')] as const),
        ]),
      );
    expect(() => openArtifact(key, members('log.txt', 'evidence/a.json'), 1 << 20)).not.toThrow();
    expect(() =>
      openArtifact(key, members('log.txt', 'evidence/a.json', 'outputs/x'), 1 << 20),
    ).toThrow('it holds "outputs/x", which its manifest does not list');
    expect(() =>
      openArtifact(key, members('log.txt', 'evidence/a.json', 'log.txt'), 1 << 20),
    ).toThrow('it holds "log.txt" twice');
    expect(() => openArtifact(key, members('log.txt'), 1 << 20)).toThrow(
      'evidence/a.json is missing',
    );
    expect(() =>
      openArtifact(key, gzipSync(tarMembers([['log.txt', Buffer.from('ok\n')]])), 1 << 20),
    ).toThrow(`${ARTIFACT_MANIFEST} is not first`);

    const altered = new Map(bytes);
    altered.set('log.txt', Buffer.from('OK\n'));
    expect(() => openArtifact(key, tarWith(body, altered), 1 << 20)).toThrow(
      'log.txt does not match its size and sha256',
    );

    // A symbolic link member (type 2) is never accepted.
    const tar = tarArtifact(key, body, bytes);
    const linkTar = Buffer.from(tar);
    const at = linkTar.indexOf('log.txt\0');
    linkTar[at + 156] = '2'.charCodeAt(0);
    let sum = 0;
    for (let i = at; i < at + 512; i++) sum += i - at >= 148 && i - at < 156 ? 32 : linkTar[i]!;
    linkTar.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'ascii');
    expect(() => openArtifact(key, gzipSync(linkTar), 1 << 20)).toThrow('a tar member of type "2"');

    // Decompression is capped.
    const big = entry({ 'log.txt': 'z'.repeat(4 << 20) });
    expect(() =>
      openArtifact(big.key, gzipArtifact(tarArtifact(big.key, big.body, big.bytes)), 1 << 20),
    ).toThrow(/^not a gzip stream within 1048576 bytes/);
  });

  it('signs the body and the team, as turbo does', () => {
    const t = artifactTag('k', Buffer.from('body'), 'team');
    expect(t).toBe(createHmac('sha256', 'k').update('bodyteam').digest('base64'));
    expect(artifactTag('k', Buffer.from('body'), 'team2')).not.toBe(t);
    expect(artifactTag('k2', Buffer.from('body'), 'team')).not.toBe(t);
    expect(Buffer.from(t, 'base64')).toHaveLength(32);
  });
});

describe('remote cache configuration', () => {
  const base = {
    GATEHOUSE_REMOTE_CACHE_URL: 'https://cache.example.com/',
    GATEHOUSE_REMOTE_CACHE_TEAM: 'web',
  };
  it('is off without a URL, and takes no turbo variables', () => {
    expect(remoteCacheConfig({})).toEqual({ config: null, problem: null });
    expect(
      remoteCacheConfig({ TURBO_API: 'https://x', TURBO_TOKEN: 't', TURBO_TEAM: 'w' }),
    ).toEqual({ config: null, problem: null });
  });
  it('reads the variables', () => {
    expect(
      remoteCacheConfig({
        ...base,
        GATEHOUSE_REMOTE_CACHE_TOKEN: 'tok',
        GATEHOUSE_REMOTE_CACHE_SIGNATURE_KEY: 'sig',
        GATEHOUSE_REMOTE_CACHE_READ_ONLY: 'true',
        GATEHOUSE_REMOTE_CACHE_TIMEOUT_MS: '2500',
      }).config,
    ).toMatchObject({
      url: 'https://cache.example.com',
      token: 'tok',
      team: 'web',
      signatureKey: 'sig',
      readOnly: true,
      timeoutMs: 2500,
    });
    expect(remoteCacheConfig(base).config).toMatchObject({
      token: null,
      signatureKey: null,
      readOnly: false,
      timeoutMs: 10000,
    });
  });
  it.each([
    [{ GATEHOUSE_REMOTE_CACHE_URL: 'https://c' }, 'GATEHOUSE_REMOTE_CACHE_TEAM is not set'],
    [{ ...base, GATEHOUSE_REMOTE_CACHE_URL: 'cache' }, 'GATEHOUSE_REMOTE_CACHE_URL is not a URL'],
    [{ ...base, GATEHOUSE_REMOTE_CACHE_URL: 'ftp://c' }, 'is not an http(s) URL'],
    [{ ...base, GATEHOUSE_REMOTE_CACHE_URL: 'https://u:p@c' }, 'must not carry credentials'],
    [{ ...base, GATEHOUSE_REMOTE_CACHE_READ_ONLY: 'maybe' }, 'is neither true nor false'],
    [{ ...base, GATEHOUSE_REMOTE_CACHE_TIMEOUT_MS: '0' }, 'is not a positive whole number'],
  ])('refuses unusable values (%#)', (env, problem) => {
    const r = remoteCacheConfig(env);
    expect(r.config).toBeNull();
    expect(r.problem).toContain(problem);
  });
});
