/** One BuildKit build through the Engine API: context, session with secrets, progress, errors. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ResolvedPipeline } from '@gatehouse-ci/core';
import type Dockerode from 'dockerode';
import { compileForBuild, type CompiledBuild } from './compile.js';
import { LABEL } from './constants.js';
import { connect, ensureReachable } from './engine.js';
import { BuildProgress, type ProgressHandlers } from './progress.js';
import { redactor } from './redact.js';
import type { SyncedDir } from './filesync.js';
import { openSession } from './session.js';

/** Secret values a build may ask for, by id: declared names from `env`, plus file secrets (the CA bundle). */
export async function collectSecrets(
  pipeline: ResolvedPipeline,
  env: Record<string, string | undefined>,
  files: Map<string, string>,
): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  const names = new Set([
    ...(pipeline.setup?.secrets ?? []),
    ...pipeline.gates.flatMap((g) => g.secrets),
  ]);
  for (const name of [...names].sort()) {
    const value = env[name];
    if (value !== undefined) secrets.set(name, value);
  }
  for (const [id, path] of files) {
    // An unreadable CA bundle is left out: the Dockerfile mounts it as optional.
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text) secrets.set(id, text);
  }
  return secrets;
}

/** What {@link runBuild} needs. */
export interface BuildRequest {
  rootDir: string;
  compiled: CompiledBuild;
  /** Stage to build; the Dockerfile's last stage when omitted. */
  target?: string;
  tag: string;
  noCache?: boolean;
  secrets: ReadonlyMap<string, string>;
  /** Build args: the values of gates' `when.env` names (configuration, never secrets). */
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  /**
   * Images whose inline cache metadata BuildKit may match its steps against (`cachefrom`):
   * the images of an imported cache. They are never taken as results.
   */
  cacheFrom?: string[];
  signal?: AbortSignal;
  handlers?: ProgressHandlers;
}

/**
 * The build args a pipeline's gates read through `when.env`: each name that is not also
 * one of that gate's secrets, with its value from `env` when set and non-empty.
 */
export function conditionBuildArgs(
  pipeline: Pick<ResolvedPipeline, 'gates'>,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const args: Record<string, string> = {};
  for (const gate of pipeline.gates) {
    for (const name of gate.when?.env ?? []) {
      const value = env[name];
      if (!gate.secrets.includes(name) && value) args[name] = value;
    }
  }
  return args;
}

function dialBuild(
  docker: Dockerode,
  options: Record<string, unknown>,
  signal: AbortSignal,
): Promise<Readable> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: '/build?',
        method: 'POST',
        // No body: the session serves the context. (Without `_body`, docker-modem would send
        // the options as a JSON body.)
        options: { _query: options, _body: {} },
        abortSignal: signal,
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
      } as never,
      (err: unknown, stream: unknown) => (err ? reject(err) : resolve(stream as Readable)),
    );
  });
}

function drain(stream: Readable, progress: BuildProgress, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      stream.destroy();
      resolve();
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer) => progress.write(chunk));
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
  }).finally(() => progress.end());
}

/** How a build went. `error` is already redacted; `aborted` means the signal stopped it. */
export interface BuildResult {
  progress: BuildProgress;
  error: string | null;
  aborted: boolean;
}

/**
 * Builds `target` and tags it. Never throws for a failed build: the stream of a failed
 * build ends normally with an `error` line, which lands in `error`.
 */
export async function runBuild(docker: Dockerode, req: BuildRequest): Promise<BuildResult> {
  const redact = redactor(
    [...req.secrets].filter(([id]) => !req.compiled.fileSecrets.has(id)).map(([, v]) => v),
  );
  const progress = new BuildProgress(req.handlers);
  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  if (req.signal?.aborted) abort.abort();
  let error: string | null = null;
  // The context and the Dockerfile are served as two directories through the session, so
  // the Dockerfile is not part of the context (see filesync.ts).
  const dirs = new Map<string, SyncedDir>([
    [
      'context',
      {
        rootDir: req.rootDir,
        ignore: req.compiled.dockerignore,
        files: [
          { path: '.dockerignore', contents: req.compiled.dockerignore },
          ...req.compiled.files,
        ],
      },
    ],
    [
      'dockerfile',
      {
        rootDir: null,
        ignore: null,
        files: [{ path: 'Dockerfile', contents: req.compiled.dockerfile }],
      },
    ],
  ]);
  const sharedKey = createHash('sha256').update(req.rootDir).digest('hex').slice(0, 32);
  const session = await openSession(docker, req.secrets, dirs, sharedKey);
  try {
    const options: Record<string, unknown> = {
      version: '2',
      session: session.id,
      dockerfile: 'Dockerfile',
      remote: 'client-session',
      t: req.tag,
      nocache: req.noCache ?? false,
      labels: JSON.stringify(req.labels ?? {}),
      rm: true,
      forcerm: true,
    };
    if (req.target) options.target = req.target;
    if (req.cacheFrom && req.cacheFrom.length > 0)
      options.cachefrom = JSON.stringify(req.cacheFrom);
    if (req.buildArgs && Object.keys(req.buildArgs).length > 0)
      options.buildargs = JSON.stringify(req.buildArgs);
    const stream = await dialBuild(docker, options, abort.signal);
    await drain(stream, progress, abort.signal);
    if (progress.outcome.error) {
      const step = progress.failure();
      error = redact(
        step
          ? `${step.stage ? `stage ${step.stage}` : 'a build step'} failed (${step.error})${step.output ? `: ${step.output}` : ''}`
          : progress.outcome.error,
      );
    }
  } catch (err) {
    if (!abort.signal.aborted) error = redact(err instanceof Error ? err.message : String(err));
  } finally {
    session.close();
    req.signal?.removeEventListener('abort', onAbort);
  }
  return { progress, error, aborted: abort.signal.aborted };
}

/** Options of {@link buildPipelineImage}. */
export interface BuildPipelineImageOptions {
  /** Image tag to create. */
  tag: string;
  /** Stage; the default (last) stage — the release image, or the verdict — when omitted. */
  target?: string;
  /** Where secrets (by name) and `DOCKER_HOST` are read from. @default process.env */
  env?: Record<string, string | undefined>;
  noCache?: boolean;
  signal?: AbortSignal;
}

/**
 * Builds a stage of the pipeline's generated Dockerfile as an image, like `docker build
 * --target … -t …` with the declared secrets. Throws `GH_DOCKER_UNREACHABLE` without an
 * engine; a failed build resolves with `error` set (and no image).
 */
export async function buildPipelineImage(
  pipeline: ResolvedPipeline,
  opts: BuildPipelineImageOptions,
): Promise<BuildResult> {
  const env = opts.env ?? process.env;
  const docker = connect(env);
  await ensureReachable(docker, env);
  const compiled = await compileForBuild(pipeline, env);
  const secrets = await collectSecrets(pipeline, env, compiled.fileSecrets);
  return runBuild(docker, {
    rootDir: pipeline.rootDir,
    compiled,
    ...(opts.target ? { target: opts.target } : {}),
    tag: opts.tag,
    noCache: opts.noCache ?? false,
    secrets,
    buildArgs: conditionBuildArgs(pipeline, env),
    labels: { [LABEL]: opts.tag },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
