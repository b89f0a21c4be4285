/**
 * `init` in a package directory of a workspace (pnpm, npm): the config installs the workspace
 * with the root's package manager from the package directory, keys setup on the root's install
 * files (`//`), and runs the package's own scripts. `gatehouse run` there passes with the real
 * package manager, and fails when the package's own script fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '@gatehouse-ci/core';
import { makeWorkspace, type WorkspacePackageSpec } from '@gatehouse-ci/test-utils';
import { runCli } from './helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The build writes what init guesses its outputs are (`dist/**`).
const BUILD = `node -e "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/index.js','')"`;
const PACKAGES: WorkspacePackageSpec[] = [
  { dir: 'packages/utils', name: '@acme/utils' },
  {
    dir: 'packages/web',
    name: '@acme/web',
    deps: ['@acme/utils'],
    scripts: { lint: 'node -e 0', test: 'node -e 0', build: BUILD },
  },
];

/** A committed workspace whose lockfile is made by the real package manager, not installed. */
function workspace(manager: 'pnpm' | 'npm'): string {
  const root = mkdtempSync(join(tmpdir(), `gh-init-pkg-${manager}-`));
  dirs.push(root);
  makeWorkspace(root, PACKAGES, {
    manager,
    git: true,
    files: {
      'tsconfig.base.json': '{}',
      'packages/web/tsconfig.json': '{"extends":"../../tsconfig.base.json"}',
    },
  });
  execFileSync(manager, ['install', '--offline', '--silent'], {
    cwd: root,
    stdio: 'pipe',
  });
  rmSync(join(root, 'node_modules'), { recursive: true, force: true });
  for (const p of PACKAGES)
    rmSync(join(root, p.dir, 'node_modules'), { recursive: true, force: true });
  return root;
}

async function initInPackage(root: string) {
  const web = join(root, 'packages/web');
  const r = await runCli(['init'], web, { ...process.env });
  expect(r.code, r.err).toBe(0);
  const v = await validateConfig(join(web, 'gatehouse.yml'));
  expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { web, out: r.out, pipeline: v.pipeline! };
}

/** Gates that failed in a `run --json`. */
function failedGates(out: string): string[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; id?: string; result?: { status: string } })
    .filter((e) => e.type === 'gate-end' && e.result?.status === 'failed')
    .map((e) => e.id!);
}

async function failsOnOwnScript(web: string): Promise<void> {
  const pkgPath = join(web, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { scripts: Record<string, string> };
  pkg.scripts.lint = 'exit 3';
  writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
  const bad = await runCli(['run', '--json'], web, { ...process.env });
  expect(bad.code).toBe(1);
  expect(failedGates(bad.out)).toEqual(['lint']);
}

describe('init in a package directory of a workspace', () => {
  it('pnpm: installs the workspace with pnpm from the package, keyed on the root files, and runs its scripts', async () => {
    const root = workspace('pnpm');
    const { web, out, pipeline } = await initInPackage(root);
    expect(out).toContain(
      `workspace: this config is a package (packages/web) of the workspace at `,
    );
    expect(out).toContain(
      'package manager: pnpm (pnpm-lock.yaml found (packageManager: pnpm@10.34.8) at the workspace root ../..)',
    );
    expect(pipeline.setup).toMatchObject({
      run: 'pnpm install --frozen-lockfile',
      inputs: [
        'package.json',
        '//package.json',
        '//pnpm-lock.yaml',
        '//pnpm-workspace.yaml',
        '//packages/*/package.json',
      ],
    });
    expect(Object.fromEntries(pipeline.gates.map((g) => [g.id, g.run]))).toEqual({
      lint: 'pnpm run lint',
      unit: 'pnpm test',
      build: 'pnpm run build',
    });
    // A Dockerfile built from the package directory could not see the root's files.
    expect(Object.keys(pipeline.targets)).toEqual(['github']);
    // The root config the package's tsconfig extends is named, and is in the gates' key.
    expect(out).toContain('root configs the gates may read, in that key: //tsconfig.base.json');

    // Its workflow sets up the root's pnpm and caches on the root's lockfile.
    const compiled = await runCli(['compile'], web, { ...process.env });
    expect(compiled.code, compiled.out + compiled.err).toBe(0);
    const workflow = readFileSync(
      join(root, '.github/workflows/gatehouse-packages-web.yml'),
      'utf8',
    );
    expect(workflow).toContain('package_json_file: "package.json"');
    expect(workflow).toContain('cache: "pnpm"');
    expect(workflow).toContain('cache-dependency-path: "pnpm-lock.yaml"');

    const ok = await runCli(['run', '--no-cache'], web, { ...process.env });
    expect(ok.code, ok.out + ok.err).toBe(0);
    // Setup ran from the package and installed the workspace: the workspace dependency is linked.
    expect(existsSync(join(web, 'node_modules/@acme/utils/package.json'))).toBe(true);
    const base = join(root, 'tsconfig.base.json');
    writeFileSync(base, `${readFileSync(base, 'utf8')}\n`);
    const why = await runCli(['explain'], web, { ...process.env });
    expect(why.out).toMatch(/input \/\/tsconfig\.base\.json changed/);
    await failsOnOwnScript(web);
  }, 180_000);

  it('npm workspaces: npm ci from the package, keyed on the root lockfile', async () => {
    const root = workspace('npm');
    const { web, out, pipeline } = await initInPackage(root);
    expect(out).toContain(
      'package manager: npm (package-lock.json found at the workspace root ../..)',
    );
    expect(pipeline.setup).toMatchObject({
      run: 'npm ci',
      inputs: [
        'package.json',
        '//package.json',
        '//package-lock.json',
        '//packages/*/package.json',
      ],
    });
    expect(Object.fromEntries(pipeline.gates.map((g) => [g.id, g.run]))).toEqual({
      lint: 'npm run lint',
      unit: 'npm test',
      build: 'npm run build',
    });
    const ok = await runCli(['run', '--no-cache'], web, { ...process.env });
    expect(ok.code, ok.out + ok.err).toBe(0);
    // npm installs a workspace at its root, whichever package directory it is run in.
    expect(existsSync(join(root, 'node_modules/@acme/utils/package.json'))).toBe(true);
    await failsOnOwnScript(web);
  }, 180_000);

  it('a directory below a workspace that is not one of its packages is a project of its own', async () => {
    const root = workspace('pnpm');
    const tool = join(root, 'tools/script');
    mkdirSync(tool, { recursive: true });
    writeFileSync(join(tool, 'package.json'), '{"name":"script","scripts":{"lint":"node -e 0"}}');
    const r = await runCli(['init', '--dry-run'], tool, { ...process.env });
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain('workspace: this config is a package');
    expect(r.out).toContain('setup:\n  run: npm install\n  inputs: [package.json]');
  });
});
