/**
 * @gatehouse-ci/runner — the local executor: runs gates as processes on this machine, in
 * dependency order and in parallel, with a content-addressed cache, redacted capped logs,
 * and a report written whatever happens.
 */
import { definePlugin } from '@gatehouse-ci/core';
import { execute } from './execute.js';

export { execute, DEFAULTS, EXECUTOR } from './execute.js';
export { explain } from './explain.js';
/** @deprecated import it from `@gatehouse-ci/core`. */
export { runPaths } from '@gatehouse-ci/core';
/** @deprecated import it from `@gatehouse-ci/core`. */
export { newRunId } from '@gatehouse-ci/core';
export type { LocalExecuteOptions } from './execute.js';
export type { GateExplanation } from './explain.js';
export { StreamRedactor, redactText, textRedactor, REDACTED } from './redact.js';
export { LogSink, TRUNCATED_MARKER, type LogStreamFactory, type LogSummary } from './log-sink.js';
export { matchFiles, globToRegExp } from './glob.js';
export {
  acquireLock,
  acquireRunLock,
  holderAlive,
  lockPaths,
  type LockInfo,
  type HeldLock,
  type RunLock,
  type LockDescription,
  type RunLockOptions,
} from './lock.js';
/** @deprecated import it from `@gatehouse-ci/report`. */
export { publishLatest } from './results.js';
export type { GateManifest } from './manifest.js';
export type { CacheEntry } from './cache.js';
export { remoteCacheConfig, REMOTE_CACHE_ENV, type RemoteCacheConfig } from './remote-cache.js';

/** The runner as a plugin: provides the `local` executor. */
const runnerPlugin = definePlugin({
  name: '@gatehouse-ci/runner',
  executors: {
    local: {
      description: 'Run gates as local processes (no Docker needed), cached and in parallel',
      writesReport: true,
      execute,
    },
  },
});

export default runnerPlugin;
