import { execFileSync } from 'node:child_process';
import { loadPipeline, type ResolvedPipeline, type TargetDefinition } from '@gatehouse-ci/core';
import { emitTarget } from './target.js';

/** Where a CI job runs, as the variables a remote-cache mode line reads. */
export interface CiSituation {
  /** What the line must set `GATEHOUSE_REMOTE_CACHE_READ_ONLY` to there. */
  readOnly: 'true' | 'false';
  env: Record<string, string>;
}

/**
 * `GATEHOUSE_REMOTE_CACHE_READ_ONLY` after `/bin/sh` runs `line` (a CI job's remote-cache mode
 * line, as the CI's shell receives it) with exactly `env` (plus PATH).
 */
export function readOnlyAfter(line: string, env: Record<string, string>): string {
  return execFileSync('/bin/sh', ['-c', `${line}\nprintf %s "$GATEHOUSE_REMOTE_CACHE_READ_ONLY"`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  }).toString();
}

/**
 * The first file a target emits for the config at `configPath`, as written (`plain`), with
 * `cache.remote` set to false (`off`) and with it set to true (`on`): what a test compares to
 * show that the remote cache changes nothing unless a config opts in.
 */
export async function remoteCacheVariants<O>(
  target: TargetDefinition<O>,
  name: string,
  configPath: string,
): Promise<{ plain: string; off: string; on: string }> {
  const pipeline = await loadPipeline(configPath);
  const emit = (p: ResolvedPipeline) => emitTarget(target, p, p.targets[name] ?? {})[0]!.contents;
  return {
    plain: emit(pipeline),
    off: emit({ ...pipeline, cache: { remote: false } }),
    on: emit({ ...pipeline, cache: { remote: true } }),
  };
}
