/**
 * The Dockerfile's stage layout and the paths it uses, shared with the Docker executor and
 * the CI targets' docker mode (the part they read back is core's `docker-layout.ts`):
 *   base -> setup -> gate-<id>… -> result-<id>… -> gatehouse-results -> gatehouse-verdict
 *     -> gatehouse-judged [-> gatehouse-deploy] -> release
 * The last stage is the default `docker build` target; it depends on the verdict, the
 * verdict on the collector, the collector on every gate: so a plain build runs every
 * gate (in parallel where `needs` allow) and refuses to produce an image when a
 * blocking gate did not pass.
 */

import { gateStageName } from '@gatehouse-ci/core';

/** The stage names and paths every reader of the exported results shares live in core. */
export { DEFAULT_DOCKERFILE_PATH, resultStageName } from '@gatehouse-ci/core';

/** First stage: the gates' image and workdir. */
export const BASE_STAGE = 'base';
/** Copies setup inputs, runs setup, then copies the rest of the build context. */
export const SETUP_STAGE = 'setup';
/** `FROM scratch` stage holding `/<id>/{result.json,log.txt,command.txt,evidence/}` for every gate. */
export const RESULTS_STAGE = 'gatehouse-results';
/** Fails the build when a blocking gate did not pass; writes `/gatehouse/verdict.txt`. */
export const VERDICT_STAGE = 'gatehouse-verdict';
/**
 * The release's source: the filesystem of the `release.from` gate, reachable only through
 * the verdict. A failed verdict stops the build here, with the verdict's reasons, before a
 * release `COPY` could fail on an output the failed gate never wrote.
 */
export const JUDGED_STAGE = 'gatehouse-judged';
/**
 * With a release made of a workspace package (`release.package`): the judged stage with the
 * package deployed into {@link DEPLOY_ROOT} with its production dependencies.
 */
export const DEPLOY_STAGE = 'gatehouse-deploy';
/** Where the deploy stage puts the deployed package (its package.json and node_modules). */
export const DEPLOY_ROOT = '/gatehouse/deploy';
/** The release image (the default target when the pipeline has a release). */
export const RELEASE_STAGE = 'release';
/** Where generated command files live, relative to the config directory. */
export const SCRIPTS_DIR = '.gatehouse/docker';
/**
 * The bundled judge the verdict stage runs (from @gatehouse-ci/report), and the file of what it
 * judges by, written only when that spec is too long to ride in the Dockerfile.
 */
export const VERDICT_JUDGE_FILE = `${SCRIPTS_DIR}/verdict.mjs`;
export const VERDICT_SPEC_FILE = `${SCRIPTS_DIR}/verdict.json`;
/** Where the judge and its spec are copied in the verdict stage. */
export const JUDGE_ROOT = '/gatehouse/judge';
/** Where the verdict file lands in the release image. */
export const RELEASE_VERDICT_PATH = '/usr/share/gatehouse/verdict.txt';
/**
 * Commands whose JSON encoding is longer than this go to a generated script file
 * instead of the `RUN` line (BuildKit refuses Dockerfile lines over 64 KiB).
 */
export const INLINE_COMMAND_LIMIT = 16 * 1024;

/** Stage that runs gate `id` (core's `gateStageName`). */
export const stageName = gateStageName;

/**
 * The private key file `gatehouse report keygen` writes; `.dockerignore` always excludes it,
 * wherever it is in the context.
 */
export const SIGNING_KEY_FILE = 'gatehouse-signing.key';
