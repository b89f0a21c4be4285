/**
 * The config values a Dockerfile cannot carry safely, as located diagnostics (`gates.lint.env.X`).
 * `emit` refuses the pipeline when there is any, so `build.ts` may take every value as valid.
 * The checks run in the order the values appear in the Dockerfile.
 */
import {
  isRootGlob,
  type Diagnostic,
  type ResolvedGate,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import { stageName } from './layout.js';
import { copySpecProblem } from './paths.js';
import {
  ABS_PATH_RE,
  ENV_NAME_RE,
  IMAGE_REF_RE,
  STAGE_NAME_RE,
  USER_RE,
  hasLoneSurrogate,
} from './print.js';

class Problems {
  readonly list: Diagnostic[] = [];
  add(code: string, path: string, message: string, hint?: string): void {
    this.list.push({
      code,
      severity: 'error',
      message,
      path,
      loc: null,
      ...(hint ? { hint } : {}),
    });
  }
}

/** Text no exec-form argument can carry. */
function checkText(p: Problems, path: string, text: string): void {
  if (text.includes('\u0000'))
    p.add('GH_DOCKERFILE_TEXT', path, 'NUL bytes cannot be passed to a command');
  else if (hasLoneSurrogate(text))
    p.add('GH_DOCKERFILE_TEXT', path, 'lone UTF-16 surrogates cannot be encoded');
}

/** Names and values an `ENV` line cannot carry. */
function checkEnv(p: Problems, path: string, env: Record<string, string>): void {
  for (const name of Object.keys(env).sort()) {
    const value = env[name] ?? '';
    const at = `${path}.${name}`;
    if (!ENV_NAME_RE.test(name)) {
      p.add(
        'GH_DOCKERFILE_ENV_NAME',
        at,
        `environment variable name \`${name}\` cannot be written to ENV`,
      );
      continue;
    }
    if (/[\r\n]/.test(value)) {
      p.add(
        'GH_DOCKERFILE_ENV_VALUE',
        at,
        `the value of ${name} holds a line break, which a Dockerfile ENV cannot carry`,
        'put multi-line text in a file and pass its path, or set it inside the command',
      );
    } else if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value) || hasLoneSurrogate(value)) {
      p.add(
        'GH_DOCKERFILE_ENV_VALUE',
        at,
        `the value of ${name} holds control characters a Dockerfile ENV cannot carry`,
      );
    }
  }
}

function checkImage(p: Problems, path: string, image: string): void {
  if (!IMAGE_REF_RE.test(image))
    p.add('GH_DOCKERFILE_IMAGE', path, `\`${image}\` is not a valid image reference`);
}

function checkGlobs(p: Problems, path: string, globs: string[], widen: boolean): void {
  globs.forEach((g, i) => {
    if (isRootGlob(g)) return; // checkRootInputs
    const why = copySpecProblem(g, widen);
    if (why !== null) p.add('GH_DOCKERFILE_PATH', `${path}[${i}]`, `\`${g}\` ${why}`);
  });
}

/**
 * Inputs of the workspace root above the config directory (`//…`): the build context is the
 * config directory, so no stage could hold them, and a gate keyed on them would read a stale
 * copy or none.
 */
function checkRootInputs(p: Problems, path: string, globs: readonly string[]): void {
  globs.forEach((g, i) => {
    if (isRootGlob(g))
      p.add(
        'GH_DOCKERFILE_PATH',
        `${path}[${i}]`,
        `\`${g}\` is a file of the workspace root, outside the build context: the Dockerfile (and the docker executor) builds from the directory of gatehouse.yml, which does not hold it`,
        'run this config with the local executor or a CI target, or keep a config at the workspace root whose gates of `packages:` name `//` inputs',
      );
  });
}

function checkGate(p: Problems, gate: ResolvedGate): void {
  const at = `gates.${gate.id}`;
  if (!STAGE_NAME_RE.test(stageName(gate.id)) || !/^[a-z][a-z0-9-]{0,62}$/.test(gate.id)) {
    p.add('GH_DOCKERFILE_ID', at, `gate id \`${gate.id}\` cannot name a stage`);
  }
  checkText(p, `${at}.run`, gate.run);
  checkImage(p, `${at}.image`, gate.image);
  gate.secrets.forEach((s, i) => {
    if (!ENV_NAME_RE.test(s))
      p.add('GH_DOCKERFILE_SECRET', `${at}.secrets[${i}]`, `secret name \`${s}\` is not valid`);
  });
  checkRootInputs(p, `${at}.inputs`, gate.inputs);
  checkGlobs(p, `${at}.outputs`, gate.outputs, true);
  checkEnv(p, `${at}.env`, gate.env);
  checkBaseline(p, `${at}.policy.baseline`, gate.policy.baseline);
  (gate.when?.env ?? []).forEach((name, i) => {
    if (!ENV_NAME_RE.test(name))
      p.add(
        'GH_DOCKERFILE_SECRET',
        `${at}.when.env[${i}]`,
        `variable name \`${name}\` is not valid`,
      );
  });
}

/** Directories the build context never holds (see dockerignore.ts). */
const NOT_IN_CONTEXT = ['.git', '.gatehouse', 'gatehouse-results', 'gatehouse-report'];

/**
 * The verdict stage copies a gate's `policy.baseline` report from the build context, so it
 * must be one plain file path the context holds.
 */
function checkBaseline(p: Problems, at: string, baseline: string | undefined): void {
  if (baseline === undefined) return;
  const problem = copySpecProblem(baseline) ?? (/[*?[\]{}]/.test(baseline) ? 'is a glob' : null);
  if (problem !== null) {
    p.add('GH_DOCKERFILE_PATH', at, `baseline \`${baseline}\` ${problem}`);
    return;
  }
  const first = baseline.replace(/^(\.\/)+/, '').split('/')[0] ?? '';
  if (NOT_IN_CONTEXT.includes(first))
    p.add(
      'GH_DOCKERFILE_PATH',
      at,
      `baseline \`${baseline}\` is under ${first}/, which is never sent to the Docker builder, so the verdict stage could not judge by it`,
      'commit the baseline report elsewhere in the project (e.g. `quality/baseline.json`) and point `policy.baseline` there',
    );
}

function checkRelease(p: Problems, pipeline: ResolvedPipeline): void {
  const release = pipeline.release;
  if (release === null) return;
  checkImage(p, 'release.image', release.image);
  if (!ABS_PATH_RE.test(release.workdir))
    p.add(
      'GH_DOCKERFILE_PATH',
      'release.workdir',
      `\`${release.workdir}\` must be an absolute path of letters, digits and . _ @ + - /`,
    );
  if (!USER_RE.test(release.user))
    p.add(
      'GH_DOCKERFILE_USER',
      'release.user',
      `\`${release.user}\` is not a user name or uid[:gid]`,
    );
  if (!pipeline.gates.some((g) => g.id === release.from))
    p.add(
      'GH_DOCKERFILE_RELEASE_FROM',
      'release.from',
      `release.from names no gate: \`${release.from}\``,
    );
  if (release.cmd.length === 0)
    p.add('GH_DOCKERFILE_CMD', 'release.cmd', 'release.cmd needs at least one element');
  release.cmd.forEach((c, i) => checkText(p, `release.cmd[${i}]`, c));
  release.expose.forEach((port, i) => {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      p.add('GH_DOCKERFILE_PORT', `release.expose[${i}]`, `${port} is not a port (1-65535)`);
  });
  checkGlobs(p, 'release.copy', release.copy, false);
  // The deployed package's name (from its package.json) and, in an npm or yarn workspace,
  // its directory are arguments of the deploy step.
  if (release.package) {
    checkText(p, 'release.from', release.package.name);
    if (release.package.manager !== 'pnpm') checkText(p, 'release.from', release.package.dir);
  }
  checkEnv(p, 'release.env', release.env);
}

/** Every value of the pipeline a Dockerfile cannot carry safely, in Dockerfile order. */
export function dockerfileProblems(pipeline: ResolvedPipeline): Diagnostic[] {
  const p = new Problems();
  checkImage(p, 'image', pipeline.image);
  if (!ABS_PATH_RE.test(pipeline.workdir))
    p.add(
      'GH_DOCKERFILE_PATH',
      'workdir',
      `workdir \`${pipeline.workdir}\` must be an absolute path of letters, digits and . _ @ + - /`,
    );
  const setup = pipeline.setup;
  if (setup !== null) {
    checkEnv(p, 'setup.env', setup.env);
    checkText(p, 'setup.run', setup.run);
    checkRootInputs(p, 'setup.inputs', setup.inputs);
    checkGlobs(p, 'setup.inputs', setup.inputs, true);
  }
  for (const gate of pipeline.gates) checkGate(p, gate);
  checkRelease(p, pipeline);
  return p.list;
}
