import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  definePlugin,
  loadPlugins,
  loadProject,
  PluginRegistry,
  type GatehousePlugin,
  type LazyPlugin,
} from '../src/index.js';

/** A lazy entry whose `load` counts its calls and returns `plugin` (or throws `fail`). */
function lazy(
  declared: Omit<LazyPlugin, 'load'>,
  plugin: GatehousePlugin | (() => never),
): LazyPlugin & { calls: number } {
  const entry = {
    ...declared,
    calls: 0,
    load: async (): Promise<GatehousePlugin> => {
      entry.calls++;
      return typeof plugin === 'function' ? plugin() : plugin;
    },
  };
  return entry;
}

const emitted = { path: 'out.txt', contents: 'x' };
const notesPlugin = definePlugin({
  name: 'notes',
  targets: {
    notes: {
      description: 'notes file',
      resolveOptions: (o) => ({
        value: o,
        diagnostics:
          o.loud === undefined || typeof o.loud === 'boolean'
            ? []
            : [
                {
                  code: 'GH_TARGET_OPTIONS',
                  severity: 'error',
                  message: '`loud` is a boolean',
                  path: 'loud',
                  loc: null,
                },
              ],
      }),
      emit: () => [emitted],
    },
  },
});
const heavyPlugin = definePlugin({
  name: 'heavy',
  executors: { remote: { description: 'remote', execute: async () => ({}) as never } },
});

const notesEntry = (): LazyPlugin & { calls: number } =>
  lazy({ name: 'notes', targets: { notes: { description: 'notes file' } } }, notesPlugin);
const heavyEntry = (): LazyPlugin & { calls: number } =>
  lazy({ name: 'heavy', executors: { remote: { description: 'remote' } } }, heavyPlugin);

describe('lazy plugins in the registry', () => {
  it('knows declared names without importing, and imports once on first use', async () => {
    const notes = notesEntry();
    const heavy = heavyEntry();
    const r = new PluginRegistry([notes, heavy]);
    expect(r.targetNames()).toEqual(['notes']);
    expect(r.executorNames()).toEqual(['remote']);
    expect(r.hasTarget('notes')).toBe(true);
    expect(r.pluginOf('executor', 'remote')).toBe('heavy');
    expect(r.plugins).toEqual([]);
    expect(notes.calls + heavy.calls).toBe(0);

    expect(() => r.target('notes')).toThrow(
      expect.objectContaining({ code: 'GH_PLUGIN_NOT_LOADED' }),
    );
    const [a, b] = await Promise.all([r.loadTarget('notes'), r.loadTarget('notes')]);
    expect(a).toBe(notesPlugin.targets?.notes);
    expect(b).toBe(a);
    expect(r.target('notes')).toBe(a);
    expect(notes.calls).toBe(1);
    expect(heavy.calls).toBe(0);
    expect(r.plugins.map((p) => p.name)).toEqual(['notes']);

    await r.loadExecutor('remote');
    expect(heavy.calls).toBe(1);
    expect(r.plugins.map((p) => p.name)).toEqual(['notes', 'heavy']);
  });

  it('unknown names stay errors with suggestions, and load() ignores them', async () => {
    const notes = notesEntry();
    const r = new PluginRegistry([notes]);
    await r.load({ targets: ['nots'], executors: ['x'] });
    expect(notes.calls).toBe(0);
    await expect(r.loadTarget('nots')).rejects.toMatchObject({
      code: 'GH_UNKNOWN_TARGET',
      hint: 'did you mean `notes`?',
    });
  });

  it('a plugin that provides other names than declared is GH_PLUGIN_INVALID', async () => {
    const wrong = lazy(
      { name: 'notes', targets: { notes: { description: 'd' }, extra: { description: 'd' } } },
      notesPlugin,
    );
    await expect(new PluginRegistry([wrong]).loadTarget('notes')).rejects.toMatchObject({
      code: 'GH_PLUGIN_INVALID',
      message: expect.stringContaining('`targets` declared [notes, extra] but provided [notes]'),
    });
    const renamed = lazy({ name: 'other', targets: { notes: { description: 'd' } } }, notesPlugin);
    await expect(new PluginRegistry([renamed]).loadTarget('notes')).rejects.toMatchObject({
      code: 'GH_PLUGIN_INVALID',
      message: expect.stringContaining('loaded as `notes`'),
    });
  });

  it('a plugin whose import fails or has the wrong shape is GH_PLUGIN_INVALID naming it', async () => {
    const broken = lazy({ name: 'broken', targets: { b: { description: 'd' } } }, () => {
      throw new Error('cannot find module dockerode');
    });
    await expect(new PluginRegistry([broken]).loadTarget('b')).rejects.toMatchObject({
      code: 'GH_PLUGIN_INVALID',
      message: 'plugin `broken` failed to load: cannot find module dockerode',
    });
    const shapeless = lazy({ name: 'shapeless', targets: { s: { description: 'd' } } }, {
      name: 'shapeless',
      targets: { s: { description: 'd' } },
    } as unknown as GatehousePlugin);
    await expect(new PluginRegistry([shapeless]).loadTarget('s')).rejects.toMatchObject({
      code: 'GH_PLUGIN_INVALID',
      message: expect.stringContaining('`targets.s.emit` must be a function'),
    });
  });

  it('declared names clash like loaded ones', () => {
    const other = lazy({ name: 'other', targets: { notes: { description: 'd' } } }, notesPlugin);
    expect(() => new PluginRegistry([notesPlugin, other])).toThrow(
      expect.objectContaining({
        code: 'GH_PLUGIN_DUPLICATE',
        message: expect.stringContaining('`notes`'),
      }),
    );
    const kind = lazy({ name: 'k', gateKinds: ['lint'] }, { name: 'k' });
    expect(() => new PluginRegistry([kind])).toThrow(
      expect.objectContaining({ code: 'GH_PLUGIN_DUPLICATE' }),
    );
  });

  it('loadPlugins checks the shape of lazy entries without importing them', async () => {
    const notes = notesEntry();
    const r = await loadPlugins({ plugins: [], rootDir: tmpdir() }, [notes]);
    expect(r.targetNames()).toEqual(['notes']);
    expect(notes.calls).toBe(0);
    const bad = {
      name: 'bad',
      targets: { t: {} },
      load: async () => notesPlugin,
    } as unknown as LazyPlugin;
    await expect(loadPlugins({ plugins: [], rootDir: tmpdir() }, [bad])).rejects.toMatchObject({
      code: 'GH_PLUGIN_INVALID',
      message: expect.stringContaining('`targets.t.description` must be a string'),
    });
  });
});

describe('loadProject with lazy built-ins', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-lazy-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  async function project(yaml: string, entries: LazyPlugin[]) {
    const file = join(dir, 'gatehouse.yml');
    await writeFile(file, yaml);
    return loadProject(file, entries, { displayPath: 'gatehouse.yml' });
  }
  const BASE = 'version: 1\nname: app\ngates:\n  a: { kind: lighthouse, run: x }\n';

  it('imports only the plugins of the targets the config names (options checked) and of gate kinds', async () => {
    const notes = notesEntry();
    const heavy = heavyEntry();
    const kinds = lazy({ name: 'kinds', gateKinds: ['lighthouse'] }, {
      name: 'kinds',
      gateKinds: { lighthouse: { description: 'perf', defaults: { timeout: '5m' } } },
    } as unknown as GatehousePlugin);
    const ok = await project(`${BASE}targets: { notes: { loud: true } }\n`, [notes, heavy, kinds]);
    expect(ok.diagnostics).toEqual([]);
    expect(ok.pipeline?.gates[0]?.timeoutMs).toBe(300_000);
    expect([notes.calls, heavy.calls, kinds.calls]).toEqual([1, 0, 1]);
    expect(ok.registry.target('notes').emit).toBeTypeOf('function');

    const bad = await project(`${BASE}targets: { notes: { loud: 3 } }\n`, [
      notesEntry(),
      heavyEntry(),
      kinds,
    ]);
    expect(bad.pipeline).toBeNull();
    expect(bad.diagnostics.map((d) => `${d.code} ${d.path}@${d.loc?.line}`)).toEqual([
      'GH_TARGET_OPTIONS targets.notes.loud@5',
    ]);
  });

  it('no target named: no target plugin imported; an unknown one is still reported', async () => {
    const notes = notesEntry();
    const none = await project('version: 1\nname: app\ngates:\n  a: { run: x }\n', [notes]);
    expect(none.pipeline).not.toBeNull();
    expect(notes.calls).toBe(0);
    const unknown = await project(
      'version: 1\nname: app\ngates:\n  a: { run: x }\ntargets: { note: {} }\n',
      [notes],
    );
    expect(notes.calls).toBe(0);
    expect(unknown.diagnostics).toMatchObject([
      { code: 'GH_UNKNOWN_TARGET', hint: 'did you mean `notes`?' },
    ]);
  });
});
