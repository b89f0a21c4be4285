/**
 * Resolved pipeline -> Dockerfile model -> text.
 *
 * Stage layout (shared with the Docker executor and the CI emitters' docker mode):
 *   base -> setup -> gate-<id>… -> result-<id>… -> gatehouse-results -> gatehouse-verdict -> release
 * The last stage is the default `docker build` target; it depends on the verdict, the
 * verdict on the collector, the collector on every gate: so a plain build runs every
 * gate (in parallel where `needs` allow) and refuses to produce an image when a
 * blocking gate did not pass.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { GatehouseError, generatedHeader } from '@gatehouse/core';
import { dockerVerdictJudge, dockerVerdictSpec } from '@gatehouse/report';
import type { Diagnostic, ResolvedGate, ResolvedPipeline, TargetOptions } from '@gatehouse/core';
import type {
  CopyInstruction,
  DockerfileModel,
  Instruction,
  Mount,
  RunInstruction,
  Stage,
} from './model.js';
import {
  containerPath,
  copySpec,
  copySpecProblem,
  ignorePattern,
  tolerantSource,
} from './paths.js';
import {
  ABS_PATH_RE,
  ENV_NAME_RE,
  IMAGE_REF_RE,
  STAGE_NAME_RE,
  USER_RE,
  hasLoneSurrogate,
  jsonString,
  serializeDockerfile,
} from './serialize.js';
import {
  CA_SECRET_ID,
  CMD_ROOT,
  GATE_ARGV0,
  OUT_ROOT,
  SETUP_ARGV0,
  gateWrapper,
  setupWrapper,
  verdictCommand,
} from './wrapper.js';

/** First stage: the gates' image and workdir. */
export const BASE_STAGE = 'base';
/** Copies setup inputs, runs setup, then copies the rest of the build context. */
export const SETUP_STAGE = 'setup';
/** `FROM scratch` stage holding `/<id>/{result.json,log.txt,command.txt,evidence/}` for every gate. */
export const RESULTS_STAGE = 'gatehouse-results';
/** Fails the build when a blocking gate did not pass; writes `/gatehouse/verdict.txt`. */
export const VERDICT_STAGE = 'gatehouse-verdict';
/** The release image (the default target when the pipeline has a release). */
export const RELEASE_STAGE = 'release';
/** Where generated command files live, relative to the config directory. */
export const SCRIPTS_DIR = '.gatehouse/docker';
/**
 * The bundled judge the verdict stage runs (from @gatehouse/report), and the file of what it
 * judges by, written only when that spec is too long to ride in the Dockerfile.
 */
export const VERDICT_JUDGE_FILE = `${SCRIPTS_DIR}/verdict.mjs`;
export const VERDICT_SPEC_FILE = `${SCRIPTS_DIR}/verdict.json`;
/** Where the judge and its spec are copied in the verdict stage. */
const JUDGE_ROOT = '/gatehouse/judge';
/** Where the verdict file lands in the release image. */
export const RELEASE_VERDICT_PATH = '/usr/share/gatehouse/verdict.txt';
/**
 * Commands whose JSON encoding is longer than this go to a generated script file
 * instead of the `RUN` line (BuildKit refuses Dockerfile lines over 64 KiB).
 */
export const INLINE_COMMAND_LIMIT = 16 * 1024;

/** Stage that runs gate `id`. */
export function stageName(gateId: string): string {
  return `gate-${gateId}`;
}

/** `FROM scratch` stage exporting only gate `id`'s results (`docker build --target result-<id> -o …`). */
export function resultStageName(gateId: string): string {
  return `result-${gateId}`;
}

/** Options under `targets.dockerfile`. */
export interface DockerfileTargetOptions {
  /**
   * Corporate TLS proxies: `auto` and a path mount an optional BuildKit secret
   * `gatehouse_ca` into setup and gate `RUN`s and point `NODE_EXTRA_CA_CERTS` at it.
   * The Dockerfile is the same for both; they differ in what the build passes as
   * `--secret id=gatehouse_ca,src=…` (see {@link caSecretSource}). `none` omits the mount.
   * A path is relative to the config directory and stays inside it (links followed), or is
   * one of {@link SYSTEM_CA_BUNDLES}. Every step can read the file and it is not redacted
   * from logs: it must hold public certificates only.
   * @default 'auto'
   */
  ca?: 'auto' | 'none' | (string & {});
  /**
   * Mount a BuildKit cache at `/root/.npm` for the setup `RUN` (never part of a layer).
   * @default true
   */
  npmCache?: boolean;
  /**
   * Where the Dockerfile is written, relative to the config directory (the build context
   * stays the config directory; `.dockerignore` is always written there).
   * @default 'Dockerfile'
   */
  path?: string;
}

/** What {@link emitDockerfile} produces. */
export interface EmittedDockerfile {
  dockerfile: string;
  dockerignore: string;
  /** Command files for commands too long for a Dockerfile line, keyed by path relative to rootDir. */
  scripts: Record<string, string>;
  /**
   * The verdict stage's judge and what it judges by ({@link VERDICT_JUDGE_FILE},
   * {@link VERDICT_SPEC_FILE}), keyed by path relative to rootDir: part of the build context
   * for a plain `docker build .`.
   */
  judge: Record<string, string>;
  /** The typed model the text was serialised from. */
  model: DockerfileModel;
  /** Where the Dockerfile goes, relative to rootDir (the `path` option). */
  path: string;
}

const KNOWN_OPTIONS = new Set(['ca', 'npmCache', 'path']);

/**
 * The absolute paths `ca` may name: the CA bundles of common systems (Debian, Ubuntu and
 * Alpine; Fedora and RHEL; macOS and the BSDs; openSUSE). Any other file outside the project
 * is passed with `ca: auto` and `NODE_EXTRA_CA_CERTS` (or `SSL_CERT_FILE`) set where the
 * build runs.
 */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
  '/etc/ssl/ca-bundle.pem',
];

const CA_PATH_HINT =
  'use a path inside the project (e.g. `certs/corp.pem`), one of the system bundles (' +
  SYSTEM_CA_BUNDLES.join(', ') +
  '), or `ca: auto` with NODE_EXTRA_CA_CERTS set where the build runs';

/** Why a `ca` value is refused before any file is looked at, or null. */
function caValueProblem(ca: string): string | null {
  if (ca === 'auto' || ca === 'none') return null;
  if (SYSTEM_CA_BUNDLES.includes(ca)) return null;
  if (ca.includes('\0') || ca.includes('\\') || /^[A-Za-z]:/.test(ca) || ca.startsWith('~'))
    return `\`ca\` must be \`auto\`, \`none\`, a path inside the project or a system CA bundle; \`${ca}\` is none of them`;
  if (ca.startsWith('/'))
    return `\`ca\` names \`${ca}\`, which is neither inside the project nor a system CA bundle: every setup and gate step could read it`;
  const norm = posix.normalize(ca);
  if (norm === '..' || norm.startsWith('../') || ca.split('/').includes('..'))
    return `\`ca\` must stay inside the project; \`${ca}\` leaves it`;
  return null;
}

/** Check `targets.dockerfile` options. Paths are relative to the options object. */
export function validateDockerfileOptions(options: TargetOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  const diag = (path: string, message: string, hint?: string): void => {
    out.push({
      code: 'GH_DOCKERFILE_OPTION',
      severity: 'error',
      message,
      path,
      loc: null,
      ...(hint ? { hint } : {}),
    });
  };
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key))
      diag(
        key,
        `unknown option \`${key}\` for the dockerfile target`,
        'known options: ca, npmCache, path',
      );
  }
  const ca = options['ca'];
  if (ca !== undefined && (typeof ca !== 'string' || ca.length === 0)) {
    diag('ca', '`ca` must be `auto`, `none` or the path of a PEM file');
  } else if (typeof ca === 'string') {
    const why = caValueProblem(ca);
    if (why !== null)
      out.push({
        code: 'GH_CA_PATH',
        severity: 'error',
        message: why,
        path: 'ca',
        loc: null,
        hint: CA_PATH_HINT,
      });
  }
  const npmCache = options['npmCache'];
  if (npmCache !== undefined && typeof npmCache !== 'boolean')
    diag('npmCache', '`npmCache` must be true or false');
  const path = options['path'];
  if (
    path !== undefined &&
    (typeof path !== 'string' ||
      !/^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/.test(path) ||
      path.split('/').includes('..'))
  ) {
    diag(
      'path',
      '`path` must be a relative file path inside the config directory (letters, digits, . _ - /)',
    );
  }
  return out;
}

function resolveOptions(options: TargetOptions): Required<DockerfileTargetOptions> {
  const problems = validateDockerfileOptions(options);
  if (problems.length > 0) {
    throw new GatehouseError('GH_DOCKERFILE_OPTION', 'invalid options for the dockerfile target', {
      diagnostics: problems.map((d) => ({ ...d, path: `targets.dockerfile.${d.path}` })),
    });
  }
  return {
    ca: (options['ca'] as string | undefined) ?? 'auto',
    npmCache: (options['npmCache'] as boolean | undefined) ?? true,
    path: (options['path'] as string | undefined) ?? 'Dockerfile',
  };
}

function caError(message: string): GatehouseError {
  return new GatehouseError('GH_CA_PATH', message, {
    diagnostics: [
      {
        code: 'GH_CA_PATH',
        severity: 'error',
        message,
        path: 'targets.dockerfile.ca',
        loc: null,
        hint: CA_PATH_HINT,
      },
    ],
  });
}

/**
 * Where the CA bundle for the `gatehouse_ca` build secret comes from, or `null` when
 * none should be passed. `auto` reads `NODE_EXTRA_CA_CERTS`, then `SSL_CERT_FILE`;
 * a relative path is relative to `rootDir`. Throws `GH_CA_PATH` for a value that leaves
 * the project (without looking at the disk: {@link resolveCaSource} also follows links).
 */
export function caSecretSource(
  options: TargetOptions,
  env: Record<string, string | undefined>,
  rootDir: string,
): string | null {
  const ca = (options['ca'] as string | undefined) ?? 'auto';
  if (ca === 'none') return null;
  if (ca === 'auto') return env['NODE_EXTRA_CA_CERTS'] || env['SSL_CERT_FILE'] || null;
  const why = caValueProblem(ca);
  if (why !== null) throw caError(why);
  return ca.startsWith('/') ? ca : `${rootDir.replace(/\/+$/, '')}/${ca}`;
}

/**
 * The CA bundle file to pass as the `gatehouse_ca` build secret, after following links, or
 * `null` when there is none (`none`; `auto` with neither variable set; a file that does not
 * exist, since the mount is optional). Throws `GH_CA_PATH` (with a diagnostic at
 * `targets.dockerfile.ca`) when a configured path leads out of the project, or the file is
 * not a regular file (a FIFO or a device would hang or never end the read).
 */
export async function resolveCaSource(
  options: TargetOptions,
  env: Record<string, string | undefined>,
  rootDir: string,
): Promise<string | null> {
  const ca = (options['ca'] as string | undefined) ?? 'auto';
  const source = caSecretSource(options, env, rootDir);
  if (source === null) return null;
  const from =
    ca === 'auto' ? (env['NODE_EXTRA_CA_CERTS'] ? 'NODE_EXTRA_CA_CERTS' : 'SSL_CERT_FILE') : '`ca`';
  const real = await realpath(source).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw caError(`${from} names \`${source}\`, which cannot be read (${err.code ?? err.message})`);
  });
  if (real === null) return null;
  // A configured relative path must still be inside the project once links are followed.
  if (ca !== 'auto' && !SYSTEM_CA_BUNDLES.includes(ca)) {
    const root = await realpath(rootDir).catch(() => resolve(rootDir));
    const rel = relative(root, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw caError(
        `\`ca\` names \`${ca}\`, which leads to ${real}, outside the project (${root}): every setup and gate step could read it`,
      );
  }
  const st = await stat(real);
  if (!st.isFile()) throw caError(`${from} names \`${source}\`, which is not a regular file`);
  return real;
}

/**
 * The `--secret` values a build of this Dockerfile needs (`id=NAME,env=NAME` for each
 * declared secret, `id=gatehouse_ca,src=…` for the CA): for `docker build` and dockerode.
 */
export function buildSecretArgs(
  pipeline: ResolvedPipeline,
  options: TargetOptions,
  env: Record<string, string | undefined>,
): string[] {
  const names = new Set<string>(pipeline.setup?.secrets ?? []);
  for (const g of pipeline.gates) for (const s of g.secrets) names.add(s);
  const args = [...names].sort().map((n) => `id=${n},env=${n}`);
  const ca = caSecretSource(options, env, pipeline.rootDir);
  if (ca !== null) args.push(`id=${CA_SECRET_ID},src=${ca}`);
  return args;
}

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

/** Records a problem and returns false for text no exec-form argument can carry. */
function checkText(p: Problems, path: string, text: string): boolean {
  if (text.includes('\u0000'))
    p.add('GH_DOCKERFILE_TEXT', path, 'NUL bytes cannot be passed to a command');
  else if (hasLoneSurrogate(text))
    p.add('GH_DOCKERFILE_TEXT', path, 'lone UTF-16 surrogates cannot be encoded');
  else return true;
  return false;
}

function checkEnv(p: Problems, path: string, env: Record<string, string>): Array<[string, string]> {
  const vars: Array<[string, string]> = [];
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
    vars.push([name, value]);
  }
  return vars;
}

function checkImage(p: Problems, path: string, image: string): void {
  if (!IMAGE_REF_RE.test(image))
    p.add('GH_DOCKERFILE_IMAGE', path, `\`${image}\` is not a valid image reference`);
}

function checkGlobs(p: Problems, path: string, globs: string[], widen: boolean): void {
  globs.forEach((g, i) => {
    const why = copySpecProblem(g, widen);
    if (why !== null) p.add('GH_DOCKERFILE_PATH', `${path}[${i}]`, `\`${g}\` ${why}`);
  });
}

function secretMounts(secrets: string[], ca: boolean): Mount[] {
  const mounts: Mount[] = secrets.map((id) => ({ type: 'secret', id }));
  if (ca) mounts.push({ type: 'secret', id: CA_SECRET_ID });
  return mounts;
}

interface CommandPlacement {
  /** argv tail after the wrapper: `[argv0, command]` or `[argv0]` with a file. */
  args: string[];
  commandFile: string | null;
  copy: CopyInstruction | null;
}

function placeCommand(
  key: string,
  command: string,
  argv0: string,
  scripts: Record<string, string>,
): CommandPlacement {
  if (jsonString(command).length <= INLINE_COMMAND_LIMIT)
    return { args: [argv0, command], commandFile: null, copy: null };
  const rel = `${SCRIPTS_DIR}/${key}.sh`;
  scripts[rel] = command;
  const commandFile = `${CMD_ROOT}/${key}.sh`;
  return { args: [argv0], commandFile, copy: { kind: 'COPY', sources: [rel], dest: commandFile } };
}

function copyGlobs(
  globs: string[],
  workdir: string,
  from?: string,
  chown?: string,
  destDir?: string,
): CopyInstruction[] {
  return globs.map((g) => {
    const spec = copySpec(g);
    const src = from === undefined ? spec.source : containerPath(workdir, spec.source);
    const dest = containerPath(destDir ?? workdir, spec.dest);
    return {
      kind: 'COPY',
      ...(from !== undefined ? { from } : {}),
      ...(chown !== undefined ? { chown } : {}),
      sources: [src],
      dest: spec.wildcard && !dest.endsWith('/') ? dest + '/' : dest,
    };
  });
}

function timeoutSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Build the Dockerfile model, the `.dockerignore` and any command files for a pipeline.
 * Throws `GatehouseError('GH_DOCKERFILE_UNREPRESENTABLE')` with located diagnostics
 * for config values a Dockerfile cannot carry safely.
 */
export function emitDockerfile(
  pipeline: ResolvedPipeline,
  options: TargetOptions = {},
  ctx: { configFile?: string } = {},
): EmittedDockerfile {
  const opts = resolveOptions(options);
  const withCa = opts.ca !== 'none';
  const p = new Problems();
  const scripts: Record<string, string> = {};
  const workdir = pipeline.workdir;

  checkImage(p, 'image', pipeline.image);
  if (!ABS_PATH_RE.test(workdir))
    p.add(
      'GH_DOCKERFILE_PATH',
      'workdir',
      `workdir \`${workdir}\` must be an absolute path of letters, digits and . _ @ + - /`,
    );

  // base
  const stages: Stage[] = [
    {
      name: BASE_STAGE,
      from: pipeline.image,
      comments: [
        'Stage layout: base, setup, gate-<id>, result-<id>, gatehouse-results, gatehouse-verdict, release.',
      ],
      instructions: [{ kind: 'WORKDIR', path: workdir }],
    },
  ];

  // setup
  const setupIns: Instruction[] = [];
  const setup = pipeline.setup;
  if (setup !== null) {
    const env = checkEnv(p, 'setup.env', setup.env);
    const runOk = checkText(p, 'setup.run', setup.run);
    checkGlobs(p, 'setup.inputs', setup.inputs, true);
    if (env.length > 0) setupIns.push({ kind: 'ENV', vars: env });
    if (copySpecProblemsFree(setup.inputs, true))
      setupIns.push(...copyGlobs(setup.inputs, workdir));
    const place = placeCommand('setup', runOk ? setup.run : '', SETUP_ARGV0, scripts);
    if (place.copy) setupIns.push(place.copy);
    const mounts = secretMounts(setup.secrets, withCa);
    if (opts.npmCache)
      mounts.push({ type: 'cache', id: 'gatehouse-npm', target: '/root/.npm', sharing: 'locked' });
    const wrapper = setupWrapper({
      id: 'setup',
      timeoutSeconds: timeoutSeconds(setup.timeoutMs),
      secrets: setup.secrets,
      ca: withCa,
      commandFile: place.commandFile,
    });
    setupIns.push({ kind: 'RUN', mounts, argv: ['/bin/sh', '-c', wrapper, ...place.args] });
  }
  setupIns.push({ kind: 'COPY', sources: ['.'], dest: '.' });
  stages.push({ name: SETUP_STAGE, from: BASE_STAGE, instructions: setupIns });

  // gates
  const gateById = new Map(pipeline.gates.map((g) => [g.id, g]));
  for (const gate of pipeline.gates)
    stages.push(gateStage(gate, pipeline, gateById, p, scripts, withCa));

  // results
  const resultCopies = (g: ResolvedGate): CopyInstruction => ({
    kind: 'COPY',
    from: stageName(g.id),
    sources: [`${OUT_ROOT}/${g.id}`],
    dest: `/${g.id}`,
  });
  for (const g of pipeline.gates) {
    stages.push({ name: resultStageName(g.id), from: 'scratch', instructions: [resultCopies(g)] });
  }
  stages.push({
    name: RESULTS_STAGE,
    from: 'scratch',
    instructions: pipeline.gates.map(resultCopies),
  });

  // verdict: Gatehouse's own judge (evidence, policies, modes), bundled, over every result
  // The judge never changes with the config; the spec does, so it rides in the Dockerfile
  // (which is not in the build context): a gate edit must not change setup's `COPY . .`.
  const judge: Record<string, string> = {};
  judge[VERDICT_JUDGE_FILE] = dockerVerdictJudge();
  const specJson = JSON.stringify(dockerVerdictSpec(workdir, pipeline.gates));
  const specInline = jsonString(specJson).length <= INLINE_COMMAND_LIMIT;
  if (!specInline) judge[VERDICT_SPEC_FILE] = `${specJson}\n`;
  stages.push({
    name: VERDICT_STAGE,
    from: BASE_STAGE,
    instructions: [
      { kind: 'COPY', from: RESULTS_STAGE, sources: ['/'], dest: '/gatehouse/results/' },
      {
        kind: 'COPY',
        sources: specInline ? [VERDICT_JUDGE_FILE] : [VERDICT_JUDGE_FILE, VERDICT_SPEC_FILE],
        dest: `${JUDGE_ROOT}/`,
      },
      {
        kind: 'RUN',
        mounts: [],
        argv: [
          '/bin/sh',
          '-c',
          verdictCommand(JUDGE_ROOT),
          'gatehouse-verdict',
          specInline ? specJson : `${JUDGE_ROOT}/verdict.json`,
        ],
      },
    ],
  });

  // release
  const release = pipeline.release;
  if (release !== null) {
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
    if (!gateById.has(release.from))
      p.add(
        'GH_DOCKERFILE_RELEASE_FROM',
        'release.from',
        `release.from names no gate: \`${release.from}\``,
      );
    if (release.cmd.length === 0)
      p.add('GH_DOCKERFILE_CMD', 'release.cmd', 'release.cmd needs at least one element');
    const cmdOk = release.cmd.map((c, i) => checkText(p, `release.cmd[${i}]`, c)).every(Boolean);
    release.expose.forEach((port, i) => {
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        p.add('GH_DOCKERFILE_PORT', `release.expose[${i}]`, `${port} is not a port (1-65535)`);
    });
    checkGlobs(p, 'release.copy', release.copy, false);
    const copyOk = copySpecProblemsFree(release.copy, false);
    const env = checkEnv(p, 'release.env', release.env);
    const ins: Instruction[] = [
      { kind: 'WORKDIR', path: release.workdir },
      // Depending on the verdict is what makes `docker build` refuse a failing pipeline.
      {
        kind: 'COPY',
        from: VERDICT_STAGE,
        sources: ['/gatehouse/verdict.txt'],
        dest: RELEASE_VERDICT_PATH,
      },
    ];
    if (env.length > 0) ins.push({ kind: 'ENV', vars: env });
    if (copyOk)
      ins.push(
        ...copyGlobs(release.copy, workdir, stageName(release.from), release.user, release.workdir),
      );
    ins.push({ kind: 'USER', user: release.user });
    if (release.expose.length > 0) ins.push({ kind: 'EXPOSE', ports: [...release.expose] });
    if (cmdOk) ins.push({ kind: 'CMD', argv: release.cmd });
    stages.push({ name: RELEASE_STAGE, from: release.image, instructions: ins });
  }

  if (p.list.length > 0) {
    throw new GatehouseError(
      'GH_DOCKERFILE_UNREPRESENTABLE',
      `the pipeline cannot be written as a Dockerfile safely (${p.list.length} problem${p.list.length === 1 ? '' : 's'})`,
      { diagnostics: p.list },
    );
  }

  const header = generatedHeader(ctx.configFile ?? 'gatehouse.yml');
  const model: DockerfileModel = { header, stages };
  const configFile = contextPath(pipeline) ?? ctx.configFile ?? 'gatehouse.yml';
  return {
    path: opts.path,
    dockerfile: serializeDockerfile(model),
    dockerignore: dockerignore(pipeline, header, opts.path, configFile),
    scripts,
    judge,
    model,
  };
}

function gateStage(
  gate: ResolvedGate,
  pipeline: ResolvedPipeline,
  gateById: Map<string, ResolvedGate>,
  p: Problems,
  scripts: Record<string, string>,
  withCa: boolean,
): Stage {
  const at = `gates.${gate.id}`;
  if (!STAGE_NAME_RE.test(stageName(gate.id)) || !/^[a-z][a-z0-9-]{0,62}$/.test(gate.id)) {
    p.add('GH_DOCKERFILE_ID', at, `gate id \`${gate.id}\` cannot name a stage`);
  }
  const runOk = checkText(p, `${at}.run`, gate.run);
  checkImage(p, `${at}.image`, gate.image);
  gate.secrets.forEach((s, i) => {
    if (!ENV_NAME_RE.test(s))
      p.add('GH_DOCKERFILE_SECRET', `${at}.secrets[${i}]`, `secret name \`${s}\` is not valid`);
  });
  checkGlobs(p, `${at}.outputs`, gate.outputs, true);
  const env = checkEnv(p, `${at}.env`, gate.env);
  const ins: Instruction[] = [];
  const needs = gate.needs.filter((n) => gateById.has(n));
  const sameImage = gate.image === pipeline.image;
  let from: string;
  if (needs.length === 1 && sameImage && gateById.get(needs[0] as string)?.image === gate.image) {
    from = stageName(needs[0] as string);
  } else {
    from = sameImage ? SETUP_STAGE : gate.image;
    if (!sameImage) {
      ins.push({ kind: 'WORKDIR', path: pipeline.workdir });
      ins.push({
        kind: 'COPY',
        from: SETUP_STAGE,
        sources: [pipeline.workdir],
        dest: pipeline.workdir,
      });
    }
    for (const n of needs) {
      const need = gateById.get(n) as ResolvedGate;
      ins.push({
        kind: 'COPY',
        from: stageName(n),
        sources: [`${OUT_ROOT}/${n}`],
        dest: `${OUT_ROOT}/${n}`,
      });
      if (copySpecProblemsFree(need.outputs, true)) {
        // A failed need may not have produced its outputs: a wildcard source tolerates that.
        for (const c of copyGlobs(need.outputs, pipeline.workdir, stageName(n))) {
          ins.push({ ...c, sources: c.sources.map(tolerantSource) });
        }
      }
    }
  }
  if (env.length > 0) ins.push({ kind: 'ENV', vars: env });
  // `when.env` names that are not secrets arrive as build args (`--build-arg NAME`): they
  // hold configuration such as a server URL, never credentials.
  const when = gate.when?.env ?? [];
  when.forEach((name, i) => {
    if (!ENV_NAME_RE.test(name))
      p.add(
        'GH_DOCKERFILE_SECRET',
        `${at}.when.env[${i}]`,
        `variable name \`${name}\` is not valid`,
      );
    else if (!gate.secrets.includes(name)) ins.push({ kind: 'ARG', name });
  });
  const place = placeCommand(stageName(gate.id), runOk ? gate.run : '', GATE_ARGV0, scripts);
  if (place.copy) ins.push(place.copy);
  const wrapper = gateWrapper({
    id: gate.id,
    timeoutSeconds: timeoutSeconds(gate.timeoutMs),
    secrets: gate.secrets,
    ca: withCa,
    commandFile: place.commandFile,
    needs,
    when,
  });
  const run: RunInstruction = {
    kind: 'RUN',
    mounts: secretMounts(gate.secrets, withCa),
    argv: ['/bin/sh', '-c', wrapper, ...place.args],
  };
  ins.push(run);
  return { name: stageName(gate.id), from, instructions: ins };
}

/**
 * The config file, unless setup, a gate or the release declares it reads it: no gate needs
 * it (the stages carry the commands), and in the context every edit of it, a comment too,
 * would change setup's `COPY . .` and so rerun every gate.
 */
function configIgnore(pipeline: ResolvedPipeline, configFile: string): string[] {
  if (!PLAIN_IGNORE_PATH.test(configFile)) return [];
  const reads = [
    ...(pipeline.setup?.inputs ?? []),
    ...pipeline.gates.flatMap((g) => g.inputs),
    ...(pipeline.release?.copy ?? []),
  ];
  const mayRead = (glob: string): boolean => {
    try {
      return globRegExp(glob).test(configFile);
    } catch {
      return true; // an unreadable glob (unbalanced `{`) might name it
    }
  };
  if (reads.some(mayRead)) return [];
  return [configFile];
}

function copySpecProblemsFree(globs: string[], widen: boolean): boolean {
  return globs.every((g) => copySpecProblem(g, widen) === null);
}

/** The config file relative to the build context (the config's directory), or null. */
function contextPath(pipeline: ResolvedPipeline): string | null {
  if (!pipeline.configPath || !pipeline.rootDir) return null;
  const rel = relative(pipeline.rootDir, pipeline.configPath).split(sep).join('/');
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? null : rel;
}

/** `*`, `?`, `**`, `{a,b}` and `[…]` of inputs/copy globs as a RegExp over a relative path. */
function globRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  const g = glob.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === '*' && g[i + 1] === '*') {
      // `**/` is any number of directories, none included.
      if (g[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i++;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else if (c === '[') {
      const end = g.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${g
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$(){}|\\/]/g, '\\$&');
  }
  // A glob naming a directory names everything in it.
  return new RegExp(`^${re}(?:/.*)?$`);
}

/**
 * The private key file `gatehouse report keygen` writes; `.dockerignore` always excludes it,
 * wherever it is in the context.
 */
export const SIGNING_KEY_FILE = 'gatehouse-signing.key';

/** Characters a `.dockerignore` line may hold without meaning more than the file itself. */
const PLAIN_IGNORE_PATH = /^[A-Za-z0-9_.-][A-Za-z0-9_./-]*$/;

function dockerignore(
  pipeline: ResolvedPipeline,
  header: string,
  dockerfilePath: string,
  configFile: string,
): string {
  const inputs = new Set<string>();
  for (const g of [...(pipeline.setup?.inputs ?? []), ...pipeline.gates.flatMap((g) => g.inputs)]) {
    if (copySpecProblem(g, true) === null) {
      const pat = ignorePattern(g);
      if (pat !== null) inputs.add(pat);
    }
  }
  const outputs = new Set<string>();
  for (const g of pipeline.gates.flatMap((x) => x.outputs)) {
    if (copySpecProblem(g, true) !== null) continue;
    const pat = ignorePattern(g);
    // Never hide something a gate or setup reads.
    if (
      pat !== null &&
      ![...inputs].some((i) => i === pat || i.startsWith(pat + '/') || pat.startsWith(i + '/'))
    ) {
      outputs.add(pat);
    }
  }
  const lines = [
    `# ${header}`,
    '# Never sent to the builder: VCS data, installed dependencies, local state and secrets.',
    '.git',
    '**/node_modules',
    '.gatehouse',
    `!${SCRIPTS_DIR}`,
    '**/.env',
    '**/.env.local',
    '**/.env.*.local',
    // The private key `gatehouse report keygen` writes: never readable by a gate or cached by BuildKit.
    `**/${SIGNING_KEY_FILE}`,
    dockerfilePath,
    '.dockerignore',
    ...configIgnore(pipeline, configFile),
    'gatehouse-results',
    'gatehouse-report',
  ];
  if (outputs.size > 0) {
    lines.push(
      '# Gate outputs: gates produce these inside the build; a stale local copy must not leak in.',
    );
    lines.push(...[...outputs].sort());
  }
  return lines.join('\n') + '\n';
}
