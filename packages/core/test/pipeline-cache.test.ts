import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compileTargets,
  definePlugin,
  GatehouseError,
  loadProject,
  locateInConfig,
  type GatehousePlugin,
  type LazyPlugin,
  type PluginEntry,
  type PipelineCacheOptions,
  type Project,
  sha256,
  stateKeyDir,
  STATE_KEY_FILE,
} from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const CONFIG = `version: 1
name: demo
image: node:latest # unpinned: a warning the cache must keep
gates:
  build:
    run: echo build
  unit:
    needs: [build]
    run: echo unit
targets:
  notes: { title: hello }
`;

/** A target that refuses every title, so emitting needs the location of `targets.notes.title`. */
const notes = definePlugin({
  name: 'notes-plugin',
  targets: {
    notes: {
      description: 'notes',
      resolveOptions: (value) => ({ value, diagnostics: [] }),
      emit: () => {
        throw new GatehouseError('GH_NOTES', 'bad title', {
          diagnostics: [
            {
              code: 'GH_NOTES',
              severity: 'error',
              message: 'bad title',
              path: 'targets.notes.title',
              loc: null,
            },
          ],
        });
      },
    },
  },
});

async function project(
  files: Record<string, string> = {},
): Promise<{ dir: string; cache: PipelineCacheOptions }> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-pcache-'));
  dirs.push(dir);
  await writeFile(join(dir, 'gatehouse.yml'), CONFIG);
  for (const [p, text] of Object.entries(files)) {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), text);
  }
  return { dir, cache: { dir: join(dir, '.gatehouse', 'cache', 'config'), version: '1.2.3' } };
}

async function open(
  dir: string,
  cache?: PipelineCacheOptions,
  builtins: PluginEntry[] = [notes],
): Promise<Project> {
  return loadProject(join(dir, 'gatehouse.yml'), builtins, {
    displayPath: 'gatehouse.yml',
    ...(cache ? { cache } : {}),
  });
}

const entries = async (cache: PipelineCacheOptions): Promise<string[]> =>
  (await readdir(cache.dir).catch(() => [] as string[])).sort();

/** A third-party plugin package adding a gate kind, at a given version. */
async function installKindPlugin(dir: string, version: string): Promise<void> {
  const pkg = join(dir, 'node_modules', 'gatehouse-plugin-kinds');
  await mkdir(pkg, { recursive: true });
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'gatehouse-plugin-kinds', version, type: 'module', main: 'index.js' }),
  );
  await writeFile(
    join(pkg, 'index.js'),
    `export default { name: 'gatehouse-plugin-kinds', gateKinds: { perf: { description: 'perf', defaults: { timeout: '5m' } } } };`,
  );
}

describe('loadProject with a pipeline cache', () => {
  it('parses on the first load, reuses the entry on the next, with the same pipeline and warnings', async () => {
    const { dir, cache } = await project();
    const first = await open(dir, cache);
    expect(first.fromCache).toBeFalsy();
    expect(first.diagnostics.map((d) => d.code)).toEqual(['GH_IMAGE_UNPINNED']);
    expect(await entries(cache)).toHaveLength(1);

    const second = await open(dir, cache);
    expect(second.fromCache).toBe(true);
    expect(second.pipeline).toEqual(first.pipeline);
    expect(second.diagnostics).toEqual(first.diagnostics);
    expect(second.diagnostics[0]!.frame).toContain('node:latest');
    expect(second.text).toBe(first.text);
    expect(second.registry.targetNames()).toEqual(['notes']);
    // Without the option nothing is read or written.
    expect((await open(dir)).fromCache).toBeFalsy();
  });

  it('is keyed by the bytes: a comment edit misses, the same bytes again hit', async () => {
    const { dir, cache } = await project();
    await open(dir, cache);
    await writeFile(join(dir, 'gatehouse.yml'), `${CONFIG}# a comment\n`);
    const edited = await open(dir, cache);
    expect(edited.fromCache).toBeFalsy();
    expect(await entries(cache)).toHaveLength(2);
    expect((await open(dir, cache)).fromCache).toBe(true);
    await writeFile(join(dir, 'gatehouse.yml'), CONFIG);
    expect((await open(dir, cache)).fromCache).toBe(true);
  });

  it('misses when the workspace of gates of packages changes its package manager', async () => {
    const { dir, cache } = await project({
      'package.json': JSON.stringify({ name: 'shop', private: true, workspaces: ['packages/*'] }),
      'packages/web/package.json': JSON.stringify({ name: 'web', scripts: { build: 'x' } }),
    });
    const config = `version: 1
name: shop
gates:
  build: { packages: { script: build } }
release: { from: web-build, copy: [dist/], cmd: [node, dist/index.js] }
`;
    await writeFile(join(dir, 'gatehouse.yml'), config);
    const npm = await open(dir, cache);
    expect(npm.pipeline!.release!.package).toEqual({
      name: 'web',
      dir: 'packages/web',
      manager: 'npm',
    });
    expect(npm.pipeline!.gates[0]!.run).toBe('cd packages/web && npm run build');
    expect((await open(dir, cache)).fromCache).toBe(true);
    await writeFile(join(dir, 'pnpm-workspace.yaml'), "packages:\n  - 'packages/*'\n");
    const pnpm = await open(dir, cache);
    expect(pnpm.fromCache).toBeFalsy();
    expect(pnpm.pipeline!.release!.package).toEqual({
      name: 'web',
      dir: 'packages/web',
      manager: 'pnpm',
    });
    expect(pnpm.pipeline!.gates[0]!.run).toBe('cd packages/web && pnpm run build');
  });

  it('misses for another program version or other built-in plugins', async () => {
    const { dir, cache } = await project();
    await open(dir, cache);
    expect((await open(dir, { ...cache, version: '1.2.4' })).fromCache).toBeFalsy();
    const lazy: LazyPlugin = {
      name: 'lazy-kinds',
      gateKinds: ['lighthouse'],
      load: async () =>
        ({
          name: 'lazy-kinds',
          gateKinds: { lighthouse: { description: 'l', defaults: {} } },
        }) as unknown as GatehousePlugin,
    };
    expect((await open(dir, cache, [notes, lazy])).fromCache).toBeFalsy();
    expect((await open(dir, cache, [notes, lazy])).fromCache).toBe(true);
  });

  it('misses when a plugins: package changes version, and imports it on a hit', async () => {
    const { dir, cache } = await project();
    await installKindPlugin(dir, '1.0.0');
    await writeFile(
      join(dir, 'gatehouse.yml'),
      `version: 1\nname: demo\nplugins: [gatehouse-plugin-kinds]\ngates:\n  speed:\n    kind: perf\n    run: echo fast\n`,
    );
    const first = await open(dir, cache);
    expect(first.diagnostics).toEqual([]);
    expect(first.pipeline!.gates[0]!.timeoutMs).toBe(300_000);
    const hit = await open(dir, cache);
    expect(hit.fromCache).toBe(true);
    expect(hit.registry.plugins.map((p) => p.name)).toContain('gatehouse-plugin-kinds');

    await installKindPlugin(dir, '1.1.0');
    expect((await open(dir, cache)).fromCache).toBeFalsy();
    expect((await open(dir, cache)).fromCache).toBe(true);
  });

  it('ignores corrupt, partial, edited and foreign entries without failing', async () => {
    const { dir, cache } = await project();
    const good = await open(dir, cache);
    const [name] = await entries(cache);
    const file = join(cache.dir, name!);
    const text = await readFile(file, 'utf8');
    const broken = [
      text.slice(0, text.length / 2),
      'not json',
      '',
      'null',
      '[]',
      text.replace('"name":"demo"', '"name":"evil"'),
      text.replace('"format":2', '"format":99'),
      JSON.stringify({ ...JSON.parse(text), key: 'f'.repeat(64) }),
    ];
    for (const b of broken) {
      await writeFile(file, b);
      const p = await open(dir, cache);
      expect(p.fromCache, b.slice(0, 40)).toBeFalsy();
      expect(p.pipeline).toEqual(good.pipeline);
      // The miss wrote the entry again.
      expect((await open(dir, cache)).fromCache).toBe(true);
    }
  });

  it('keeps the 10 most recently used entries', async () => {
    const { dir, cache } = await project();
    for (let i = 0; i < 12; i++) {
      await writeFile(join(dir, 'gatehouse.yml'), `${CONFIG}# edit ${i}\n`);
      await open(dir, cache);
      // Distinct modification times even on coarse file systems.
      const names = await entries(cache);
      const past = new Date(Date.now() - (100 - i) * 1000);
      for (const n of names)
        if (!n.endsWith('.tmp'))
          await utimes(join(cache.dir, n), past, past).catch(() => undefined);
    }
    const names = await entries(cache);
    expect(names).toHaveLength(10);
    expect(names.every((n) => /^[0-9a-f]{64}\.json$/.test(n))).toBe(true);
    await writeFile(join(dir, 'gatehouse.yml'), `${CONFIG}# edit 11\n`);
    expect((await open(dir, cache)).fromCache).toBe(true);
  });

  it('gives a cached pipeline its locations by parsing on demand (emit errors stay located)', async () => {
    const { dir, cache } = await project();
    const fresh = await open(dir, cache);
    const cached = await open(dir, cache);
    expect(cached.fromCache).toBe(true);
    const loc = fresh.locate('targets.notes.title');
    expect(loc).toMatchObject({ file: 'gatehouse.yml', line: 11 });
    expect(cached.locate('targets.notes.title')).toEqual(loc);
    expect(locateInConfig(cached.pipeline!, 'gates.unit.needs[0]')).toEqual(
      fresh.locate('gates.unit.needs[0]'),
    );

    await cached.registry.load({ targets: ['notes'] });
    let err: unknown;
    try {
      compileTargets(cached.pipeline!, cached.registry, {
        gatehouseVersion: '1.2.3',
        configFile: 'gatehouse.yml',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GatehouseError);
    expect((err as GatehouseError).diagnostics[0]!.loc).toEqual(loc);
  });

  it('does not replay an entry edited with its unkeyed digests recomputed, and removes it', async () => {
    const { dir, cache } = await project();
    await open(dir, cache);
    const [name] = await entries(cache);
    const file = join(cache.dir, name!);
    const entry = JSON.parse(await readFile(file, 'utf8')) as {
      sha256?: string;
      body: { pipeline: { gates: Array<{ run: string; secrets: string[] }> } };
    };
    // What an editor of .gatehouse/ can do: change the command, grant a secret, and recompute
    // every digest that needs no key.
    entry.body.pipeline.gates[0]!.run = 'echo pwned > pwned.txt';
    entry.body.pipeline.gates[0]!.secrets = ['DEPLOY_TOKEN'];
    if ('sha256' in entry) entry.sha256 = sha256(JSON.stringify(entry.body));
    await writeFile(file, JSON.stringify(entry));

    const p = await open(dir, cache);
    expect(p.fromCache).toBeFalsy();
    expect(p.pipeline!.gates[0]).toMatchObject({ id: 'build', run: 'echo build', secrets: [] });
    // The forged entry is gone; the parse stored a good one under the same name.
    expect(await readFile(file, 'utf8')).not.toContain('pwned');
    expect((await open(dir, cache)).fromCache).toBe(true);
  });

  it('authenticates entries with a per-user key outside the project (0600 in a 0700 directory)', async () => {
    const { dir, cache } = await project();
    const state = await mkdtemp(join(tmpdir(), 'gatehouse-state-'));
    dirs.push(state);
    const keyDir = join(state, 'gatehouse');
    expect((await open(dir, { ...cache, keyDir })).fromCache).toBeFalsy();
    expect((await open(dir, { ...cache, keyDir })).fromCache).toBe(true);
    expect((await stat(join(keyDir, STATE_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(keyDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(keyDir, STATE_KEY_FILE), 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);

    // Written under another user's key: not replayed, parsed again (and stored under this key).
    const other = join(state, 'other');
    expect((await open(dir, { ...cache, keyDir: other })).fromCache).toBeFalsy();
    expect((await open(dir, { ...cache, keyDir: other })).fromCache).toBe(true);
    expect((await open(dir, { ...cache, keyDir })).fromCache).toBeFalsy();
  });

  it('does not use the cache when the key would live inside the project', async () => {
    const { dir, cache } = await project();
    const keyDir = join(dir, '.gatehouse', 'keys');
    expect((await open(dir, { ...cache, keyDir })).fromCache).toBeFalsy();
    expect((await open(dir, { ...cache, keyDir })).fromCache).toBeFalsy();
    expect(await entries(cache)).toEqual([]);
    expect(await readdir(join(dir, '.gatehouse')).catch(() => [])).not.toContain('keys');
  });

  it('clears a directory standing where an entry belongs', async () => {
    const { dir, cache } = await project();
    await open(dir, cache);
    const [name] = await entries(cache);
    await rm(join(cache.dir, name!));
    await mkdir(join(cache.dir, name!, 'junk'), { recursive: true });
    expect((await open(dir, cache)).fromCache).toBeFalsy();
    expect((await open(dir, cache)).fromCache).toBe(true);
  });
});

describe('stateKeyDir', () => {
  it('is $XDG_STATE_HOME/gatehouse when absolute, else ~/.local/state/gatehouse', () => {
    expect(stateKeyDir({ XDG_STATE_HOME: '/var/state' })).toBe('/var/state/gatehouse');
    expect(stateKeyDir({ XDG_STATE_HOME: 'relative' })).toMatch(/\/\.local\/state\/gatehouse$/);
    expect(stateKeyDir({})).toMatch(/\/\.local\/state\/gatehouse$/);
  });
});
