/**
 * Programs a gate's `PATH` runs: which file a name resolves to, and the version of the `node`
 * found there. A gate runs the user's toolchain, which need not be the Node running Gatehouse
 * (a global install, `npx` under another Node, nvm): the runner keys gates on this version,
 * the report records it among a gate's tools.
 */
import { spawnSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The first executable file named `name` in `path`'s absolute directories, or null. */
export function findOnPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const p = join(dir, name);
    try {
      const st = statSync(p);
      if (st.isFile() && (st.mode & 0o111) !== 0) return p;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * The version of the `node` that `path` runs (`v22.12.0`): this process's when it is the same
 * binary (nothing is started), else what that `node --version` prints within 5 s. Null when
 * `path` has no `node`, or it does not answer with a version.
 */
export function nodeVersionOnPath(path: string): string | null {
  const bin = findOnPath('node', path);
  if (!bin) return null;
  if (sameFile(bin, process.execPath)) return process.version;
  // A different Node (nvm, a version manager's shim): ask it, briefly.
  const r = spawnSync(bin, ['--version'], {
    encoding: 'utf8',
    timeout: 5000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const v = typeof r.stdout === 'string' ? r.stdout.trim() : '';
  return /^v\d+\.\d+\.\d+\S*$/.test(v) ? v : null;
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
