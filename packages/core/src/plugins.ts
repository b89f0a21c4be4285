/**
 * Plugin loading and the registry of targets, executors and gate kinds.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { didYouMean } from './diagnostics.js';
import { GatehouseError } from './errors.js';
import type { ResolvedPipeline } from './model.js';
import type {
  ExecutorDefinition,
  GateKindPreset,
  GatehousePlugin,
  TargetDefinition,
} from './plugin.js';
import { BUILTIN_PRESETS } from './config/presets.js';
import { isPlainObject } from './object.js';

/**
 * A plugin that is imported only when one of its targets or executors is used: what it
 * provides is declared up front, so listing and validating names needs no import. The
 * plugin `load` resolves to must provide exactly the declared names (checked on load).
 */
export interface LazyPlugin {
  /** Unique name, the same as the loaded plugin's `name`. */
  name: string;
  /** Targets the plugin provides, by name, with the one-line description of each. */
  targets?: Record<string, { description: string }>;
  /** Executors the plugin provides, by name, with the one-line description of each. */
  executors?: Record<string, { description: string }>;
  /**
   * Gate kinds the plugin adds. Validation needs them, so {@link loadProject} imports a
   * lazy plugin that declares any before validating.
   */
  gateKinds?: string[];
  /** Import the plugin (e.g. `() => import('pkg').then((m) => m.default)`). */
  load(): Promise<GatehousePlugin>;
}

/** A plugin given to the registry: already imported, or imported on first use. */
export type PluginEntry = GatehousePlugin | LazyPlugin;

/** True for a {@link LazyPlugin} (it has a `load` function). */
export function isLazyPlugin(p: PluginEntry): p is LazyPlugin {
  return typeof (p as { load?: unknown }).load === 'function';
}

type Slot<T> = { def: T | null; plugin: string };

/** Every target, executor and gate kind of the plugins, by name. */
export class PluginRegistry {
  /** The plugins imported so far (lazy ones appear once loaded), in registration order. */
  get plugins(): readonly GatehousePlugin[] {
    return this.entries.flatMap((e) => {
      const p = this.loaded.get(e.name);
      return p ? [p] : [];
    });
  }
  private readonly entries: readonly PluginEntry[];
  private readonly loaded = new Map<string, GatehousePlugin>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly targets = new Map<string, Slot<TargetDefinition>>();
  private readonly executors = new Map<string, Slot<ExecutorDefinition>>();
  private readonly kinds = new Map<string, Slot<GateKindPreset>>();

  /** Throws `GH_PLUGIN_DUPLICATE` when two plugins register the same name. */
  constructor(plugins: readonly PluginEntry[]) {
    this.entries = [...plugins];
    const names = new Set<string>();
    for (const p of plugins) {
      if (names.has(p.name)) {
        throw new GatehouseError('GH_PLUGIN_DUPLICATE', `plugin \`${p.name}\` is loaded twice`, {
          hint: 'list each plugin once in `plugins:` (built-in plugins need no entry)',
        });
      }
      names.add(p.name);
      const lazy = isLazyPlugin(p);
      const kindNames = lazy ? (p.gateKinds ?? []) : Object.keys(p.gateKinds ?? {});
      for (const kind of kindNames) {
        if (BUILTIN_PRESETS[kind]) {
          throw new GatehouseError(
            'GH_PLUGIN_DUPLICATE',
            `plugin \`${p.name}\` registers gate kind \`${kind}\`, which is built in`,
            {
              hint: 'a plugin may add gate kinds but not replace built-in ones',
            },
          );
        }
      }
      if (lazy) {
        register(this.targets, 'target', p.name, declared(p.targets));
        register(this.executors, 'executor', p.name, declared(p.executors));
        register(this.kinds, 'gate kind', p.name, declared(p.gateKinds));
      } else {
        this.loaded.set(p.name, p);
        register(this.targets, 'target', p.name, p.targets);
        register(this.executors, 'executor', p.name, p.executors);
        register(this.kinds, 'gate kind', p.name, p.gateKinds);
      }
    }
  }

  /**
   * A target by name; throws `GH_UNKNOWN_TARGET` with a suggestion, or `GH_PLUGIN_NOT_LOADED`
   * when its plugin is lazy and not imported yet (see {@link load} / {@link loadTarget}).
   */
  target(name: string): TargetDefinition {
    const t = this.targets.get(name);
    if (!t) throw unknown('GH_UNKNOWN_TARGET', 'target', name, this.targetNames());
    return t.def ?? notLoaded('target', name, t.plugin);
  }

  /** An executor by name; like {@link target}, with `GH_UNKNOWN_EXECUTOR`. */
  executor(name: string): ExecutorDefinition {
    const e = this.executors.get(name);
    if (!e) throw unknown('GH_UNKNOWN_EXECUTOR', 'executor', name, this.executorNames());
    return e.def ?? notLoaded('executor', name, e.plugin);
  }

  /** A target by name, importing its plugin first when needed. */
  async loadTarget(name: string): Promise<TargetDefinition> {
    await this.load({ targets: [name] });
    return this.target(name);
  }

  /** An executor by name, importing its plugin first when needed. */
  async loadExecutor(name: string): Promise<ExecutorDefinition> {
    await this.load({ executors: [name] });
    return this.executor(name);
  }

  /**
   * Import the lazy plugins that provide these targets and executors (and, with
   * `gateKinds: true`, every lazy plugin that declares gate kinds). Unknown names are
   * ignored: lookups report them. Throws `GH_PLUGIN_INVALID` when a plugin fails to
   * import or does not provide what it declared.
   */
  async load(want: {
    targets?: readonly string[];
    executors?: readonly string[];
    gateKinds?: boolean;
  }): Promise<void> {
    const plugins = new Set<string>();
    for (const n of want.targets ?? []) {
      const s = this.targets.get(n);
      if (s && !s.def) plugins.add(s.plugin);
    }
    for (const n of want.executors ?? []) {
      const s = this.executors.get(n);
      if (s && !s.def) plugins.add(s.plugin);
    }
    if (want.gateKinds) for (const s of this.kinds.values()) if (!s.def) plugins.add(s.plugin);
    // Sequential, in registration order, so a failure always names the same plugin.
    for (const e of this.entries) if (plugins.has(e.name)) await this.importEntry(e as LazyPlugin);
  }

  private importEntry(entry: LazyPlugin): Promise<void> {
    let p = this.loading.get(entry.name);
    if (!p) {
      p = this.importLazy(entry);
      this.loading.set(entry.name, p);
    }
    return p;
  }

  private async importLazy(entry: LazyPlugin): Promise<void> {
    let value: unknown;
    try {
      value = await entry.load();
    } catch (err) {
      // A loader that knows why (an optional package that is not installed) says so itself.
      if (err instanceof GatehouseError) throw err;
      throw new GatehouseError(
        'GH_PLUGIN_INVALID',
        `plugin \`${entry.name}\` failed to load: ${(err as Error).message}`,
        {
          hint: 'check that the package is built and its entry point loads with node',
          cause: err,
        },
      );
    }
    const plugin = checkPluginShape(pluginFromModule(value), entry.name);
    const mismatch = (what: string): never => {
      throw new GatehouseError(
        'GH_PLUGIN_INVALID',
        `plugin \`${entry.name}\` is invalid: ${what}`,
        { hint: 'the declared names of a lazily loaded plugin must match what it provides' },
      );
    };
    if (plugin.name !== entry.name) mismatch(`it loaded as \`${plugin.name}\``);
    const same = (a: string[], b: string[]): boolean =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    const sections = [
      ['targets', Object.keys(entry.targets ?? {}), Object.keys(plugin.targets ?? {})],
      ['executors', Object.keys(entry.executors ?? {}), Object.keys(plugin.executors ?? {})],
      ['gateKinds', [...(entry.gateKinds ?? [])], Object.keys(plugin.gateKinds ?? {})],
    ] as const;
    for (const [key, want, got] of sections) {
      if (!same([...want].sort(), [...got].sort())) {
        mismatch(`\`${key}\` declared [${want.join(', ')}] but provided [${got.join(', ')}]`);
      }
    }
    for (const [n, def] of Object.entries(plugin.targets ?? {})) this.targets.get(n)!.def = def;
    for (const [n, def] of Object.entries(plugin.executors ?? {})) this.executors.get(n)!.def = def;
    for (const [n, def] of Object.entries(plugin.gateKinds ?? {})) this.kinds.get(n)!.def = def;
    this.loaded.set(entry.name, plugin);
  }

  hasTarget(name: string): boolean {
    return this.targets.has(name);
  }

  hasExecutor(name: string): boolean {
    return this.executors.has(name);
  }

  /** Sorted target names (lazy plugins' included). */
  targetNames(): string[] {
    return [...this.targets.keys()].sort();
  }

  /** Sorted executor names (lazy plugins' included). */
  executorNames(): string[] {
    return [...this.executors.keys()].sort();
  }

  /** Name of the plugin that provides a target, executor or gate kind. */
  pluginOf(kind: 'target' | 'executor' | 'gate kind', name: string): string | null {
    const map: Map<string, Slot<unknown>> = kind === 'target'
      ? this.targets
      : kind === 'executor'
        ? this.executors
        : this.kinds;
    return map.get(name)?.plugin ?? null;
  }

  /**
   * Gate kinds registered by plugins (pass to `loadPipeline({ presets })`). Kinds of lazy
   * plugins not loaded yet are missing: `await load({ gateKinds: true })` first.
   */
  presets(): Record<string, GateKindPreset> {
    return Object.fromEntries(
      [...this.kinds].flatMap(([k, v]) => (v.def ? [[k, v.def] as const] : [])),
    );
  }
}

/** Declared names as registry slots without definitions. */
function declared(
  names: Record<string, unknown> | readonly string[] | undefined,
): Record<string, null> {
  const list = Array.isArray(names) ? names : Object.keys(names ?? {});
  return Object.fromEntries(list.map((n: string) => [n, null]));
}

function notLoaded(what: string, name: string, plugin: string): never {
  throw new GatehouseError(
    'GH_PLUGIN_NOT_LOADED',
    `${what} \`${name}\` of plugin \`${plugin}\` is not loaded yet`,
    {
      hint: `await registry.load${what === 'target' ? 'Target' : 'Executor'}('${name}') before using it`,
    },
  );
}

function register<T>(
  into: Map<string, Slot<T>>,
  what: string,
  plugin: string,
  defs: Record<string, T | null> | undefined,
): void {
  for (const [name, def] of Object.entries(defs ?? {})) {
    const prev = into.get(name);
    if (prev) {
      throw new GatehouseError(
        'GH_PLUGIN_DUPLICATE',
        `${what} \`${name}\` is registered by both \`${prev.plugin}\` and \`${plugin}\``,
        {
          hint: `remove one of the two plugins from \`plugins:\``,
        },
      );
    }
    into.set(name, { def, plugin });
  }
}

function unknown(code: string, what: string, name: string, known: string[]): GatehouseError {
  return new GatehouseError(code, `unknown ${what} \`${name}\``, {
    hint:
      didYouMean(name, known) ??
      (known.length ? `available: ${known.join(', ')}` : `no ${what}s are loaded`),
  });
}

/**
 * Check that a value has the plugin shape; returns it typed or throws
 * `GH_PLUGIN_INVALID` naming the plugin (`source`) and the offending key.
 */
export function checkPluginShape(value: unknown, source: string): GatehousePlugin {
  const fail = (what: string): never => {
    throw new GatehouseError('GH_PLUGIN_INVALID', `plugin \`${source}\` is invalid: ${what}`, {
      hint: 'a plugin module default-exports `definePlugin({ name, targets?, executors?, gateKinds? })`',
    });
  };
  if (!isPlainObject(value))
    return fail(`expected an object, got ${value === null ? 'null' : typeof value}`);
  if (typeof value.name !== 'string' || value.name.length === 0)
    fail('`name` must be a non-empty string');
  const allowed = new Set(['name', 'targets', 'executors', 'gateKinds']);
  for (const key of Object.keys(value)) {
    if (!allowed.has(key))
      fail(
        `unknown key \`${key}\`${didYouMean(key, allowed) ? ` (${didYouMean(key, allowed)})` : ''}`,
      );
  }
  const section = (key: 'targets' | 'executors' | 'gateKinds', fn: string | null): void => {
    const s = value[key];
    if (s === undefined) return;
    if (!isPlainObject(s)) return fail(`\`${key}\` must be an object of definitions by name`);
    for (const [name, def] of Object.entries(s)) {
      if (!isPlainObject(def)) fail(`\`${key}.${name}\` must be an object`);
      const d = def as Record<string, unknown>;
      if (typeof d.description !== 'string')
        fail(`\`${key}.${name}.description\` must be a string`);
      if (fn && typeof d[fn] !== 'function') fail(`\`${key}.${name}.${fn}\` must be a function`);
      if (key === 'targets' && typeof d.resolveOptions !== 'function')
        fail(
          `\`${key}.${name}.resolveOptions\` must be a function${d.validateOptions === undefined ? '' : ' (it replaces `validateOptions`)'}`,
        );
      if (
        key === 'executors' &&
        d.writesReport !== undefined &&
        typeof d.writesReport !== 'boolean'
      )
        fail(`\`${key}.${name}.writesReport\` must be true or false`);
      if (key === 'gateKinds' && !isPlainObject(d.defaults))
        fail(`\`${key}.${name}.defaults\` must be an object`);
      if (key !== 'gateKinds' && !/^[a-z][a-z0-9-]*$/.test(name))
        fail(`\`${key}.${name}\`: names use lowercase letters, digits and \`-\``);
    }
  };
  section('targets', 'emit');
  section('executors', 'execute');
  section('gateKinds', null);
  return value as unknown as GatehousePlugin;
}

/** The plugin object of an imported module: its default export, or the module itself. */
function pluginFromModule(mod: unknown): unknown {
  if (isPlainObject(mod) && 'default' in mod && mod.default !== undefined) {
    const d = mod.default;
    // CommonJS modules imported from ESM may wrap `module.exports.default` once more.
    if (isPlainObject(d) && !('name' in d) && isPlainObject(d.default)) return d.default;
    return d;
  }
  return mod;
}

/**
 * Import the npm packages named in `names`, resolved from `rootDir` (the project's own
 * `node_modules`), and shape-check each. Throws `GH_PLUGIN_NOT_FOUND` / `GH_PLUGIN_INVALID`.
 */
export async function importPlugins(
  names: readonly string[],
  rootDir: string,
): Promise<GatehousePlugin[]> {
  const req = createRequire(join(rootDir, 'noop.js'));
  const out: GatehousePlugin[] = [];
  for (const name of names) {
    let resolved: string;
    try {
      resolved = req.resolve(name);
    } catch (err) {
      throw new GatehouseError(
        'GH_PLUGIN_NOT_FOUND',
        `plugin \`${name}\` is not installed (looked from ${rootDir})`,
        {
          hint: `npm i -D ${name}`,
          cause: err,
        },
      );
    }
    let mod: unknown;
    try {
      mod = await import(pathToFileURL(resolved).href);
    } catch (err) {
      throw new GatehouseError(
        'GH_PLUGIN_INVALID',
        `plugin \`${name}\` failed to load: ${(err as Error).message}`,
        {
          hint: 'check that the package is built and its entry point loads with node',
          cause: err,
        },
      );
    }
    out.push(checkPluginShape(pluginFromModule(mod), name));
  }
  return out;
}

/**
 * The registry for a pipeline: the built-in plugins plus the packages in its `plugins:`,
 * resolved from its `rootDir`. Imported built-ins are shape-checked too; lazy ones when
 * they load.
 */
export async function loadPlugins(
  pipeline: Pick<ResolvedPipeline, 'plugins' | 'rootDir'>,
  builtins: readonly PluginEntry[],
): Promise<PluginRegistry> {
  const third = await importPlugins(pipeline.plugins, pipeline.rootDir);
  return new PluginRegistry([...checkBuiltins(builtins), ...third]);
}

/** Shape-check the imported built-ins; lazy entries are checked when they load. */
export function checkBuiltins(builtins: readonly PluginEntry[]): PluginEntry[] {
  return builtins.map((b, i) => {
    const source = isPlainObject(b) && typeof b.name === 'string' ? b.name : `builtin #${i}`;
    if (isPlainObject(b) && isLazyPlugin(b)) return checkLazyShape(b, source);
    return checkPluginShape(b, source);
  });
}

function checkLazyShape(value: LazyPlugin, source: string): LazyPlugin {
  const fail = (what: string): never => {
    throw new GatehouseError('GH_PLUGIN_INVALID', `plugin \`${source}\` is invalid: ${what}`, {
      hint: 'a lazy plugin entry is `{ name, targets?, executors?, gateKinds?: string[], load }`',
    });
  };
  if (typeof value.name !== 'string' || value.name.length === 0)
    fail('`name` must be a non-empty string');
  for (const key of ['targets', 'executors'] as const) {
    const s: unknown = value[key];
    if (s === undefined) continue;
    if (!isPlainObject(s)) fail(`\`${key}\` must be an object of descriptions by name`);
    for (const [name, d] of Object.entries(s as Record<string, unknown>)) {
      if (!isPlainObject(d) || typeof d.description !== 'string')
        fail(`\`${key}.${name}.description\` must be a string`);
    }
  }
  if (
    value.gateKinds !== undefined &&
    !(Array.isArray(value.gateKinds) && value.gateKinds.every((k) => typeof k === 'string'))
  )
    fail('`gateKinds` must be a list of names');
  return value;
}
