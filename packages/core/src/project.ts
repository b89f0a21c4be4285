/**
 * The whole loading sequence the CLI needs: config bytes -> plugins -> validated pipeline,
 * with target names and options checked against the loaded plugins.
 */
import { discoverWorkspace, findWorkspaceRoot, type Workspace } from './workspace.js';
import { dirname, resolve } from 'node:path';
import { hasPackageGates } from './config/packages.js';
import { codeFrame, didYouMean, sortDiagnostics } from './diagnostics.js';
import { isGatehouseError, type Diagnostic, type GatehouseError } from './errors.js';
import { isPlainObject } from './object.js';
import type { GatehousePlugin } from './plugin.js';
import { checkBuiltins, importPlugins, PluginRegistry, type PluginEntry } from './plugins.js';
import { resolveTargetOptions } from './compile.js';
import {
  displayName,
  parseConfigBytes,
  readConfigBytes,
  validateBytes,
  validateParsed,
  type ConfigValidation,
  type LoadOptions,
} from './config/load.js';
import { setLocator, type Locate } from './locator.js';
import { sha256 } from './hash.js';
import {
  pipelineCacheKey,
  readCachedPipeline,
  writeCachedPipeline,
  type PipelineCacheOptions,
} from './pipeline-cache.js';

/** What {@link loadProject} returns. */
export interface Project extends ConfigValidation {
  registry: PluginRegistry;
  /** The config text (BOM removed), for code frames. */
  text: string;
  /** The config's name in diagnostics (a diagnostic located elsewhere is in a preset). */
  displayPath: string;
  /**
   * True when the pipeline and its warnings came from the cache (`opts.cache`) instead of
   * parsing. Source locations then cost a parse: `locate` (and `locateInConfig` on the
   * pipeline) parse the config on their first call.
   */
  fromCache?: boolean;
  /** The workspace that gates of `packages:` expanded over, when `readWorkspace` read one. */
  workspace?: Workspace;
}

/** Options of {@link loadProject}. */
export interface ProjectOptions extends Omit<LoadOptions, 'presets' | 'workspace'> {
  /**
   * Reuse the resolved pipeline of an unchanged config (for commands that only read it,
   * never for `validate`, `compile` or `check`). Off when absent.
   */
  cache?: PipelineCacheOptions;
  /**
   * Reads the workspace that gates of `packages:` expand over, when the project needs
   * another than its package manager's (the CLI reads nx's project graph); null for that
   * one. Called only when the config may declare such gates. A `GatehouseError` it throws
   * becomes a diagnostic at the first gate of `packages`.
   */
  readWorkspace?: (rootDir: string) => Promise<Workspace | null>;
}

/** Whether config bytes may declare gates of `packages:`, themselves or through `extends`. */
function mayExpand(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes);
  return b.includes('packages') || b.includes('extends');
}

function mayNameRoot(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes);
  return b.includes('//') || b.includes('extends');
}

/** The workspace read by `opts.readWorkspace`, or the `GatehouseError` it threw. */
async function readWorkspace(
  abs: string,
  bytes: Uint8Array,
  opts: ProjectOptions,
): Promise<{ workspace?: Workspace; problem?: GatehouseError }> {
  if (!opts.readWorkspace || !mayExpand(bytes)) return {};
  try {
    const workspace = await opts.readWorkspace(dirname(abs));
    return workspace ? { workspace } : {};
  } catch (err) {
    if (isGatehouseError(err)) return { problem: err };
    throw err;
  }
}

/**
 * Read a config, load the built-in plugins plus those in its `plugins:`, validate it with
 * their gate kinds, and check `targets:` against the registry (unknown names, and each
 * target's `resolveOptions`). Problems in the file are diagnostics, including a `plugins:`
 * entry that is not installed, does not load, is not a plugin or clashes with another
 * (located at `plugins[i]`); a missing file or a broken built-in plugin throws. Lazy built-ins are imported only for the targets the config names
 * (and when they add gate kinds); executors stay unloaded (`registry.loadExecutor`).
 */
export async function loadProject(
  configPath: string,
  builtins: readonly PluginEntry[],
  opts: ProjectOptions = {},
): Promise<Project> {
  const abs = resolve(configPath);
  const bytes = await readConfigBytes(abs, configPath);
  const ws = await readWorkspace(abs, bytes, opts);
  if (!opts.cache || ws.problem) return loadParsed(abs, bytes, builtins, opts, ws);
  const displayPath = displayName(abs, opts);
  const key = pipelineCacheKey({
    bytes,
    configPath: abs,
    displayPath,
    // Gates of `packages:` expand over the workspace: its packages, its package manager and
    // whether yarn installs it with Plug'n'Play (their default `run`, whether the release is
    // deployed) belong to the key.
    version: [
      opts.cache.version,
      ...(mayExpand(bytes) ? [workspaceKey(abs, ws.workspace)] : []),
      // `//` inputs are rewritten for the workspace root found now: where it is is part of the key.
      ...(mayNameRoot(bytes) ? [JSON.stringify(findWorkspaceRoot(dirname(abs)))] : []),
    ].join('+'),
    builtins,
  });
  const hit = await fromCache(opts.cache, key, abs, bytes, builtins, displayPath);
  if (hit) return ws.workspace ? { ...hit, workspace: ws.workspace } : hit;
  const project = await loadParsed(abs, bytes, builtins, opts, ws);
  if (project.pipeline)
    await writeCachedPipeline(opts.cache, key, project.pipeline, project.diagnostics);
  return project;
}

function workspaceKey(configPath: string, given?: Workspace): string {
  const ws = given ?? discoverWorkspace(dirname(configPath));
  return sha256(JSON.stringify([ws.packages, ws.packageManager, ws.yarnPnp ?? null]));
}

/**
 * A project from a cache entry, or null on a miss (also when a plugin of the entry no longer
 * loads: the full load then reports it as a located diagnostic).
 */
async function fromCache(
  cache: PipelineCacheOptions,
  key: string,
  abs: string,
  bytes: Buffer,
  builtins: readonly PluginEntry[],
  displayPath: string,
): Promise<Project | null> {
  const entry = await readCachedPipeline(cache, key, abs, sha256(bytes));
  if (!entry) return null;
  let registry: PluginRegistry;
  try {
    const third = await importPlugins(entry.pipeline.plugins, dirname(abs));
    registry = new PluginRegistry([...checkBuiltins(builtins), ...third]);
  } catch (err) {
    if (isGatehouseError(err)) return null;
    throw err;
  }
  // Locations are not cached: the first question about one parses the unchanged bytes.
  let parsedLocate: Locate | null = null;
  const locate: Locate = (path, at) =>
    (parsedLocate ??= validateBytes(bytes, abs, { displayPath }).locate)(path, at);
  setLocator(entry.pipeline, locate);
  const text = bytes.toString('utf8').replace(/^\ufeff/, '');
  return {
    diagnostics: entry.diagnostics,
    pipeline: entry.pipeline,
    locate,
    registry,
    text,
    displayPath,
    fromCache: true,
  };
}

/** A thrown error as an error diagnostic at a config path (located later). */
function problemAt(err: GatehouseError, path: string): Diagnostic {
  return {
    code: err.code,
    severity: 'error',
    message: err.message,
    path,
    loc: null,
    ...(err.hint ? { hint: err.hint } : {}),
  };
}

/** What validation says of gates of `packages` over a workspace that could not be read. */
const WORKSPACE_NOISE = ['GH_NO_WORKSPACE', 'GH_NO_PACKAGES', 'GH_UNKNOWN_PACKAGE'];

/** The first gate of `packages` in a config, as a config path (`gates.lint.packages`). */
function firstPackageGate(value: unknown): string | null {
  if (!hasPackageGates(value)) return null;
  const gates = (value as { gates: Record<string, unknown> }).gates;
  const id = Object.keys(gates).find((k) => {
    const g = gates[k];
    return isPlainObject(g) && isPlainObject(g.packages);
  });
  return id === undefined ? null : `gates.${id}.packages`;
}

/** {@link loadProject} without the cache. */
async function loadParsed(
  abs: string,
  bytes: Buffer,
  builtins: readonly PluginEntry[],
  opts: Omit<LoadOptions, 'presets' | 'workspace'>,
  ws: { workspace?: Workspace; problem?: GatehouseError },
): Promise<Project> {
  // Plugins must be known before validation (they may add gate kinds): the one parse is
  // read leniently for that list first; validation reports anything wrong with it.
  const parsed = parseConfigBytes(bytes, abs, opts);
  const raw = parsed.value as { plugins?: unknown } | null | undefined;
  const named = Array.isArray(raw?.plugins)
    ? raw.plugins.flatMap((p: unknown, i) =>
        typeof p === 'string' && p.length > 0 ? [{ name: p, path: `plugins[${i}]` }] : [],
      )
    : [];
  const base = checkBuiltins(builtins);
  const third: GatehousePlugin[] = [];
  const pluginProblems: Diagnostic[] = [];
  for (const { name, path } of named) {
    try {
      const [plugin] = await importPlugins([name], dirname(abs));
      // Throws GH_PLUGIN_DUPLICATE when it clashes with a built-in or an earlier entry.
      new PluginRegistry([...base, ...third, plugin!]);
      third.push(plugin!);
    } catch (err) {
      if (!isGatehouseError(err)) throw err;
      pluginProblems.push(problemAt(err, path));
    }
  }
  const registry = new PluginRegistry([...base, ...third]);
  await registry.load({ gateKinds: true });
  const validated = validateParsed(parsed, {
    ...opts,
    presets: registry.presets(),
    ...(ws.workspace ? { workspace: ws.workspace } : {}),
  });
  // A workspace that could not be read matters only to a config with gates of `packages`.
  const wsPath = ws.problem ? firstPackageGate(validated.resolved ?? parsed.value) : null;
  if (ws.problem && wsPath !== null) pluginProblems.push(problemAt(ws.problem, wsPath));
  // Gate kinds of a plugin that did not load would all be reported unknown, and the packages
  // of a workspace not read missing: noise next to the real cause.
  const noise = new Set<string>();
  if (pluginProblems.some((d) => d.path.startsWith('plugins['))) noise.add('GH_UNKNOWN_KIND');
  if (wsPath !== null) for (const code of WORKSPACE_NOISE) noise.add(code);
  const v = pluginProblems.length
    ? {
        ...validated,
        diagnostics: validated.diagnostics.filter((d) => !noise.has(d.code)),
        pipeline: null,
      }
    : validated;
  // Each target named in the config checks its own options, so its plugin is imported;
  // executors (the heavy ones) are left to the commands that run something.
  if (v.pipeline) await registry.load({ targets: Object.keys(v.pipeline.targets) });
  const text = bytes.toString('utf8').replace(/^\ufeff/, '');
  const extra: Diagnostic[] = pluginProblems.map((d) => ({ ...d, loc: v.locate(d.path) }));
  if (v.pipeline) {
    for (const [name, options] of Object.entries(v.pipeline.targets)) {
      const path = `targets.${name}`;
      if (!registry.hasTarget(name)) {
        extra.push({
          code: 'GH_UNKNOWN_TARGET',
          severity: 'error',
          message: `unknown target \`${name}\``,
          path,
          loc: v.locate(path, 'key'),
          hint:
            didYouMean(name, registry.targetNames()) ??
            `available: ${registry.targetNames().join(', ')}`,
        });
        continue;
      }
      for (const d of resolveTargetOptions(registry.target(name), name, options).diagnostics) {
        extra.push({
          ...d,
          loc: d.loc ?? v.locate(d.path, d.code === 'GH_UNKNOWN_KEY' ? 'key' : 'value'),
        });
      }
    }
  }
  // A value that came from a preset is located in the preset: no frame from the config's text.
  const shownAs = displayName(abs, opts);
  const located = extra.map((d) =>
    d.loc && !d.frame && d.loc.file === shownAs ? { ...d, frame: codeFrame(text, d.loc) } : d,
  );
  const diagnostics = sortDiagnostics([...v.diagnostics, ...located]);
  const invalid = located.some((d) => d.severity === 'error');
  return {
    diagnostics,
    pipeline: invalid ? null : v.pipeline,
    locate: v.locate,
    registry,
    text,
    displayPath: shownAs,
    ...(ws.workspace ? { workspace: ws.workspace } : {}),
    ...(v.resolved ? { resolved: v.resolved } : {}),
    ...(v.presetBase ? { presetBase: v.presetBase } : {}),
  };
}
