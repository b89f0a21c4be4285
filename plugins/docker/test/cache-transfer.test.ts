/**
 * `--cache-to` / `--cache-from` with real engines: a run on the main engine exports BuildKit's
 * cache of its stages, a second, empty engine (a fresh CI agent) imports it, answers every
 * gate from it with the first run's results and exports it again, a third one imports that
 * on a changed config and runs only the changed gate, and a fourth without a cache runs them.
 * Also: a damaged or foreign cache is one warning and changes nothing else, and no secret
 * value is in any byte of an exported tarball.
 */
import { cp, mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ResolvedPipeline, RunEvent, RunReport } from '@gatehouse-ci/core';
import { DOCKER_TEST_TIMEOUT_MS, ensureBaseImage, requireDocker } from '@gatehouse-ci/test-utils';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeDocker } from '../src/index.js';
import { CACHE_INDEX, CACHE_TAR, cacheRepository, type CacheIndex } from '../src/cache-transfer.js';
import { gate, project, removeProjects, runOptions } from './helpers.js';
import { copyImage, startEngine, type TestEngine } from '@gatehouse-ci/test-utils';

const hasDocker = await requireDocker('the build cache transfer tests');

const byId = (r: RunReport) => Object.fromEntries(r.gates.map((g) => [g.id, g]));
const messages = (events: RunEvent[], level?: 'info' | 'warn' | 'error') =>
  events.flatMap((e) => (e.type === 'message' && (!level || e.level === level) ? [e.text] : []));

/** When the run's last gate result was reported, in ms since the epoch. */
const lastGateEnd = (events: RunEvent[]) =>
  Math.max(...events.flatMap((e) => (e.type === 'gate-end' ? [Date.parse(e.at)] : [])));

/** The same project files under another directory: a checkout on another machine. */
async function checkoutElsewhere(p: ResolvedPipeline, dirs: string[]): Promise<ResolvedPipeline> {
  const rootDir = await mkdtemp(join(tmpdir(), 'gh-docker-agent-'));
  dirs.push(rootDir);
  await cp(p.rootDir, rootDir, {
    recursive: true,
    filter: (src) => !src.includes('/.gatehouse'),
  });
  return { ...p, rootDir, configPath: join(rootDir, 'gatehouse.yml') };
}

describe.skipIf(!hasDocker)(
  'BuildKit cache shared between engines (real engines)',
  { timeout: DOCKER_TEST_TIMEOUT_MS },
  () => {
    let image = '';
    const main = new Dockerode();
    const dirs: string[] = [];
    const engines: TestEngine[] = [];
    beforeAll(async () => {
      image = await ensureBaseImage();
    }, 600_000);
    afterAll(async () => {
      await Promise.all(engines.splice(0).map((e) => e.stop()));
      await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
      await removeProjects();
    });

    async function tempDir(prefix: string): Promise<string> {
      const d = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    }

    async function freshEngine(): Promise<TestEngine> {
      const engine = await startEngine();
      engines.push(engine);
      await copyImage(main, engine.docker, image);
      return engine;
    }

    async function stopEngine(engine: TestEngine): Promise<void> {
      engines.splice(engines.indexOf(engine), 1);
      await engine.stop();
    }

    it('a fresh engine that imports the cache reports every gate cached with the same results; one without it runs them', async () => {
      const p = await project(image, [
        gate('lint', {
          run: 'echo linting; printf \'[{"filePath":"/app/a.js","messages":[]}]\' > "$GATEHOUSE_OUT/eslint.json"',
          evidence: [{ format: 'eslint', path: 'eslint.json' }],
        }),
        gate('slow', { run: 'sleep 2; echo slow done' }),
        gate('build', {
          run: 'mkdir -p dist && echo built > dist/out.txt && cat dist/out.txt',
          needs: ['lint'],
        }),
      ]);
      const cacheDir = join(await tempDir('gh-cache-'), 'cache');

      // The first machine: run, then export.
      const firstOpts = runOptions(p, { cacheTo: cacheDir });
      const first = await executeDocker(p, firstOpts);
      expect(first.verdict.status).toBe('passed');
      for (const r of first.gates) expect(r.status, `${r.id}: ${r.reason}`).toBe('passed');
      const exported = messages(firstOpts.events, 'info').filter((t) =>
        t.startsWith('build cache exported'),
      );
      expect(exported).toHaveLength(1);
      expect(exported[0]).toMatch(
        /^build cache exported to .*gatehouse-cache\.tar \(\d+(\.\d)? MB in \d+\.\d s; setup, gate-lint, gate-slow, gate-build; index gatehouse-cache\.json\)$/,
      );
      expect(messages(firstOpts.events, 'warn')).toEqual([]);
      expect((await readdir(cacheDir)).sort()).toEqual([CACHE_INDEX, CACHE_TAR]);
      const index = JSON.parse(await readFile(join(cacheDir, CACHE_INDEX), 'utf8')) as CacheIndex;
      const repository = cacheRepository(p);
      expect(index).toMatchObject({
        format: 1,
        pipeline: p.name,
        configSha256: p.configSha256,
        images: ['setup', 'gate-lint', 'gate-slow', 'gate-build'].map((stage) => ({
          stage,
          tag: `${repository}:${stage}`,
        })),
      });
      const tarBytes = await readFile(join(cacheDir, CACHE_TAR));
      expect(index.tar).toEqual({
        file: CACHE_TAR,
        bytes: tarBytes.length,
        sha256: createHash('sha256').update(tarBytes).digest('hex'),
      });
      // The export leaves no tag behind on the engine that made it.
      for (const i of index.images)
        await expect(main.getImage(i.tag).inspect(), i.tag).rejects.toThrow();

      // A fresh CI agent with the cache: a checkout in another directory, on an empty engine.
      // Like a CI job, it restores the cache, runs, and saves it again in the same directory.
      const agent = await freshEngine();
      const withCache = await checkoutElsewhere(p, dirs);
      const cachedOpts = runOptions(withCache, {
        cacheFrom: cacheDir,
        cacheTo: cacheDir,
        env: { PATH: process.env.PATH, DOCKER_HOST: agent.host },
      });
      const t0 = Date.now();
      const cached = await executeDocker(withCache, cachedOpts);
      // Until the last result: the time the re-export takes after it is not part of the comparison.
      const withMs = lastGateEnd(cachedOpts.events) - t0;
      expect(messages(cachedOpts.events, 'warn')).toEqual([]);
      expect(messages(cachedOpts.events, 'info')).toContainEqual(
        expect.stringMatching(
          /^build cache imported from .*: setup, gate-lint, gate-slow, gate-build \(.* MB loaded in \d+\.\d s, gatehouse .*, same config\)$/,
        ),
      );
      const a = byId(first);
      for (const r of cached.gates) {
        expect(r.status, `${r.id}: ${r.reason}`).toBe('cached');
        expect(r.cached?.status).toBe(a[r.id]!.status);
        expect(r.cached?.key).toMatch(/^sha256:/);
        expect(r.startedAt).toBe(a[r.id]!.startedAt);
        expect(r.evidence).toEqual(a[r.id]!.evidence);
        expect(
          await readFile(join(cachedOpts.stateDir, 'runs', cached.runId, 'logs', `${r.id}.log`)),
        ).toEqual(
          await readFile(join(firstOpts.stateDir, 'runs', first.runId, 'logs', `${r.id}.log`)),
        );
      }
      expect(byId(cached).lint!.evidence.lint).toMatchObject({ errors: 0, checked: 1 });
      expect(cached.setup?.status).toBe('cached');
      expect(cached.verdict).toEqual(first.verdict);
      // The imported tags are gone after the run: they only lent cache metadata.
      expect((await agent.docker.listImages()).flatMap((i) => i.RepoTags ?? []).sort()).toEqual([
        image,
      ]);
      await stopEngine(agent);

      // The next agent imports what the previous one re-exported, on a commit that changed the
      // slow gate's command (another config): the other stages still come from the cache.
      expect(messages(cachedOpts.events, 'info')).toContainEqual(
        expect.stringMatching(/^build cache exported to .*cache\/gatehouse-cache\.tar /),
      );
      expect((await readdir(cacheDir)).sort()).toEqual([CACHE_INDEX, CACHE_TAR]);
      const reindexed = JSON.parse(
        await readFile(join(cacheDir, CACHE_INDEX), 'utf8'),
      ) as CacheIndex;
      expect(reindexed.createdAt > index.createdAt).toBe(true);
      expect(reindexed.images.map((i) => i.tag)).toEqual(
        index.images.map((i) => i.tag.replace(repository, cacheRepository(withCache))),
      );
      const next = await freshEngine();
      const checkedOut = await checkoutElsewhere(p, dirs);
      const nextCheckout: ResolvedPipeline = {
        ...checkedOut,
        configSha256: 'e'.repeat(64),
        gates: checkedOut.gates.map((g) =>
          g.id === 'slow' ? { ...g, run: 'sleep 2; echo slow done, edited' } : g,
        ),
      };
      const nextOpts = runOptions(nextCheckout, {
        cacheFrom: cacheDir,
        env: { PATH: process.env.PATH, DOCKER_HOST: next.host },
      });
      const fromNext = await executeDocker(nextCheckout, nextOpts);
      expect(messages(nextOpts.events, 'warn')).toEqual([]);
      expect(messages(nextOpts.events, 'info')).toContainEqual(
        expect.stringMatching(/^build cache imported from .*, another config\)$/),
      );
      const n = byId(fromNext);
      for (const id of ['lint', 'build']) {
        expect(n[id]!.status, `${id}: ${n[id]!.reason}`).toBe('cached');
        expect(n[id]!.startedAt).toBe(a[id]!.startedAt);
      }
      expect(n.slow!.status).toBe('passed');
      expect(n.slow!.startedAt > a.slow!.startedAt).toBe(true);
      expect(fromNext.setup?.status).toBe('cached');
      await stopEngine(next);

      // The control: another empty engine, the same checkout, no cache: every gate runs.
      const control = await freshEngine();
      const plain = await checkoutElsewhere(p, dirs);
      const plainOpts = runOptions(plain, {
        env: { PATH: process.env.PATH, DOCKER_HOST: control.host },
      });
      const t1 = Date.now();
      const ran = await executeDocker(plain, plainOpts);
      const withoutMs = lastGateEnd(plainOpts.events) - t1;
      for (const r of ran.gates) expect(r.status, `${r.id}: ${r.reason}`).toBe('passed');
      expect(ran.setup?.status).toBe('passed');
      expect(ran.verdict).toEqual(first.verdict);
      await stopEngine(control);

      const loadMs =
        1000 *
        Number(
          /loaded in (\d+\.\d) s/.exec(
            messages(cachedOpts.events, 'info').find((t) => t.includes('loaded in'))!,
          )![1],
        );
      const exportS = /MB in (\d+\.\d) s;/.exec(exported[0]!)![1];
      // Timings are printed, not asserted: the machine is shared. The cached status above is the proof.
      console.log(
        `fresh engine: ${Math.round(withMs)} ms with the imported cache (${(tarBytes.length / 1048576).toFixed(1)} MB tarball loaded in ${loadMs} ms, builds ${Math.round(withMs - loadMs)} ms), ${Math.round(withoutMs)} ms without; the export took ${exportS} s`,
      );
    });

    it('a damaged, missing or foreign cache is one warning; the gates run and the verdict stands', async () => {
      const source = await project(image, [gate('unit', { run: 'echo unit' })]);
      const good = join(await tempDir('gh-cache-'), 'good');
      await executeDocker(source, runOptions(source, { cacheTo: good }));
      const index = JSON.parse(await readFile(join(good, CACHE_INDEX), 'utf8')) as CacheIndex;

      // A truncated tarball: its size and sha256 no longer match the index.
      const truncated = await tempDir('gh-cache-truncated-');
      await cp(good, truncated, { recursive: true });
      await truncate(join(truncated, CACHE_TAR), 4096);
      // A tarball that would put another tag on the engine (here the base image's own).
      const foreign = await tempDir('gh-cache-foreign-');
      const saved = (await (
        main as unknown as { getImages(o: { names: string[] }): Promise<Readable> }
      ).getImages({ names: [image] })) as Readable;
      const chunks: Buffer[] = [];
      for await (const c of saved) chunks.push(c as Buffer);
      const bytes = Buffer.concat(chunks);
      await writeFile(join(foreign, CACHE_TAR), bytes);
      await writeFile(
        join(foreign, CACHE_INDEX),
        JSON.stringify({
          ...index,
          tar: {
            file: CACHE_TAR,
            bytes: bytes.length,
            sha256: createHash('sha256').update(bytes).digest('hex'),
          },
        }),
      );
      const notJson = await tempDir('gh-cache-garbage-');
      await writeFile(join(notJson, CACHE_INDEX), '{"format": 1, "images": [');
      const missing = join(await tempDir('gh-cache-'), 'never-written');

      const cases: Array<[string, string, RegExp]> = [
        ['truncated', truncated, /gatehouse-cache\.tar does not match its index/],
        ['foreign', foreign, /would tag gatehouse-test-base:/],
        ['not JSON', notJson, /JSON/],
        ['missing', missing, /no gatehouse-cache\.json in /],
      ];
      for (const [name, dir, why] of cases) {
        const p = await project(image, [gate('unit', { run: 'echo unit' })]);
        const opts = runOptions(p, { cacheFrom: dir });
        const report = await executeDocker(p, opts);
        const warnings = messages(opts.events, 'warn');
        expect(warnings, name).toHaveLength(1);
        expect(warnings[0], name).toMatch(
          /^build cache in .* not used \(.*\); building without it$/,
        );
        expect(warnings[0], name).toMatch(why);
        expect(messages(opts.events, 'error'), name).toEqual([]);
        expect(byId(report).unit!.status, name).toBe('passed');
        expect(report.verdict.status, name).toBe('passed');
      }
      // The base image was not replaced by the foreign tarball's copy of it (never loaded).
      expect((await main.getImage(image).inspect()).RepoTags).toContain(image);
    });

    it('no secret value is in any byte of an exported tarball; an image holding one is not exported', async () => {
      const canary = `canary-${createHash('sha256').update(String(Math.random())).digest('hex')}`;
      const env = { PATH: process.env.PATH, CANARY_TOKEN: canary };
      const p = await project(image, [
        gate('deploy', {
          // Uses the secret and prints it: the log in the image is redacted by the stage itself.
          run: 'test -n "$CANARY_TOKEN" && echo "token=$CANARY_TOKEN" && echo "$CANARY_TOKEN" | wc -c',
          secrets: ['CANARY_TOKEN'],
        }),
      ]);
      const dir = join(await tempDir('gh-cache-'), 'cache');
      const opts = runOptions(p, { cacheTo: dir, env });
      const report = await executeDocker(p, opts);
      expect(byId(report).deploy!.status).toBe('passed');
      expect(messages(opts.events, 'warn')).toEqual([]);
      const tarball = await readFile(join(dir, CACHE_TAR));
      expect(tarball.length).toBeGreaterThan(1_000_000);
      expect(tarball.includes(Buffer.from('token=***'))).toBe(true);
      expect(tarball.includes(Buffer.from(canary))).toBe(false);
      expect((await readFile(join(dir, CACHE_INDEX))).includes(Buffer.from(canary))).toBe(false);

      // A gate that writes the value into its evidence (not redacted): the export is refused.
      const leaky = await project(image, [
        gate('leak', {
          run: 'printf %s "$CANARY_TOKEN" > "$GATEHOUSE_OUT/token.txt"',
          secrets: ['CANARY_TOKEN'],
        }),
      ]);
      const leakDir = join(await tempDir('gh-cache-'), 'cache');
      await mkdir(leakDir, { recursive: true });
      const leakOpts = runOptions(leaky, { cacheTo: leakDir, env });
      const leakReport = await executeDocker(leaky, leakOpts);
      expect(leakReport.verdict.status).toBe('passed');
      expect(messages(leakOpts.events, 'warn')).toEqual([
        `build cache not exported to ${leakDir}: the images hold the value of secret CANARY_TOKEN`,
      ]);
      expect(await readdir(leakDir)).toEqual([]);
    });
  },
);
