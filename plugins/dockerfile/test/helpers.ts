import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DOCKER_CLI, DOCKER_IDLE_LIMIT_MS } from '@gatehouse-ci/test-utils';
import type { EmittedDockerfile } from '../src/index.js';

/** Result of a `docker` invocation. */
export interface DockerRun {
  code: number;
  stdout: string;
  stderr: string;
}

export { DOCKER_CLI };

/**
 * Run the docker CLI with BuildKit on; never throws on a non-zero exit. A command that
 * prints nothing for {@link DOCKER_IDLE_LIMIT_MS} (BuildKit's plain progress prints every
 * step) is stopped and reported with code -1: stuck, as opposed to slow.
 */
export function docker(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; idleLimitMs?: number } = {},
): Promise<DockerRun> {
  const idleLimit = opts.idleLimitMs ?? DOCKER_IDLE_LIMIT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER_CLI, args, {
      cwd: opts.cwd,
      env: { ...process.env, DOCKER_BUILDKIT: '1', BUILDKIT_PROGRESS: 'plain', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stuck = false;
    let idle: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        stuck = true;
        child.kill('SIGKILL');
      }, idleLimit);
    };
    arm();
    child.stdout.on('data', (d: Buffer) => ((stdout += d.toString('utf8')), arm()));
    child.stderr.on('data', (d: Buffer) => ((stderr += d.toString('utf8')), arm()));
    child.on('error', (err) => (clearTimeout(idle), reject(err)));
    child.on('close', (code) => {
      clearTimeout(idle);
      if (stuck)
        stderr += `\n[test] docker ${args[0]} printed nothing for ${idleLimit} ms: stopped`;
      resolve({ code: stuck ? -1 : (code ?? -1), stdout, stderr });
    });
  });
}

/** A fresh build context holding the emitted Dockerfile, .dockerignore, command files and extra files. */
export async function writeContext(
  emitted: EmittedDockerfile,
  files: Record<string, string> = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-dockerfile-'));
  const all: Record<string, string> = {
    [emitted.path]: emitted.dockerfile,
    '.dockerignore': emitted.dockerignore,
    ...emitted.scripts,
    ...emitted.judge,
    ...files,
  };
  for (const [path, contents] of Object.entries(all)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), contents);
  }
  return dir;
}

/**
 * The environment of a Docker build stage, which has no `npm_config_*` of a package manager
 * running the tests (`pnpm test` sets some npm does not know, and npm warns about each).
 */
export function buildStageEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')),
  );
}
