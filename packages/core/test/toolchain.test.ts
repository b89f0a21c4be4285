import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  detectNodeToolchain,
  nodeVersionOfImage,
  packageManagerOf,
  packageManagerRunBy,
} from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-toolchain-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

function gitInit(dir: string): void {
  const r = spawnSync('git', ['init', '-q'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

/** A git repository holding a pnpm workspace at its top, with `packages/web`. */
async function pnpmWorkspace(extra: Record<string, string> = {}): Promise<string> {
  const top = await project({
    'package.json': '{"name":"root","private":true,"packageManager":"pnpm@10.34.8"}',
    'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
    'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    '.nvmrc': '22\n',
    'packages/web/package.json': '{"name":"web","engines":{"node":">=20"}}',
    ...extra,
  });
  gitInit(top);
  return top;
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

describe('packageManagerRunBy', () => {
  it.each([
    ['npm ci', 'npm'],
    ['npx --yes playwright install', 'npm'],
    ['npx pnpm@10.34.8 install --frozen-lockfile', 'pnpm'],
    ['pnpm install --frozen-lockfile', 'pnpm'],
    ['yarn install --immutable', 'yarn'],
    ['corepack pnpm install', 'pnpm'],
    ['corepack enable && pnpm install', 'pnpm'],
    ['CI=1 NODE_ENV=test npm ci', 'npm'],
    ['env HUSKY=0 yarn', 'yarn'],
    ['cd ../.. && pnpm install', 'pnpm'],
    ['set -eu\n# dependencies\nnpm ci --ignore-scripts\nnpm run build', 'npm'],
    ['make deps && npm ci', null],
    ['./install.sh', null],
    ['', null],
  ])('%j → %s', (run, name) => {
    expect(packageManagerRunBy(run)).toBe(name);
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

  it("chooses among several managers' lockfiles by what the setup runs", async () => {
    const stale = await project({
      'package.json': '{}',
      'yarn.lock': '',
      'package-lock.json': '{}',
    });
    expect(detectNodeToolchain(stale, 'node:22', true, 'npm ci').packageManager).toEqual({
      name: 'npm',
      lockfile: 'package-lock.json',
      yarnBerry: false,
      reason: 'package-lock.json found (setup runs npm); also found yarn.lock, ignored',
      declared: null,
    });
    const three = await project({
      'package.json': '{}',
      'pnpm-lock.yaml': '',
      'yarn.lock': '',
      'package-lock.json': '{}',
    });
    expect(
      detectNodeToolchain(three, 'node:22', true, 'pnpm install --frozen-lockfile').packageManager,
    ).toMatchObject({
      name: 'pnpm',
      lockfile: 'pnpm-lock.yaml',
      reason:
        'pnpm-lock.yaml found (setup runs pnpm); also found yarn.lock, package-lock.json, ignored',
    });
    expect(detectNodeToolchain(three, 'node:22', true, 'yarn').packageManager).toMatchObject({
      name: 'yarn',
      lockfile: 'yarn.lock',
    });
    // packageManager names a manager without a lockfile here: the setup chooses.
    const elsewhere = await project({
      'package.json': '{"packageManager":"yarn@1.22.22"}',
      'pnpm-lock.yaml': '',
      'package-lock.json': '{}',
    });
    expect(detectNodeToolchain(elsewhere, 'node:22', true, 'npm ci').packageManager).toMatchObject({
      name: 'npm',
      lockfile: 'package-lock.json',
    });
  });

  it('lets packageManager, a single lockfile, or no setup hint decide as before', async () => {
    // packageManager names pnpm and its lockfile is there: corepack would run pnpm.
    const declared = await project({
      'package.json': '{"packageManager":"pnpm@10.12.1"}',
      'pnpm-lock.yaml': '',
      'package-lock.json': '{}',
    });
    expect(detectNodeToolchain(declared, 'node:22', true, 'npm ci').packageManager).toMatchObject({
      name: 'pnpm',
      lockfile: 'pnpm-lock.yaml',
      reason:
        'pnpm-lock.yaml found (packageManager: pnpm@10.12.1); also found package-lock.json, ignored',
    });
    // A single lockfile decides: the hint only chooses among lockfiles that are there.
    const single = await project({ 'package.json': '{}', 'yarn.lock': '' });
    expect(detectNodeToolchain(single, 'node:22', true, 'npm ci').packageManager).toMatchObject({
      name: 'yarn',
      lockfile: 'yarn.lock',
      reason: 'yarn.lock found',
    });
    const none = await project({ 'package.json': '{}' });
    expect(detectNodeToolchain(none, 'node:22', true, 'pnpm install').packageManager).toMatchObject(
      { name: 'npm', lockfile: null },
    );
    // No setup, or one that runs no package manager: the first lockfile, as before.
    const stale = await project({
      'package.json': '{}',
      'yarn.lock': '',
      'package-lock.json': '{}',
    });
    for (const run of [null, 'make deps'])
      expect(detectNodeToolchain(stale, 'node:22', true, run).packageManager).toMatchObject({
        name: 'yarn',
        reason: 'yarn.lock found; also found package-lock.json, ignored',
      });
    expect(detectNodeToolchain(stale, 'node:22').packageManager.name).toBe('yarn');
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

describe('detectNodeToolchain of a package of a workspace', () => {
  it("takes the workspace root's package manager, lockfile and Node version file when the package has none", async () => {
    const top = await pnpmWorkspace();
    expect(detectNodeToolchain(join(top, 'packages/web'), 'acme/builder:1')).toEqual({
      node: { kind: 'file', file: '../../.nvmrc' },
      packageManager: {
        name: 'pnpm',
        lockfile: '../../pnpm-lock.yaml',
        yarnBerry: false,
        reason: 'pnpm-lock.yaml found (packageManager: pnpm@10.34.8), at the workspace root ../..',
        declared: 'pnpm@10.34.8',
      },
      packageManagerDir: '../..',
      declaredDir: '../..',
    });
    // The root itself reads only its own files, as before.
    expect(detectNodeToolchain(top, 'acme/builder:1')).toMatchObject({
      node: { kind: 'file', file: '.nvmrc' },
      packageManager: { name: 'pnpm', lockfile: 'pnpm-lock.yaml' },
      packageManagerDir: '',
    });
    // Without a version file anywhere, the package's engines come before the root's.
    const engines = await pnpmWorkspace({ '.nvmrc': '' });
    await rm(join(engines, '.nvmrc'));
    expect(detectNodeToolchain(join(engines, 'packages/web'), 'acme/builder:1').node).toEqual({
      kind: 'file',
      file: 'package.json',
    });
  });

  it("a package's own packageManager is read from its package.json when the root declares none", async () => {
    const top = await pnpmWorkspace({
      'package.json': '{"name":"root","private":true}',
      'packages/web/package.json': '{"name":"web","packageManager":"pnpm@10.34.8"}',
    });
    expect(detectNodeToolchain(join(top, 'packages/web'), 'acme/builder:1')).toMatchObject({
      packageManager: { name: 'pnpm', lockfile: '../../pnpm-lock.yaml', declared: 'pnpm@10.34.8' },
      packageManagerDir: '../..',
      declaredDir: '',
    });
  });

  it("the package's setup chooses among several managers' lockfiles at the root", async () => {
    const top = await pnpmWorkspace({
      'package.json': '{"name":"root","private":true,"workspaces":["packages/*"]}',
      'package-lock.json': '{}',
    });
    expect(
      detectNodeToolchain(join(top, 'packages/web'), 'acme/builder:1', true, 'cd ../.. && npm ci'),
    ).toMatchObject({
      packageManager: {
        name: 'npm',
        lockfile: '../../package-lock.json',
        reason:
          'package-lock.json found (setup runs npm); also found pnpm-lock.yaml, ignored, at the workspace root ../..',
      },
      packageManagerDir: '../..',
    });
  });

  it("the config directory's own lockfile and version file win over the root's", async () => {
    const top = await pnpmWorkspace({
      'packages/web/package-lock.json': '{}',
      'packages/web/.node-version': '20\n',
    });
    expect(detectNodeToolchain(join(top, 'packages/web'), 'acme/builder:1')).toMatchObject({
      node: { kind: 'file', file: '.node-version' },
      packageManager: { name: 'npm', lockfile: 'package-lock.json' },
      packageManagerDir: '',
    });
  });

  it('never looks above the top of the git work tree, nor at a top that is no workspace', async () => {
    // A workspace outside the repository the config is in: not the config's.
    const outer = await project({
      'package.json': '{"packageManager":"pnpm@10.34.8"}',
      'pnpm-workspace.yaml': 'packages:\n  - repo/packages/*\n',
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      '.nvmrc': '22\n',
      'repo/packages/web/package.json': '{"name":"web"}',
    });
    gitInit(join(outer, 'repo'));
    expect(detectNodeToolchain(join(outer, 'repo/packages/web'), 'acme/builder:1')).toEqual({
      node: { kind: 'none' },
      packageManager: expect.objectContaining({ name: 'npm', lockfile: null }) as unknown,
      packageManagerDir: '',
      declaredDir: null,
    });
    // A repository whose top has a lockfile but declares no workspace shares no install.
    const plain = await project({
      'package.json': '{"name":"top"}',
      'package-lock.json': '{}',
      'apps/shop/package.json': '{"name":"shop"}',
    });
    gitInit(plain);
    expect(
      detectNodeToolchain(join(plain, 'apps/shop'), 'acme/builder:1').packageManager,
    ).toMatchObject({ name: 'npm', lockfile: null });
    // `lookAbove: false` (a checkout whose top is the config directory) reads it alone.
    const top = await pnpmWorkspace();
    expect(detectNodeToolchain(join(top, 'packages/web'), 'acme/builder:1', false)).toMatchObject({
      node: { kind: 'file', file: 'package.json' },
      packageManager: { name: 'npm' },
    });
  });
});
