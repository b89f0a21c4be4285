/**
 * The tools a gate ran with on this machine, for `GateResult.tools`: the Node and the
 * package manager its `PATH` gives it, and the version of a tool its evidence names without
 * a version (ESLint's JSON, Vitest's JUnit), read from that tool's `package.json` in the
 * project's `node_modules`, as `npx <tool>` would find it. Only executors whose gates run
 * here, in the project's directory, ask for it (the local one); a Docker gate's image says.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findOnPath, nodeVersionOnPath, type ToolVersion } from '@gatehouse-ci/core';
import { packageManagerOf } from './package-manager.js';
import { toolOf } from './evidence/types.js';

/** Where a gate ran: its working directory and environment (only `PATH` is read). */
export interface GateToolchain {
  /** The gate's working directory (the config's directory, for the local executor). */
  cwd: string;
  env: Record<string, string | undefined>;
  /**
   * The pipeline's `setup.run`: beside lockfiles of several managers, the one it runs is the
   * project's. @default null (the first lockfile found)
   */
  setupRun?: string | null;
}

/** Largest `package.json` read: a version is in the first bytes of a real one. */
const PACKAGE_JSON_MAX = 1024 * 1024;

const runtimeCache = new Map<string, ToolVersion[]>();

/**
 * `node` and the project's package manager, with the versions this gate's `PATH` runs:
 * computed once per `PATH`, directory and setup. The package manager is the project's (its
 * `packageManager`, else its lockfile, chosen by the setup's command among several); its version is that of the package behind the binary
 * of that name on `PATH`, else the declared one, else the one the invoking manager announces.
 */
export function runtimeTools(t: GateToolchain): ToolVersion[] {
  const key = JSON.stringify([t.env.PATH ?? '', t.cwd, t.setupRun ?? null]);
  const known = runtimeCache.get(key);
  if (known) return known;
  const out: ToolVersion[] = [];
  const node = nodeVersionOnPath(t.env.PATH ?? '');
  if (node) out.push({ name: 'node', version: node, source: 'runtime' });
  const pm = packageManagerOf(t.cwd, t.env, t.setupRun ?? null);
  if (pm) {
    const bin = findOnPath(pm.name, t.env.PATH ?? '');
    const version = (bin && packageVersionAbove(bin, pm.name)) ?? pm.version;
    const tool = version ? toolOf(pm.name, version) : undefined;
    if (tool) out.push({ ...tool, source: 'runtime' });
  }
  runtimeCache.set(key, out);
  return out;
}

/**
 * The version of npm package `name` as installed for `cwd`: `node_modules/<name>/package.json`
 * in `cwd` or the nearest directory above it that has one (Node's own lookup), or null.
 */
export function installedVersion(cwd: string, name: string): string | null {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const pkg = readPackageJson(join(dir, 'node_modules', name, 'package.json'));
    if (pkg !== null) {
      return pkg.name === name ? (toolOf(name, pkg.version)?.version ?? null) : null;
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * The version in the nearest `package.json` named `name` above the real file of `bin`
 * (`…/lib/node_modules/npm/bin/npm-cli.js` → npm's), at most 4 levels up; null for a shim
 * (Corepack's) or a binary that is not a package's.
 */
function packageVersionAbove(bin: string, name: string): string | null {
  let dir: string;
  try {
    dir = dirname(realpathSync(bin));
  } catch {
    return null;
  }
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const pkg = readPackageJson(join(dir, 'package.json'));
    if (pkg !== null)
      return pkg.name === name ? (toolOf(name, pkg.version)?.version ?? null) : null;
    if (dirname(dir) === dir) break;
  }
  return null;
}

/**
 * `name` and `version` of a `package.json`, or null when it is missing, not a regular file
 * (a FIFO a gate left there is never waited on), larger than 1 MiB, or not JSON.
 */
function readPackageJson(path: string): { name: unknown; version: unknown } | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > PACKAGE_JSON_MAX) return null;
    const buf = Buffer.alloc(st.size);
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, read);
      if (n === 0) break;
      read += n;
    }
    const data = JSON.parse(buf.subarray(0, read).toString('utf8')) as unknown;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
    const { name, version } = data as Record<string, unknown>;
    return { name, version };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
