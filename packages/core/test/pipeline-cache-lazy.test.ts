/**
 * A cache hit must not load the `yaml` package. Its own file, so that no earlier parse in
 * this module graph has loaded it already.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { yamlLoaded } from '../src/config/validate.js';
import { loadProject, sha256, type ResolvedPipeline } from '../src/index.js';
import { pipelineCacheKey, writeCachedPipeline } from '../src/pipeline-cache.js';

let dir = '';
afterAll(async () => rm(dir, { recursive: true, force: true }));

it('answers from the cache without loading yaml, and loads it only to locate a path', async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-pcache-lazy-'));
  const configPath = join(dir, 'gatehouse.yml');
  await writeFile(configPath, 'version: 1\nname: lazy\ngates:\n  only:\n    run: echo hi\n');
  const bytes = await readFile(configPath);
  const cache = { dir: join(dir, 'cache'), version: '0.0.0' };
  // The entry a previous process would have written, made here without parsing.
  const pipeline: ResolvedPipeline = {
    version: 1,
    name: 'lazy',
    configPath,
    rootDir: dir,
    configSha256: sha256(bytes),
    image: 'node:22-bookworm-slim',
    workdir: '/app',
    setup: null,
    gates: [
      {
        id: 'only',
        kind: 'custom',
        run: 'echo hi',
        description: null,
        needs: [],
        image: 'node:22-bookworm-slim',
        env: {},
        secrets: [],
        inputs: [],
        outputs: [],
        timeoutMs: 1_800_000,
        mode: 'blocking',
        evidence: [{ format: 'exitcode', path: null }],
        policy: {},
        tools: {},
      },
    ],
    release: null,
    targets: {},
    plugins: [],
  };
  const key = pipelineCacheKey({
    bytes,
    configPath,
    displayPath: 'gatehouse.yml',
    version: cache.version,
    builtins: [],
  });
  expect(await writeCachedPipeline(cache, key, pipeline, [])).toBe(true);

  expect(yamlLoaded()).toBe(false);
  const project = await loadProject(configPath, [], { displayPath: 'gatehouse.yml', cache });
  expect(project.fromCache).toBe(true);
  expect(project.pipeline).toEqual(pipeline);
  expect(yamlLoaded()).toBe(false);
  expect(project.locate('gates.only.run')).toMatchObject({
    file: 'gatehouse.yml',
    line: 5,
    column: 10,
  });
  expect(yamlLoaded()).toBe(true);
});
