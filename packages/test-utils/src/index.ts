export { gate, pipeline } from './pipeline.js';
export {
  ensureBaseImage,
  dockerAvailable,
  requireDocker,
  BASE_IMAGE_REPOSITORY,
  BASE_IMAGE_PATH,
  DOCKER_CLI,
  DOCKER_TEST_TIMEOUT_MS,
  DOCKER_IDLE_LIMIT_MS,
  hostPnpmDir,
  hostYarnDir,
} from './docker.js';
export type { BaseImageSources } from './docker.js';
export { hostileString, HOSTILE_FRAGMENTS } from './hostile.js';
export { ensureBrowserImage, BROWSER_IMAGE_REPOSITORY } from './browser-image.js';
export {
  launchChromium,
  chromiumAvailable,
  requireChromium,
  CHROMIUM_PATH,
  CHROMIUM_ARGS,
} from './chromium.js';
export { diagnosticsOf, withEnv } from './diagnostics.js';
export { bwrapProblem, requireBwrap } from './bwrap.js';
export {
  redactionModel,
  secretsLeft,
  redactionCase,
  redactionSecrets,
  redactionText,
  REDACTION_CHARS,
} from './redaction.js';
export { emitTarget, TEST_TARGET_CONTEXT } from './target.js';
export { makeWorkspace, type WorkspacePackageSpec, type WorkspaceOptions } from './workspace.js';
export { readOnlyAfter, remoteCacheVariants, type CiSituation } from './remote-cache.js';
export { startAgent, startEngine, copyImage, type TestEngine } from './engine.js';
export { startRegistry, requireRegistry, type TestRegistry } from './registry.js';
export { freePort } from './net.js';
