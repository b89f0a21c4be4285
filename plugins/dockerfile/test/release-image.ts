/**
 * Release images of workspace fixtures, built by real BuildKit for the deploy tests: a copy of
 * a fixture with a config, validated by core, the Dockerfile emitted, the image built as a new
 * tag, and ways to look inside it. `cleanup` removes the copies and the tags.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { validateConfig, type ResolvedPipeline } from '@gatehouse-ci/core';
import { buildSecretArgs, emitDockerfile } from '../src/index.js';
import { docker } from './helpers.js';

export interface ReleaseImages {
  /**
   * A copy of the fixture with `yaml` as its config, validated by core, and its release image
   * built from the emitted Dockerfile (every gate, the verdict, the release) as a new tag.
   */
  release(yaml: string): Promise<{ pipeline: ResolvedPipeline; tag: string }>;
  /** `sh -c script` in the image, as its user; its stdout. */
  inImage(tag: string, script: string): Promise<string>;
  /** Every path under the image's /app (links not followed), sorted. */
  appFiles(tag: string): Promise<string[]>;
  /** The size of `path` in the image, in KiB. */
  kib(tag: string, path: string): Promise<number>;
  cleanup(): Promise<void>;
}

/** Release images of `fixture`, tagged `<name>:…`, built with `secretEnv` for setup's secrets. */
export function releaseImages(
  fixture: string,
  name: string,
  secretEnv: Record<string, string> = {},
): ReleaseImages {
  const dirs: string[] = [];
  const images: string[] = [];
  const inImage = async (tag: string, script: string): Promise<string> => {
    const r = await docker(['run', '--rm', '--entrypoint', 'sh', tag, '-c', script]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  return {
    async release(yaml) {
      const dir = await mkdtemp(join(tmpdir(), `${name}-`));
      dirs.push(dir);
      await cp(fixture, dir, { recursive: true });
      await writeFile(join(dir, 'gatehouse.yml'), yaml);
      const v = await validateConfig(join(dir, 'gatehouse.yml'));
      expect(v.diagnostics).toEqual([]);
      const pipeline = v.pipeline!;
      const emitted = emitDockerfile(pipeline);
      const files = {
        [emitted.path]: emitted.dockerfile,
        '.dockerignore': emitted.dockerignore,
        ...emitted.judge,
      };
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      const secrets = buildSecretArgs(pipeline, {}, secretEnv).flatMap((s) => ['--secret', s]);
      const tag = `${name}:${process.pid}-${images.length}`;
      images.push(tag);
      const r = await docker(['build', ...secrets, '-t', tag, '.'], { cwd: dir });
      // The release stage depends on the verdict: a built image means the verdict passed.
      expect(r.code, r.stderr.slice(-4000)).toBe(0);
      return { pipeline, tag };
    },
    inImage,
    async appFiles(tag) {
      return (await inImage(tag, 'cd /app && find . | sort')).trim().split('\n');
    },
    async kib(tag, path) {
      return Number.parseInt((await inImage(tag, `du -sk ${path}`)).split(/\s/)[0] ?? '', 10);
    },
    async cleanup() {
      for (const ref of images) await docker(['image', 'rm', '-f', ref]);
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}
