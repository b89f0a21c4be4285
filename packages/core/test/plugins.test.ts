import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkPluginShape,
  definePlugin,
  GatehouseError,
  loadPlugins,
  PluginRegistry,
  type GatehousePlugin,
} from '../src/index.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-plugins-'));
});
afterAll(async () => rm(root, { recursive: true, force: true }));

/** Install a fake package into `<root>/node_modules/<name>` with the given entry source. */
async function installPackage(
  name: string,
  source: string,
  type: 'module' | 'commonjs' = 'module',
): Promise<void> {
  const dir = join(root, 'node_modules', name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', type, main: 'index.js' }),
  );
  await writeFile(join(dir, 'index.js'), source);
}

const target = `{ description: 'x', resolveOptions: (value) => ({ value, diagnostics: [] }), emit: () => [{ path: 'x.txt', contents: 'x' }] }`;
const builtin: GatehousePlugin = definePlugin({
  name: '@gatehouse-ci/plugin-fake',
  targets: {
    dockerfile: {
      description: 'd',
      resolveOptions: (value) => ({ value, diagnostics: [] }),
      emit: () => [],
    },
  },
});

async function load(
  plugins: string[],
  builtins: GatehousePlugin[] = [builtin],
): Promise<PluginRegistry> {
  return loadPlugins({ plugins, rootDir: root }, builtins);
}

async function failure(plugins: string[]): Promise<GatehouseError> {
  const err = await load(plugins).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GatehouseError);
  return err as GatehouseError;
}

describe('loadPlugins', () => {
  it('loads an ESM plugin from the project node_modules', async () => {
    await installPackage(
      'gatehouse-plugin-esm',
      `export default { name: 'gatehouse-plugin-esm', targets: { gitlab: ${target} }, gateKinds: { lighthouse: { description: 'perf', defaults: { timeout: '5m' } } } };`,
    );
    const r = await load(['gatehouse-plugin-esm']);
    expect(r.targetNames()).toEqual(['dockerfile', 'gitlab']);
    expect(r.pluginOf('target', 'gitlab')).toBe('gatehouse-plugin-esm');
    expect(Object.keys(r.presets())).toEqual(['lighthouse']);
    expect(r.target('gitlab').emit).toBeTypeOf('function');
  });

  it('loads a CommonJS plugin (module.exports and exports.default)', async () => {
    await installPackage(
      'gatehouse-plugin-cjs',
      `module.exports = { name: 'gatehouse-plugin-cjs', targets: { drone: ${target} } };`,
      'commonjs',
    );
    await installPackage(
      'gatehouse-plugin-cjs2',
      `exports.default = { name: 'gatehouse-plugin-cjs2', targets: { woodpecker: ${target} } };`,
      'commonjs',
    );
    const r = await load(['gatehouse-plugin-cjs', 'gatehouse-plugin-cjs2']);
    expect(r.targetNames()).toEqual(['dockerfile', 'drone', 'woodpecker']);
  });

  it('a missing package: GH_PLUGIN_NOT_FOUND naming it, with the install command', async () => {
    const err = await failure(['gatehouse-plugin-absent']);
    expect(err.code).toBe('GH_PLUGIN_NOT_FOUND');
    expect(err.message).toContain('gatehouse-plugin-absent');
    expect(err.hint).toBe('npm i -D gatehouse-plugin-absent');
  });

  it('a module that throws on import: GH_PLUGIN_INVALID naming it', async () => {
    await installPackage('gatehouse-plugin-throws', `throw new Error('boom');`);
    const err = await failure(['gatehouse-plugin-throws']);
    expect(err.code).toBe('GH_PLUGIN_INVALID');
    expect(err.message).toContain('gatehouse-plugin-throws');
    expect(err.message).toContain('boom');
  });

  it.each([
    ['no default export', `export const x = 1;`, /`name` must be a non-empty string/],
    ['not an object', `export default 42;`, /expected an object, got number/],
    [
      'emit not a function',
      `export default { name: 'p', targets: { t: { description: 'x', emit: 'no' } } };`,
      /`targets\.t\.emit` must be a function/,
    ],
    [
      'missing description',
      `export default { name: 'p', executors: { e: { execute() {} } } };`,
      /`executors\.e\.description` must be a string/,
    ],
    [
      'execute missing',
      `export default { name: 'p', executors: { e: { description: 'x' } } };`,
      /`executors\.e\.execute` must be a function/,
    ],
    [
      'targets not an object',
      `export default { name: 'p', targets: [] };`,
      /`targets` must be an object/,
    ],
    [
      'unknown key with suggestion',
      `export default { name: 'p', target: {} };`,
      /unknown key `target` \(did you mean `targets`\?\)/,
    ],
    [
      'gate kind without defaults',
      `export default { name: 'p', gateKinds: { k: { description: 'x' } } };`,
      /`gateKinds\.k\.defaults` must be an object/,
    ],
    [
      'validateOptions instead of resolveOptions',
      `export default { name: 'p', targets: { t: { description: 'x', emit() {}, validateOptions() {} } } };`,
      /`targets\.t\.resolveOptions` must be a function \(it replaces `validateOptions`\)/,
    ],
  ])(
    'bad shape (%s): GH_PLUGIN_INVALID naming the plugin and the key',
    async (label, source, message) => {
      const name = `gatehouse-plugin-bad-${label.replace(/\W+/g, '-')}`;
      await installPackage(name, source);
      const err = await failure([name]);
      expect(err.code).toBe('GH_PLUGIN_INVALID');
      expect(err.message).toContain(`plugin \`${name}\``);
      expect(err.message).toMatch(message);
    },
  );

  it('duplicate target names across plugins: error naming both plugins', async () => {
    await installPackage(
      'gatehouse-plugin-dup',
      `export default { name: 'gatehouse-plugin-dup', targets: { dockerfile: ${target} } };`,
    );
    const err = await failure(['gatehouse-plugin-dup']);
    expect(err.code).toBe('GH_PLUGIN_DUPLICATE');
    expect(err.message).toBe(
      'target `dockerfile` is registered by both `@gatehouse-ci/plugin-fake` and `gatehouse-plugin-dup`',
    );
  });

  it('a plugin may not replace a built-in gate kind', async () => {
    await installPackage(
      'gatehouse-plugin-kind',
      `export default { name: 'gatehouse-plugin-kind', gateKinds: { lint: { description: 'x', defaults: {} } } };`,
    );
    expect((await failure(['gatehouse-plugin-kind'])).message).toContain(
      'gate kind `lint`, which is built in',
    );
  });
});

describe('PluginRegistry lookups', () => {
  const r = new PluginRegistry([
    builtin,
    { name: 'e', executors: { local: { description: 'l', execute: async () => ({}) as never } } },
  ]);
  it('suggests the closest name for an unknown target or executor', () => {
    expect(() => r.target('dockerfil')).toThrow(
      expect.objectContaining({ code: 'GH_UNKNOWN_TARGET', hint: 'did you mean `dockerfile`?' }),
    );
    expect(() => r.executor('locl')).toThrow(
      expect.objectContaining({ code: 'GH_UNKNOWN_EXECUTOR', hint: 'did you mean `local`?' }),
    );
    expect(r.executorNames()).toEqual(['local']);
  });
  it('refuses the same plugin twice', () => {
    expect(() => new PluginRegistry([builtin, builtin])).toThrow(
      expect.objectContaining({ code: 'GH_PLUGIN_DUPLICATE' }),
    );
  });
  it('checkPluginShape accepts a minimal plugin', () => {
    expect(checkPluginShape({ name: 'x' }, 'x')).toEqual({ name: 'x' });
  });
});
