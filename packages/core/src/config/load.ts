/**
 * `UserConfig` (what people write) -> `ResolvedPipeline` (what plugins see).
 */
import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve as resolvePath } from 'node:path';
import { topologicalLayers } from '../dag.js';
import { sortDiagnostics } from '../diagnostics.js';
import { parseDuration } from '../duration.js';
import { GatehouseError, type Diagnostic } from '../errors.js';
import { sha256 } from '../hash.js';
import { isPlainObject } from '../object.js';
import type {
  GatePackage,
  ReleasePackage,
  Policy,
  ResolvedEvidence,
  ResolvedGate,
  ResolvedPipeline,
  ResolvedPreset,
  UserConfig,
  UserEvidence,
  UserGate,
} from '../model.js';
import type { GateKindPreset } from '../plugin.js';
import type { Workspace } from '../workspace.js';
import {
  BUILTIN_PRESETS,
  DEFAULT_EVIDENCE_PATHS,
  DEFAULT_IMAGE,
  DEFAULT_WORKDIR,
  SETUP_TIMEOUT,
} from './presets.js';
import {
  checkSource,
  MAX_CONFIG_BYTES,
  parseSource,
  type Locate,
  type ParsedSource,
} from './validate.js';
import { setLocator } from '../locator.js';

export { locateInConfig, inheritLocator } from '../locator.js';

export type { Locate } from './validate.js';
export { MAX_CONFIG_BYTES };

/** Options of {@link validateConfig} and {@link loadPipeline}. */
export interface LoadOptions {
  /** Extra gate kinds (from plugins). Built-in kinds always exist and win on a clash. */
  presets?: Record<string, GateKindPreset>;
  /** File name shown in diagnostics. @default the path relative to the current directory */
  displayPath?: string;
  /**
   * The workspace that gates of `packages:` expand over, read by the caller (nx's project
   * graph, see `usesNxProjects`). @default the packages of `pnpm-workspace.yaml` or
   * `package.json#workspaces` in the config directory
   */
  workspace?: Workspace;
}

/** What {@link validateConfig} returns. */
export interface ConfigValidation {
  /** Every problem found, errors and warnings, sorted by position. */
  diagnostics: Diagnostic[];
  /** The resolved pipeline, or null when there is at least one error. */
  pipeline: ResolvedPipeline | null;
  /** Where a config path (`gates.unit.needs[0]`, `targets.github.mode`) is written. */
  locate: Locate;
  /**
   * The config as written out in full, before gates of `packages` expand: with `extends`,
   * merged with its presets (when the chain could be read); without, as parsed.
   */
  resolved?: Record<string, unknown>;
  /** A config with `extends`: its presets alone, merged (what `gatehouse drift` compares with). */
  presetBase?: Record<string, unknown>;
}

/** How a config path is named in diagnostics (`opts.displayPath`, else relative to cwd). Internal to core. */
export function displayName(configPath: string, opts: Pick<LoadOptions, 'displayPath'>): string {
  if (opts.displayPath) return opts.displayPath;
  const rel = relative(process.cwd(), configPath);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : configPath;
}

/**
 * Read, validate and resolve a config file, collecting every problem.
 * Never throws for problems in the file; throws `GH_CONFIG_NOT_FOUND` when it cannot be read.
 */
export async function validateConfig(
  configPath: string,
  opts: LoadOptions = {},
): Promise<ConfigValidation> {
  const abs = resolvePath(configPath);
  return validateBytes(await readConfigBytes(abs, configPath), abs, opts);
}

function notFound(configPath: string, err: unknown): GatehouseError {
  return new GatehouseError(
    'GH_CONFIG_NOT_FOUND',
    `cannot read config file ${configPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    {
      hint: 'pass --config FILE, or run `gatehouse init` to create gatehouse.yml',
      cause: err,
    },
  );
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** `GH_CONFIG_TOO_LARGE` for a config of more than {@link MAX_CONFIG_BYTES}. */
function tooLarge(configPath: string, size: number | null): GatehouseError {
  return new GatehouseError(
    'GH_CONFIG_TOO_LARGE',
    `config file ${configPath} is ${size === null ? 'larger than 1 MiB' : `${size} bytes`}; a config may be at most 1 MiB (${MAX_CONFIG_BYTES} bytes)`,
    { hint: 'is --config pointing at the right file?' },
  );
}

/**
 * The bytes of the config at `abs`, following links. Refuses (naming `configPath`) what is
 * not a regular file (`GH_CONFIG_NOT_FILE`: a FIFO would block, a device never end) and
 * files over {@link MAX_CONFIG_BYTES} (`GH_CONFIG_TOO_LARGE`), of which at most one byte
 * more than the cap is read; `GH_CONFIG_NOT_FOUND` when it cannot be read. Internal to core.
 */
export async function readConfigBytes(abs: string, configPath: string): Promise<Buffer> {
  // Non-blocking, so opening a FIFO returns at once (a regular file reads as usual); the
  // type is checked on the open descriptor, so the file cannot be swapped after the check.
  const fh = await open(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((err) => {
    throw notFound(configPath, err);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw new GatehouseError(
        'GH_CONFIG_NOT_FILE',
        `config file ${configPath} is ${kindOf(st)}, not a regular file`,
        { hint: 'pass --config with the path of a gatehouse.yml file' },
      );
    }
    if (st.size > MAX_CONFIG_BYTES) throw tooLarge(configPath, st.size);
    // The file may grow after the stat: never read more than one byte past the cap.
    const buf = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await fh
        .read(buf, length, buf.length - length, null)
        .catch((err: unknown) => {
          throw notFound(configPath, err);
        });
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > MAX_CONFIG_BYTES) throw tooLarge(configPath, null);
    }
    return Buffer.from(buf.subarray(0, length));
  } finally {
    await fh.close();
  }
}

/** {@link validateConfig} on bytes already read (`configPath` names their file). */
export function validateBytes(
  bytes: Uint8Array,
  configPath: string,
  opts: LoadOptions = {},
): ConfigValidation {
  return validateParsed(parseConfigBytes(bytes, configPath, opts), opts);
}

/**
 * Config bytes parsed once, before the gate kinds are known: `value` is the raw data (or
 * undefined when the YAML cannot be read), e.g. to find `plugins:`. Internal to core.
 */
export interface ParsedConfig {
  value: unknown;
  /** @internal */
  readonly source: ParsedSource;
  /** @internal */
  readonly abs: string;
  /** @internal */
  readonly bytes: Uint8Array;
}

/** The parsing half of {@link validateBytes}. */
export function parseConfigBytes(
  bytes: Uint8Array,
  configPath: string,
  opts: Pick<LoadOptions, 'displayPath'> = {},
): ParsedConfig {
  const abs = resolvePath(configPath);
  const source = parseSource(bytes, displayName(abs, opts));
  return { value: source.value, source, abs, bytes };
}

/** The checking half of {@link validateBytes}, with the gate kinds of `opts.presets`. */
export function validateParsed(parsed: ParsedConfig, opts: LoadOptions = {}): ConfigValidation {
  const presets = { ...(opts.presets ?? {}), ...BUILTIN_PRESETS };
  const v = checkSource(parsed.source, presets, dirname(parsed.abs), parsed.abs, opts.workspace);
  const diagnostics = sortDiagnostics(v.diagnostics);
  const own =
    isPlainObject(parsed.value) && !('extends' in parsed.value) ? parsed.value : undefined;
  const merged = {
    ...(v.merged ? { resolved: v.merged } : own ? { resolved: own } : {}),
    ...(v.presetBase ? { presetBase: v.presetBase } : {}),
  };
  if (diagnostics.some((d) => d.severity === 'error'))
    return { diagnostics, pipeline: null, locate: v.locate, ...merged };
  const pipeline = resolveConfig(v.value as UserConfig, {
    configPath: parsed.abs,
    configSha256: sha256(parsed.bytes),
    presets,
    ...(v.packages ? { packages: v.packages } : {}),
    ...(v.release ? { releasePackage: v.release } : {}),
    ...(v.presets ? { extended: v.presets } : {}),
    ...(v.workspaceRoot ? { workspaceRoot: v.workspaceRoot } : {}),
  });
  setLocator(pipeline, v.locate);
  return { diagnostics, pipeline, locate: v.locate, ...merged };
}

/**
 * Load a config file into a `ResolvedPipeline`. Warnings are dropped (use `validateConfig`
 * to see them). Throws `GatehouseError('GH_CONFIG_INVALID', …, { diagnostics })` when invalid.
 */
export async function loadPipeline(
  configPath: string,
  opts: LoadOptions = {},
): Promise<ResolvedPipeline> {
  const v = await validateConfig(configPath, opts);
  if (!v.pipeline) {
    const errors = v.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    throw new GatehouseError(
      'GH_CONFIG_INVALID',
      `${configPath} is invalid: ${errors.length} error${errors.length === 1 ? '' : 's'}${first ? ` (first: ${first.code} ${first.path ? `${first.path}: ` : ''}${first.message})` : ''}`,
      { diagnostics: v.diagnostics, hint: 'run `gatehouse validate` to see every problem' },
    );
  }
  return v.pipeline;
}

/** Inputs of {@link resolveConfig} besides the config itself. */
export interface ResolveContext {
  /** Absolute path of the config file. */
  configPath: string;
  configSha256: string;
  /** Every known gate kind (built in plus plugins). */
  presets: Record<string, GateKindPreset>;
  /** The package of each gate expanded from `packages:` (pass 4 of validation). */
  packages?: Record<string, GatePackage>;
  /** The workspace package the release image is made of (pass 4 of validation). */
  releasePackage?: ReleasePackage;
  /** The presets of `extends`, in the order read. */
  extended?: ResolvedPreset[];
  /** The workspace root that `//` inputs still name (absolute, real). */
  workspaceRoot?: string;
}

const sortedUnique = (xs: readonly string[] | undefined): string[] => [...new Set(xs ?? [])].sort();

/**
 * Apply defaults to a config that passed validation. This is the one function between
 * `UserConfig` and `ResolvedPipeline`; it assumes valid input (call `validateConfig`).
 */
export function resolveConfig(config: UserConfig, ctx: ResolveContext): ResolvedPipeline {
  const image = config.image ?? DEFAULT_IMAGE;
  const workdir = config.workdir ?? DEFAULT_WORKDIR;
  const gates: ResolvedGate[] = Object.entries(config.gates).map(([id, g]) =>
    resolveGate(id, g, image, ctx.presets, ctx.packages?.[id]),
  );
  const order = topologicalLayers(gates).flat();
  const byId = new Map(gates.map((g) => [g.id, g]));
  const setup = config.setup
    ? {
        run: config.setup.run,
        inputs: [...(config.setup.inputs ?? [])],
        env: { ...(config.setup.env ?? {}) },
        secrets: sortedUnique(config.setup.secrets),
        timeoutMs: parseDuration(config.setup.timeout ?? SETUP_TIMEOUT),
      }
    : null;
  const r = config.release;
  const release = r
    ? {
        from: r.from,
        copy: [...r.copy],
        cmd: [...r.cmd],
        image: r.image ?? image,
        expose: [...new Set(r.expose ?? [])].sort((a, b) => a - b),
        env: { ...(r.env ?? {}) },
        user: r.user ?? 'node',
        workdir: r.workdir ?? workdir,
        ...(ctx.releasePackage ? { package: { ...ctx.releasePackage } } : {}),
      }
    : null;
  const targets: ResolvedPipeline['targets'] = {};
  for (const [name, opts] of Object.entries(config.targets ?? {})) targets[name] = opts ?? {};
  return {
    version: 1,
    name: config.name,
    configPath: ctx.configPath,
    rootDir: dirname(ctx.configPath),
    configSha256: ctx.configSha256,
    image,
    workdir,
    setup,
    gates: order.map((id) => byId.get(id)!),
    release,
    targets,
    plugins: [...(config.plugins ?? [])],
    ...(config.cache ? { cache: { remote: config.cache.remote ?? false } } : {}),
    ...(ctx.extended ? { presets: ctx.extended.map((p) => ({ ...p })) } : {}),
    ...(ctx.workspaceRoot ? { workspaceRoot: ctx.workspaceRoot } : {}),
  };
}

function resolveEvidence(e: UserEvidence): ResolvedEvidence {
  if (e.format === 'exitcode') return { format: 'exitcode', path: null };
  return { format: e.format, path: e.path ?? DEFAULT_EVIDENCE_PATHS[e.format] };
}

/** One gate of a valid config with its kind defaults applied. Internal to core. */
export function resolveGate(
  id: string,
  g: UserGate,
  image: string,
  presets: Record<string, GateKindPreset>,
  pkg?: GatePackage,
): ResolvedGate {
  const kind = g.kind ?? 'custom';
  const preset = presets[kind]?.defaults ?? {};
  const policy: Policy = { ...(preset.policy ?? {}), ...(g.policy ?? {}) };
  const evidence = g.evidence
    ? g.evidence.map(resolveEvidence)
    : preset.evidence
      ? preset.evidence.map((e) => ({ ...e }))
      : [{ format: 'exitcode' as const, path: null }];
  return {
    id,
    kind,
    // Validation guarantees a command; a gate of `packages` got its default when expanded.
    run: g.run ?? '',
    description: g.description ?? null,
    needs: sortedUnique(g.needs),
    image: g.image ?? image,
    env: { ...(g.env ?? {}) },
    secrets: sortedUnique(g.secrets),
    inputs: [...(g.inputs ?? [])],
    outputs: [...(g.outputs ?? [])],
    timeoutMs: parseDuration(g.timeout ?? preset.timeout ?? '30m'),
    mode: g.mode ?? preset.mode ?? 'blocking',
    evidence,
    policy,
    tools: { ...(g.tools ?? {}) },
    ...(g.when?.env?.length ? { when: { env: sortedUnique(g.when.env) } } : {}),
    ...(pkg ? { package: { ...pkg } } : {}),
  };
}
