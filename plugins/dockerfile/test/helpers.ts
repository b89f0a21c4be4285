import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EmittedDockerfile } from '../src/index.js';

/** Result of a `docker` invocation. */
export interface DockerRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The docker CLI to use: `GATEHOUSE_DOCKER_CLI`, else Debian's `/usr/bin/docker` (its classic
 * builder speaks BuildKit with `DOCKER_BUILDKIT=1` and `-o type=local`; newer CLIs need buildx).
 */
export const DOCKER_CLI =
  process.env['GATEHOUSE_DOCKER_CLI'] ??
  (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');

/** Run the docker CLI with BuildKit on; never throws on a non-zero exit. */
export function docker(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<DockerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER_CLI, args, {
      cwd: opts.cwd,
      env: { ...process.env, DOCKER_BUILDKIT: '1', BUILDKIT_PROGRESS: 'plain', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
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
    ...files,
  };
  for (const [path, contents] of Object.entries(all)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), contents);
  }
  return dir;
}
