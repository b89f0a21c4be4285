/**
 * Finding the config when `--config` is not given: `gatehouse.yml` (then `gatehouse.yaml`)
 * in the current directory, else in its parent, and so on up to the filesystem root, as git
 * finds `.git`. So `gatehouse run` works from any subdirectory of the project.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GatehouseError } from '@gatehouse-ci/core';

/** Config file names tried in each directory, in order. */
export const DEFAULT_CONFIG_NAMES = ['gatehouse.yml', 'gatehouse.yaml'] as const;

/** The config found, and whether it came from a directory above the start. */
export interface FoundConfig {
  /** Absolute path of the config file. */
  path: string;
  /** True when the file is not in the start directory but in one of its ancestors. */
  above: boolean;
}

/**
 * The nearest config at or above `start`. A config above `start` that belongs to another user
 * is refused rather than used, since `run` executes its commands: in a shared directory such
 * as `/tmp`, anyone could have put it there (git refuses such repositories for the same reason).
 * Throws `GH_CONFIG_NOT_FOUND`, naming `start`, when no directory up to the root has one.
 */
export function discoverConfig(
  start: string,
  uid: number | undefined = process.getuid?.(),
): FoundConfig {
  const from = resolve(start);
  for (let dir = from; ; dir = dirname(dir)) {
    for (const name of DEFAULT_CONFIG_NAMES) {
      const path = join(dir, name);
      const owner = ownerOf(path);
      if (owner === null) continue;
      const above = dir !== from;
      if (above && uid !== undefined && owner !== uid) {
        throw new GatehouseError(
          'GH_CONFIG_NOT_FOUND',
          `no gatehouse.yml or gatehouse.yaml in ${from}; the nearest, ${path}, belongs to another user (uid ${owner}) and is not used`,
          { hint: `pass --config ${path} if you trust it` },
        );
      }
      return { path, above };
    }
    if (dirname(dir) === dir) break;
  }
  throw new GatehouseError(
    'GH_CONFIG_NOT_FOUND',
    `no gatehouse.yml or gatehouse.yaml in ${from} or any directory above it`,
    { hint: 'pass --config FILE, or run `gatehouse init` to create one' },
  );
}

/** The owner of `path` when it exists (the loader says when it is not a regular file), else null. */
function ownerOf(path: string): number | null {
  try {
    return statSync(path).uid;
  } catch {
    return null;
  }
}
