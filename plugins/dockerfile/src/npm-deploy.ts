/**
 * The deploy of a package of an npm or yarn workspace, which neither has a command for: a Node
 * program (CommonJS, run with `node -e`) that makes, from the installed workspace of the judged
 * stage, a directory holding the package's package.json and a `node_modules` with its
 * production dependencies only.
 *
 * It works on a packages map in the shape of an npm lockfile's `packages` (install path, such
 * as `node_modules/a/node_modules/b`, to the package's version, dependencies, optional and peer
 * dependencies and `bin`, or to a link to another path). In an npm workspace that map is the
 * lockfile's (`package-lock.json` or `npm-shrinkwrap.json`, version 2 or 3). In a yarn workspace
 * installed into `node_modules` (yarn classic, yarn 2+ with `nodeLinker: node-modules` or
 * `pnpm`), which has no such lockfile, it is read from the installed tree: the package.json of
 * every package in the root's `node_modules`, in nested `node_modules` and in the workspace
 * packages' own `node_modules`, a link in a `node_modules` (a workspace package, or a package
 * in yarn's store with `nodeLinker: pnpm`) being a link to its target, as npm's lockfile records
 * workspace links; from a link's target, the `node_modules` above it where Node looks are read
 * too. A yarn workspace installed with Plug'n'Play has
 * no `node_modules` to copy from: the deploy fails, naming the fix.
 *
 * From the map, it follows the package's `dependencies`, `optionalDependencies` and installed
 * `peerDependencies` (never `devDependencies`) the way Node resolves them, transitively: a
 * missing optional dependency or peer is left out, a missing dependency fails the deploy. Each
 * package reached is placed in the new tree the way npm places one: as high as it can go,
 * nested below its dependent only when a different version holds that name there. Every
 * dependency is then resolved again in the new tree and must reach the same package as in the
 * workspace, or the deploy fails. Packages are copied from where setup's install put them
 * (nothing is fetched, and the versions are the installed ones); a package that is a link (a
 * workspace package, a `file:` directory) is copied as npm would pack it (`npm pack --dry-run`
 * lists its files), with the build outputs the gates left. `bin` links are made in each
 * `node_modules/.bin`.
 *
 * Arguments (after `--`): the package manager (`npm` or `yarn`), the package's name, its
 * directory (relative to the working directory, the config directory) and the directory to
 * deploy to. None is ever part of the program's text.
 */
export const NPM_DEPLOY_SCRIPT = String.raw`'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const [manager, name, dir, out] = process.argv.slice(1);
const fail = (m) => {
  console.error('gatehouse: cannot deploy ' + name + ': ' + m);
  process.exit(1);
};
const readJson = (f) => {
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'));
  } catch {
    return null;
  }
};
const real = (p) => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};
const under = (at, dep) => (at === '' ? '' : at + '/') + 'node_modules/' + dep;
// The workspace root and its packages map (install path -> version, dependencies, optional and
// peer dependencies, bin, or a link to the path of its target), the way an npm lockfile
// (version 2 or 3) holds it: read from that lockfile for npm.
function fromLockfile() {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    for (const f of ['npm-shrinkwrap.json', 'package-lock.json'])
      if (fs.existsSync(path.join(d, f))) {
        const lock = readJson(path.join(d, f)) || {};
        if (!lock.packages)
          fail('the lockfile in ' + d + ' has no "packages" (lockfileVersion 2 or 3 is needed)');
        return { root: d, pkgs: lock.packages, what: 'the lockfile in ' + d };
      }
    if (path.dirname(d) === d) fail('no package-lock.json in ' + dir + ' or above it');
  }
}
// For yarn, which has no such lockfile, from the installed tree: every package.json in the
// root's node_modules, nested node_modules, and the node_modules of the workspace packages;
// a link in a node_modules (a workspace package) is a link to the directory it points to.
// The package itself is a package of the workspace when it has a package.json (core found it
// among the workspace's packages).
function fromInstalledTree() {
  let root = null;
  for (let d = path.resolve(dir); root === null; d = path.dirname(d)) {
    const ws = (readJson(path.join(d, 'package.json')) || {}).workspaces;
    if (Array.isArray(ws) || (ws && Array.isArray(ws.packages))) root = real(d);
    else if (fs.existsSync(path.join(d, 'yarn.lock'))) root = real(d);
    else if (path.dirname(d) === d)
      fail('no yarn.lock or package.json with "workspaces" in ' + dir + ' or above it');
  }
  const pnp = ['.pnp.cjs', '.pnp.js'].find((f) => fs.existsSync(path.join(root, f)));
  if (pnp && !fs.existsSync(path.join(root, 'node_modules')))
    fail(
      'the yarn workspace in ' + root + " is installed with Plug'n'Play (" + pnp + ', no ' +
        'node_modules), which this deploy cannot copy from: set "nodeLinker: node-modules" ' +
        'in its .yarnrc.yml',
    );
  if (!fs.existsSync(path.join(root, 'node_modules')))
    fail('no node_modules in ' + root + ': the workspace is not installed');
  const pkgs = {};
  const key = (p) => path.relative(root, p).split(path.sep).join('/');
  // Directories whose node_modules are read: each package's, and, from a package a link
  // leads to, every directory above it where Node looks too (the store of a pnpm-like layout,
  // where a package's dependencies are links next to it).
  const queue = [];
  const walked = new Set();
  const walk = (at) => {
    if (walked.has(at)) return;
    walked.add(at);
    queue.push(at);
  };
  const add = (at) => {
    const j = readJson(path.join(root, at, 'package.json'));
    if (j === null) return;
    const { version, dependencies, optionalDependencies, peerDependencies, bin } = j;
    pkgs[at] = { version, dependencies, optionalDependencies, peerDependencies, bin };
    const segs = at.split('/');
    for (let i = segs.length; i > 0; i--)
      if (segs[i - 1] !== 'node_modules' && segs[0] !== '..') walk(segs.slice(0, i).join('/'));
    walk(at);
  };
  // The root, and the package itself: yarn links every workspace package into the root's
  // node_modules, but not with nodeLinker: pnpm.
  add('');
  walk('');
  add(key(real(dir)));
  while (queue.length > 0) {
    const at = queue.shift();
    const nm = path.join(root, at, 'node_modules');
    const names = [];
    for (const n of fs.existsSync(nm) ? fs.readdirSync(nm) : [])
      if (n.startsWith('@')) for (const s of fs.readdirSync(path.join(nm, n))) names.push(n + '/' + s);
      else if (!n.startsWith('.')) names.push(n);
    for (const n of names) {
      const k = under(at, n);
      if (pkgs[k] !== undefined) continue;
      if (fs.lstatSync(path.join(root, k)).isSymbolicLink()) {
        const target = key(real(path.join(root, k)));
        pkgs[k] = { link: true, resolved: target };
        if (pkgs[target] === undefined) add(target);
      } else add(k);
    }
  }
  return { root, pkgs, what: 'the workspace in ' + root };
}
if (manager !== 'npm' && manager !== 'yarn') fail('no deploy for a ' + manager + ' workspace');
const { root, pkgs, what } = manager === 'npm' ? fromLockfile() : fromInstalledTree();
const app = path.relative(real(root), real(dir)).split(path.sep).join('/');
if (!pkgs[app] || pkgs[app].link) fail(dir + ' is not a package of ' + what);
// Where Node finds dep from the package at "at": the nearest node_modules/dep above it.
function lookup(at, dep, has) {
  const segs = at === '' ? [] : at.split('/');
  for (let i = segs.length; i >= 0; i--) {
    if (i > 0 && segs[i - 1] === 'node_modules') continue;
    const key = under(segs.slice(0, i).join('/'), dep);
    if (has(key)) return key;
  }
  return null;
}
const installed = (key) => pkgs[key] !== undefined && fs.existsSync(path.join(root, key));
// The real location (a lockfile key) of dep as the package at src resolves it, or null.
function resolve(src, dep) {
  const key = lookup(src, dep, installed);
  if (key === null) return null;
  const e = pkgs[key];
  return e.link ? (installed(e.resolved) ? e.resolved : null) : key;
}
// [dependency name, optional] of a package: its production dependencies. A peer that is not
// installed (legacy-peer-deps) is left out, as the workspace runs without it.
function edges(src) {
  const e = pkgs[src];
  const list = new Map();
  for (const d of Object.keys(e.peerDependencies || {})) list.set(d, true);
  for (const d of Object.keys(e.dependencies || {})) list.set(d, false);
  for (const d of Object.keys(e.optionalDependencies || {})) list.set(d, true);
  return [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
const placed = new Map([['', app]]);
const queue = [''];
while (queue.length > 0) {
  const at = queue.shift();
  const src = placed.get(at);
  for (const [dep, optional] of edges(src)) {
    const want = resolve(src, dep);
    if (want === null) {
      if (optional) continue;
      fail((src || 'the workspace root') + ' depends on ' + dep + ', which is not installed');
    }
    const found = lookup(at, dep, (k) => placed.has(k));
    if (found !== null && placed.get(found) === want) continue;
    const slot = found === null ? under('', dep) : under(at, dep);
    if (placed.has(slot))
      fail('two versions of ' + dep + ' are needed at ' + (at || 'the top of the package'));
    placed.set(slot, want);
    queue.push(slot);
  }
}
for (const [at, src] of placed)
  for (const [dep] of edges(src)) {
    const want = resolve(src, dep);
    const found = lookup(at, dep, (k) => placed.has(k));
    if (want !== null && (found === null || placed.get(found) !== want))
      fail(dep + ' resolves differently from ' + (at || 'the package') + ' than in the workspace');
  }
const isLinkTarget = (src) => !src.split('/').includes('node_modules');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
fs.copyFileSync(path.join(root, app, 'package.json'), path.join(out, 'package.json'));
const dests = [...placed.keys()].filter((k) => k !== '').sort();
for (const at of dests) {
  const src = placed.get(at);
  const from = path.join(root, src);
  const to = path.join(out, at);
  if (isLinkTarget(src)) {
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: from,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    for (const f of packed[0].files) {
      fs.mkdirSync(path.dirname(path.join(to, f.path)), { recursive: true });
      fs.copyFileSync(path.join(from, f.path), path.join(to, f.path));
      fs.chmodSync(path.join(to, f.path), f.mode);
    }
  } else {
    fs.cpSync(from, to, {
      recursive: true,
      verbatimSymlinks: true,
      filter: (p) => path.relative(from, p) !== 'node_modules',
    });
  }
}
for (const at of dests) {
  let bin = pkgs[placed.get(at)].bin;
  if (typeof bin === 'string') bin = { [path.posix.basename(at)]: bin };
  const binDir = path.join(out, path.dirname(at.replace(/\/@[^/]+(?=\/[^/]+$)/, '')), '.bin');
  for (const [cmd, file] of Object.entries(bin || {})) {
    const link = path.join(binDir, path.basename(cmd));
    if (fs.existsSync(link) || !fs.existsSync(path.join(out, at, file))) continue;
    fs.mkdirSync(binDir, { recursive: true });
    fs.symlinkSync(path.relative(binDir, path.join(out, at, file)), link);
  }
}
console.log('gatehouse: deployed ' + name + ' with ' + dests.length + ' packages into ' + out);
`;
