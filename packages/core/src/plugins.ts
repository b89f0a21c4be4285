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

/** Every target, executor and gate kind of the loaded plugins, by name. */
export class PluginRegistry {
  readonly plugins: readonly GatehousePlugin[];
  private readonly targets = new Map<string, { def: TargetDefinition; plugin: string }>();
  private readonly executors = new Map<string, { def: ExecutorDefinition; plugin: string }>();
  private readonly kinds = new Map<string, { def: GateKindPreset; plugin: string }>();

  /** Throws `GH_PLUGIN_DUPLICATE` when two plugins register the same name. */
  constructor(plugins: readonly GatehousePlugin[]) {
    this.plugins = [...plugins];
    const names = new Set<string>();
    for (const p of plugins) {
      if (names.has(p.name)) {
        throw new GatehouseError('GH_PLUGIN_DUPLICATE', `plugin \`${p.name}\` is loaded twice`, {
          hint: 'list each plugin once in `plugins:` (built-in plugins need no entry)',
        });
      }
      names.add(p.name);
      register(this.targets, 'target', p.name, p.targets);
      register(this.executors, 'executor', p.name, p.executors);
      for (const kind of Object.keys(p.gateKinds ?? {})) {
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
      register(this.kinds, 'gate kind', p.name, p.gateKinds);
    }
  }

  /** A target by name; throws `GH_UNKNOWN_TARGET` with a suggestion. */
  target(name: string): TargetDefinition {
    const t = this.targets.get(name);
    if (!t) throw unknown('GH_UNKNOWN_TARGET', 'target', name, this.targetNames());
    return t.def;
  }

  /** An executor by name; throws `GH_UNKNOWN_EXECUTOR` with a suggestion. */
  executor(name: string): ExecutorDefinition {
    const e = this.executors.get(name);
    if (!e) throw unknown('GH_UNKNOWN_EXECUTOR', 'executor', name, this.executorNames());
    return e.def;
  }

  hasTarget(name: string): boolean {
    return this.targets.has(name);
  }

  hasExecutor(name: string): boolean {
    return this.executors.has(name);
  }

  /** Sorted target names. */
  targetNames(): string[] {
    return [...this.targets.keys()].sort();
  }

  /** Sorted executor names. */
  executorNames(): string[] {
    return [...this.executors.keys()].sort();
  }

  /** Name of the plugin that provides a target, executor or gate kind. */
  pluginOf(kind: 'target' | 'executor' | 'gate kind', name: string): string | null {
    const map =
      kind === 'target' ? this.targets : kind === 'executor' ? this.executors : this.kinds;
    return map.get(name)?.plugin ?? null;
  }

  /** Gate kinds registered by plugins (pass to `loadPipeline({ presets })`). */
  presets(): Record<string, GateKindPreset> {
    return Object.fromEntries([...this.kinds].map(([k, v]) => [k, v.def]));
  }
}

function register<T>(
  into: Map<string, { def: T; plugin: string }>,
  what: string,
  plugin: string,
  defs: Record<string, T> | undefined,
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
  if (!isRecord(value))
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
    if (!isRecord(s)) return fail(`\`${key}\` must be an object of definitions by name`);
    for (const [name, def] of Object.entries(s)) {
      if (!isRecord(def)) fail(`\`${key}.${name}\` must be an object`);
      const d = def as Record<string, unknown>;
      if (typeof d.description !== 'string')
        fail(`\`${key}.${name}.description\` must be a string`);
      if (fn && typeof d[fn] !== 'function') fail(`\`${key}.${name}.${fn}\` must be a function`);
      if (
        key === 'targets' &&
        d.validateOptions !== undefined &&
        typeof d.validateOptions !== 'function'
      ) {
        fail(`\`${key}.${name}.validateOptions\` must be a function`);
      }
      if (key === 'gateKinds' && !isRecord(d.defaults))
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
  if (isRecord(mod) && 'default' in mod && mod.default !== undefined) {
    const d = mod.default;
    // CommonJS modules imported from ESM may wrap `module.exports.default` once more.
    if (isRecord(d) && !('name' in d) && isRecord(d.default)) return d.default;
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
 * resolved from its `rootDir`. Built-ins are shape-checked too.
 */
export async function loadPlugins(
  pipeline: Pick<ResolvedPipeline, 'plugins' | 'rootDir'>,
  builtins: readonly GatehousePlugin[],
): Promise<PluginRegistry> {
  const checked = builtins.map((b, i) =>
    checkPluginShape(b, isRecord(b) && typeof b.name === 'string' ? b.name : `builtin #${i}`),
  );
  const third = await importPlugins(pipeline.plugins, pipeline.rootDir);
  return new PluginRegistry([...checked, ...third]);
}
