/**
 * Gatehouse's deploy of a package of a yarn workspace, run by the host's node, npm and yarn
 * 1.22 on the `release-yarn-workspace/` fixture installed offline (its dependencies are vendored
 * tarballs; `resolutions` point `tiny-ms`'s semver dependencies at them). Yarn has no lockfile
 * of install paths, so the program reads the installed tree: these tests show that it finds
 * the same packages there that Node loads in the workspace.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NPM_DEPLOY_SCRIPT } from '../src/npm-deploy.js';
import { buildStageEnv } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./release-yarn-workspace', import.meta.url));
const dirs: string[] = [];
let installed = '';

/** A fresh directory, removed after the tests. */
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'gatehouse-yarn-deploy-'));
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
  return spawnSync('node', ['-e', NPM_DEPLOY_SCRIPT, '--', 'yarn', name, dir, out], {
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
  const t = temp();
  installed = join(t, 'ws');
  cpSync(FIXTURE, installed, { recursive: true });
  execFileSync('yarn', ['install', '--frozen-lockfile', '--offline', '--non-interactive'], {
    cwd: installed,
    stdio: 'pipe',
    env: { ...process.env, YARN_CACHE_FOLDER: join(t, 'yarn-cache') },
  });
  for (const p of ['utils', 'web', 'admin'])
    execFileSync('node', ['../../build.mjs'], { cwd: join(installed, 'packages', p) });
}, 120_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the deploy program on a yarn classic workspace', () => {
  test('the install it reads: web has its own tiny-color@2, the hoisted one is tiny-color@1', () => {
    // What makes the placement below a real test: yarn hoisted admin's and tiny-ms's version.
    const version = (p: string) =>
      (JSON.parse(readFileSync(join(installed, p, 'package.json'), 'utf8')) as { version: string })
        .version;
    expect(version('node_modules/tiny-color')).toBe('1.0.0');
    expect(version('packages/web/node_modules/tiny-color')).toBe('2.0.0');
    expect(readlinkSync(join(installed, 'node_modules/@acme/utils'))).toBe('../../packages/utils');
  });

  test('copies the production dependencies from the installed tree, each where its dependent finds it', () => {
    const out = join(temp(), 'deploy');
    const r = deploy(installed, out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
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
    expect(readFileSync(join(out, 'node_modules/tiny-color/package.json'), 'utf8')).toContain(
      '"version": "2.0.0"',
    );
    // With the app's own files next to it, it runs: both versions of tiny-color are found.
    cpSync(join(installed, 'packages/web/dist'), join(out, 'dist'), { recursive: true });
    expect(execFileSync('node', ['dist/index.js'], { cwd: out, encoding: 'utf8' })).toBe(
      '[v2] WEB READY IN [V1] 1.5S!\n',
    );
  });

  test('deploys the other app with the hoisted versions, and nothing of web', () => {
    const out = join(temp(), 'deploy');
    const r = deploy(installed, out, '@acme/admin', 'packages/admin');
    expect(r.status, r.stderr).toBe(0);
    expect(tree(out).filter((f) => !f.includes('/', 'node_modules/'.length))).toEqual([
      'node_modules',
      'node_modules/@acme',
      'node_modules/tiny-color',
      'node_modules/tiny-log',
      'package.json',
    ]);
    cpSync(join(installed, 'packages/admin/dist'), join(out, 'dist'), { recursive: true });
    expect(execFileSync('node', ['dist/index.js'], { cwd: out, encoding: 'utf8' })).toBe(
      '[v1] ADMIN!\n',
    );
  });

  test('follows links into a store, as yarn lays out node_modules with `nodeLinker: pnpm`', () => {
    // The classic install rearranged as yarn 4.18's pnpm linker lays it out: every package in
    // node_modules/.store/<id>/package, its dependencies links in .store/<id>/node_modules, the
    // workspace packages' dependencies links in their own node_modules, none at the root.
    const ws = workspace();
    const nm = join(ws, 'node_modules');
    const store = (id: string, from: string) => {
      mkdirSync(join(nm, '.store', id, 'node_modules'), { recursive: true });
      renameSync(from, join(nm, '.store', id, 'package'));
    };
    store('tiny-ms', join(nm, 'tiny-ms'));
    store('tiny-num', join(nm, 'tiny-num'));
    store('tiny-color-1', join(nm, 'tiny-color'));
    store('tiny-color-2', join(ws, 'packages/web/node_modules/tiny-color'));
    rmSync(join(nm, '@acme'), { recursive: true });
    symlinkSync('../../tiny-color-1/package', join(nm, '.store/tiny-ms/node_modules/tiny-color'));
    symlinkSync('../../tiny-num/package', join(nm, '.store/tiny-ms/node_modules/tiny-num'));
    const webNm = join(ws, 'packages/web/node_modules');
    mkdirSync(join(webNm, '@acme'));
    symlinkSync('../../../utils', join(webNm, '@acme/utils'));
    symlinkSync('../../../node_modules/.store/tiny-ms/package', join(webNm, 'tiny-ms'));
    symlinkSync('../../../node_modules/.store/tiny-color-2/package', join(webNm, 'tiny-color'));
    symlinkSync('.store/tiny-num/package', join(nm, 'tiny-num'));
    // Node runs web from that layout...
    expect(
      execFileSync('node', ['packages/web/dist/index.js'], { cwd: ws, encoding: 'utf8' }),
    ).toBe('[v2] WEB READY IN [V1] 1.5S!\n');
    // ...and the deploy finds the same packages there, placed as from the classic layout.
    const out = join(temp(), 'deploy');
    const r = deploy(ws, out);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`gatehouse: deployed @acme/web with 5 packages into ${out}\n`);
    const classic = join(temp(), 'deploy');
    expect(deploy(installed, classic).status).toBe(0);
    expect(tree(out)).toEqual(tree(classic));
    cpSync(join(ws, 'packages/web/dist'), join(out, 'dist'), { recursive: true });
    expect(execFileSync('node', ['dist/index.js'], { cwd: out, encoding: 'utf8' })).toBe(
      '[v2] WEB READY IN [V1] 1.5S!\n',
    );
  });

  test('links `bin`s as package.json declares them', () => {
    const ws = workspace();
    const pj = join(ws, 'node_modules/tiny-ms/package.json');
    writeFileSync(pj, JSON.stringify({ ...JSON.parse(readFileSync(pj, 'utf8')), bin: 'index.js' }));
    const out = join(temp(), 'deploy');
    expect(deploy(ws, out).status).toBe(0);
    expect(tree(out)).toContain('node_modules/.bin/tiny-ms -> ../tiny-ms/index.js');
  });

  test("fails, saying why, on a missing dependency, a Plug'n'Play install or no workspace", () => {
    const missing = workspace();
    rmSync(join(missing, 'node_modules/tiny-num'), { recursive: true });
    const r = deploy(missing, join(temp(), 'deploy'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'gatehouse: cannot deploy @acme/web: node_modules/tiny-ms depends on tiny-num, which is not installed\n',
    );

    const pnp = workspace();
    rmSync(join(pnp, 'node_modules'), { recursive: true });
    writeFileSync(join(pnp, '.pnp.cjs'), '');
    const p = deploy(pnp, join(temp(), 'deploy'));
    expect(p.status).toBe(1);
    expect(p.stderr).toBe(
      `gatehouse: cannot deploy @acme/web: the yarn workspace in ${pnp} is installed with ` +
        "Plug'n'Play (.pnp.cjs, no node_modules), which this deploy cannot copy from: set " +
        '"nodeLinker: node-modules" in its .yarnrc.yml\n',
    );

    const noWorkspaces = workspace();
    writeFileSync(join(noWorkspaces, 'package.json'), '{"name":"shop"}');
    rmSync(join(noWorkspaces, 'yarn.lock'));
    expect(deploy(noWorkspaces, join(temp(), 'deploy')).stderr).toBe(
      'gatehouse: cannot deploy @acme/web: no yarn.lock or package.json with "workspaces" in packages/web or above it\n',
    );

    expect(deploy(installed, join(temp(), 'deploy'), '@acme/nope', 'packages/nope').stderr).toBe(
      `gatehouse: cannot deploy @acme/nope: packages/nope is not a package of the workspace in ${installed}\n`,
    );
  });
});
