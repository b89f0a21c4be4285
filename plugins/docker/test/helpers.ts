import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecuteOptions, ResolvedGate, ResolvedPipeline, RunEvent } from '@gatehouse-ci/core';
import { gate, pipeline } from '@gatehouse-ci/test-utils';
import Dockerode from 'dockerode';

const made: string[] = [];

/** Removes every project directory {@link project} made. */
export async function removeProjects(): Promise<void> {
  await Promise.all(made.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A project directory with files, and a pipeline rooted there using `image`. */
export async function project(
  image: string,
  gates: ResolvedGate[],
  files: Record<string, string> = {},
  over: Partial<ResolvedPipeline> = {},
): Promise<ResolvedPipeline> {
  const rootDir = await mkdtemp(join(tmpdir(), 'gh-docker-'));
  made.push(rootDir);
  // A fresh nonce in a setup input: the first build of each test really runs every stage.
  const nonce = randomUUID();
  const all = {
    'gatehouse.yml': 'version: 1\n',
    'package.json': `{"name":"t","nonce":"${nonce}"}\n`,
    ...files,
  };
  for (const [path, text] of Object.entries(all)) {
    await mkdir(dirname(join(rootDir, path)), { recursive: true });
    await writeFile(join(rootDir, path), text);
  }
  return pipeline(
    gates.map((g) => ({ ...g, image })),
    {
      rootDir,
      configPath: join(rootDir, 'gatehouse.yml'),
      image,
      setup: {
        run: 'echo setup-ran',
        inputs: ['package.json'],
        env: {},
        secrets: [],
        timeoutMs: 60_000,
      },
      ...over,
    },
  );
}

export { gate };

/** ExecuteOptions for a test run; events are collected in `events`. */
export function runOptions(
  p: ResolvedPipeline,
  over: Partial<ExecuteOptions> = {},
): ExecuteOptions & { events: RunEvent[] } {
  const events: RunEvent[] = [];
  return {
    gates: [],
    concurrency: 4,
    failFast: false,
    noCache: false,
    env: { PATH: process.env.PATH },
    signal: new AbortController().signal,
    onEvent: (e) => events.push(e),
    stateDir: join(p.rootDir, '.gatehouse'),
    events,
    ...over,
  };
}

/**
 * What run `runId` of the executor left on the engine: the containers it creates to read
 * results and its results images (tagged or dangling). Both carry the run's label (a container
 * takes its image's labels). Other test files run the executor at the same time, so anything not
 * of this run is not counted: an inventory of every run's leftovers saw theirs come and go.
 */
export async function engineInventory(
  runId: string,
): Promise<{ containers: string[]; images: string[] }> {
  const docker = new Dockerode();
  const ofRun = `io.gatehouse.run=${runId}`;
  const containers = (
    await docker.listContainers({
      all: true,
      filters: { label: ['io.gatehouse.role=results', ofRun] },
    })
  )
    .map((c) => c.Id)
    .sort();
  const images = (await docker.listImages({ all: true, filters: { label: [ofRun] } }))
    .filter((i) =>
      (i.RepoTags ?? []).every((t) => t.startsWith('gatehouse-results:') || t === '<none>:<none>'),
    )
    .map((i) => `${i.Id} ${(i.RepoTags ?? []).join(',')}`)
    .sort();
  return { containers, images };
}
