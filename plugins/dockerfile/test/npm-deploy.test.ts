/**
 * Gatehouse's deploy of a package of an npm workspace, run by the host's node and npm on the
 * `release-npm-workspace/` fixture installed offline (its dependencies are vendored tarballs).
 * The Docker test (`release-npm-deploy.docker.test.ts`) runs the same program in BuildKit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NPM_DEPLOY_SCRIPT } from '../src/npm-deploy.js';
import { buildStageEnv } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./release-npm-workspace', import.meta.url));
const dirs: string[] = [];
let installed = '';

/** A fresh directory, removed after the tests. */
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'gatehouse-npm-deploy-'));
  dirs.push(d);
  return d;
}

/** A copy of the installed and built fixture, to change before a deploy. */
function workspace(): string {
  const d = join(temp(), 'ws');
  cpSync(installed, d, { recursive: true, verbatimSymlinks: true });
  return d;
}

function deploy(cwd: string, out: string, name = '@acme/web', dir = 'packages/web') {
  return spawnSync('node', ['-e', NPM_DEPLOY_SCRIPT, '--', 'npm', name, dir, out], {
    cwd,
    encoding: 'utf8',
    env: buildStageEnv(),
  });
}

/** Every path under `dir`, relative, sorted; links shown with their target. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (e.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else out.push(rel);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

beforeAll(() => {
  installed = join(temp(), 'ws');
  cpSync(FIXTURE, installed, { recursive: true });
  execFileSync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], {
    cwd: installed,
    stdio: 'pipe',
  });
  for (const p of ['utils', 'web'])
    execFileSync('node', ['../../build.mjs'], { cwd: join(installed, 'packages', p) });
}, 120_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the npm deploy program', () => {
  test('copies the production dependencies, each where its dependent finds it', () => {
    const out = join(temp(), 'deploy');
    const r = deploy(installed, out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`gatehouse: deployed @acme/web with 5 packages into ${out}\n`);
    expect(tree(out)).toEqual([
      'node_modules',
      'node_modules/@acme',
      'node_modules/@acme/utils',
      'node_modules/@acme/utils/dist',
      'node_modules/@acme/utils/dist/index.js',
      'node_modules/@acme/utils/package.json',
      'node_modules/tiny-color',
      'node_modules/tiny-color/index.js',
      'node_modules/tiny-color/package.json',
      'node_modules/tiny-ms',
      'node_modules/tiny-ms/index.js',
      'node_modules/tiny-ms/node_modules',
      'node_modules/tiny-ms/node_modules/tiny-color',
      'node_modules/tiny-ms/node_modules/tiny-color/index.js',
      'node_modules/tiny-ms/node_modules/tiny-color/package.json',
      'node_modules/tiny-ms/package.json',
      'node_modules/tiny-num',
      'node_modules/tiny-num/index.js',
      'node_modules/tiny-num/package.json',
      'package.json',
    ]);
    expect(readFileSync(join(out, 'package.json'), 'utf8')).toBe(
      readFileSync(join(installed, 'packages/web/package.json'), 'utf8'),
    );
    // With the app's own files next to it, it runs: both versions of tiny-color are found.
    cpSync(join(installed, 'packages/web/dist'), join(out, 'dist'), { recursive: true });
    expect(execFileSync('node', ['dist/index.js'], { cwd: out, encoding: 'utf8' })).toBe(
      '[v2] WEB READY IN [V1] 1.5S!\n',
    );
    // Deploying again gives the same tree (the directory is emptied first).
    writeFileSync(join(out, 'node_modules/stale'), '');
    expect(deploy(installed, out).status).toBe(0);
    expect(tree(out)).not.toContain('node_modules/stale');
  });

  test('links `bin`s, and leaves out a peer or an optional dependency that is not installed', () => {
    const ws = workspace();
    const lock = JSON.parse(readFileSync(join(ws, 'package-lock.json'), 'utf8'));
    Object.assign(lock.packages['node_modules/tiny-ms'], {
      bin: { 'tiny-ms': 'index.js' },
      peerDependencies: { 'tiny-peer': '1.0.0', 'tiny-color': '1.0.0' },
      optionalDependencies: { 'tiny-native': '1.0.0' },
    });
    writeFileSync(join(ws, 'package-lock.json'), JSON.stringify(lock));
    const out = join(temp(), 'deploy');
    expect(deploy(ws, out).status).toBe(0);
    const files = tree(out);
    expect(files).toContain('node_modules/.bin/tiny-ms -> ../tiny-ms/index.js');
    expect(files).toContain('node_modules/tiny-ms/node_modules/tiny-color/package.json');
    expect(files.filter((f) => /peer|native/.test(f))).toEqual([]);
  });

  test('fails, saying why, rather than deploy an incomplete package', () => {
    const missing = workspace();
    rmSync(join(missing, 'node_modules/tiny-num'), { recursive: true });
    const r = deploy(missing, join(temp(), 'deploy'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'gatehouse: cannot deploy @acme/web: node_modules/tiny-ms depends on tiny-num, which is not installed\n',
    );

    const noLock = workspace();
    rmSync(join(noLock, 'package-lock.json'));
    const n = deploy(noLock, join(temp(), 'deploy'));
    expect(n.status).toBe(1);
    expect(n.stderr).toContain('no package-lock.json in packages/web or above it');

    const v1 = workspace();
    writeFileSync(join(v1, 'package-lock.json'), '{"lockfileVersion":1,"dependencies":{}}');
    expect(deploy(v1, join(temp(), 'deploy')).stderr).toContain(
      'has no "packages" (lockfileVersion 2 or 3 is needed)',
    );

    expect(deploy(installed, join(temp(), 'deploy'), '@acme/nope', 'packages/nope').stderr).toBe(
      'gatehouse: cannot deploy @acme/nope: packages/nope is not a package of the lockfile in ' +
        `${installed}\n`,
    );
  });
});
