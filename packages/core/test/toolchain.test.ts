import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectNodeToolchain, nodeVersionOfImage, packageManagerOf } from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-toolchain-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe('nodeVersionOfImage', () => {
  it.each([
    ['node:22-bookworm-slim', '22'],
    ['node:24', '24'],
    ['node:20.19.1-alpine3.21', '20.19.1'],
    ['docker.io/library/node:18.20', '18.20'],
    ['node:lts-slim', 'lts/*'],
    ['node', 'node'],
    ['node:current-alpine', 'node'],
    [`node:22@sha256:${'a'.repeat(64)}`, '22'],
    ['nodejs:22', null],
    ['ghcr.io/acme/node:22', null],
    ['gatehouse-test-base:0123456789abcdef', null],
    ['node:bookworm', null],
  ])('%s → %s', (image, version) => {
    expect(nodeVersionOfImage(image)).toBe(version);
  });
});

describe('packageManagerOf', () => {
  it('prefers the lockfile of the declared manager, then pnpm, yarn, npm', () => {
    const both = new Set(['yarn.lock', 'package-lock.json']);
    expect(packageManagerOf(undefined, both).name).toBe('yarn');
    expect(packageManagerOf('npm@10.9.0', both)).toMatchObject({
      name: 'npm',
      lockfile: 'package-lock.json',
      declared: 'npm@10.9.0',
    });
    expect(packageManagerOf('yarn@4.5.0', new Set())).toMatchObject({
      name: 'yarn',
      lockfile: null,
      yarnBerry: true,
    });
    expect(packageManagerOf(undefined, new Set())).toMatchObject({ name: 'npm', declared: null });
  });
});

describe('detectNodeToolchain', () => {
  it('takes Node from an official node image first, then .nvmrc, .node-version, engines', async () => {
    const all = await project({
      'package.json': '{"engines":{"node":">=20"}}',
      '.nvmrc': '22\n',
      '.node-version': '21\n',
    });
    expect(detectNodeToolchain(all, 'node:24-bookworm-slim').node).toEqual({
      kind: 'image',
      version: '24',
      image: 'node:24-bookworm-slim',
    });
    expect(detectNodeToolchain(all, 'acme/builder:1').node).toEqual({
      kind: 'file',
      file: '.nvmrc',
    });
    const nv = await project({ 'package.json': '{}', '.node-version': '21\n' });
    expect(detectNodeToolchain(nv, 'acme/builder:1').node).toEqual({
      kind: 'file',
      file: '.node-version',
    });
    const engines = await project({ 'package.json': '{"engines":{"node":">=20"}}' });
    expect(detectNodeToolchain(engines, 'acme/builder:1').node).toEqual({
      kind: 'file',
      file: 'package.json',
    });
    const bare = await project({ 'package.json': 'not json' });
    expect(detectNodeToolchain(bare, 'acme/builder:1')).toMatchObject({
      node: { kind: 'none' },
      packageManager: { name: 'npm' },
    });
  });

  it('reads the package manager from the lockfile and packageManager', async () => {
    const pnpm = await project({
      'package.json': '{"packageManager":"pnpm@10.12.1"}',
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    });
    expect(detectNodeToolchain(pnpm, 'node:22').packageManager).toMatchObject({
      name: 'pnpm',
      lockfile: 'pnpm-lock.yaml',
      declared: 'pnpm@10.12.1',
    });
  });
});
