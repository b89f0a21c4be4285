/**
 * Resolved pipelines kept between runs of the commands that only read a config (`run`,
 * `explain`): `<dir>/<key>.json` holds the pipeline and its warnings, so an unchanged config
 * is neither parsed nor checked again, and the `yaml` package is not even loaded.
 *
 * The file name is a hash of everything that decides the result and is known before the
 * config is read: the config's bytes, path and display name, the program's version, the
 * built-in plugins' declared names and the built-in gate kinds. The third-party packages the
 * config names in `plugins:` (which may add gate kinds) are known only from the config: their
 * versions and resolved paths are stored in the entry and compared on every read. So are
 * the presets of `extends:`: the digest of each preset file (and of the package.json that
 * named it) is in the pipeline and compared with the files on every read, so an edited
 * preset is seen at once.
 *
 * An entry is replayed as trusted config, so it is authenticated: it carries an HMAC-SHA256
 * of its key and body under the project's state key (see `state-key.ts`), kept outside the
 * project. An entry that does not authenticate (edited, written under another key, damaged)
 * is removed and the config parsed again; without a state key the cache is not used.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { BUILTIN_PRESETS } from './config/presets.js';
import type { Diagnostic } from './errors.js';
import { canonicalJson, sha256 } from './hash.js';
import type { ResolvedPipeline, ResolvedPreset } from './model.js';
import { isLazyPlugin, type PluginEntry } from './plugins.js';
import { projectStateKey } from './state-key.js';
import { isPlainObject } from './object.js';

/** Where resolved pipelines are cached, and for which program; see `loadProject`. */
export interface PipelineCacheOptions {
  /** Directory of the entries, e.g. `<rootDir>/.gatehouse/cache/config`. */
  dir: string;
  /** Version of the program: another version resolves every config again. */
  version: string;
  /** Entries kept; older ones (by last use) are removed after a write. @default 10 */
  keep?: number;
  /** Directory of the per-user state key. @default `stateKeyDir()` */
  keyDir?: string;
}

/** A third-party plugin as it was when an entry was written. */
interface PluginStamp {
  name: string;
  version: string | null;
  /** The resolved entry point. */
  path: string;
}

/** What an entry holds besides its format, key and checksum. */
export interface CachedPipeline {
  plugins: PluginStamp[];
  /** The warnings of the config (an entry is only written for a valid one). */
  diagnostics: Diagnostic[];
  pipeline: ResolvedPipeline;
}

/** Bumped whenever the entry layout or the meaning of its fields changes. */
const FORMAT = 2;
/** Label of the entries' MAC. */
const MAC_PURPOSE = 'gatehouse config cache entry';
const KEY_RE = /^[0-9a-f]{64}\.json$/;

/** The entry name for a config: the hash of its bytes and of what decides how they resolve. */
export function pipelineCacheKey(input: {
  bytes: Uint8Array;
  configPath: string;
  displayPath: string;
  version: string;
  builtins: readonly PluginEntry[];
}): string {
  const builtins = input.builtins.map((p) =>
    isLazyPlugin(p)
      ? {
          name: p.name,
          targets: Object.keys(p.targets ?? {}),
          executors: Object.keys(p.executors ?? {}),
          gateKinds: [...(p.gateKinds ?? [])],
        }
      : {
          name: p.name,
          targets: Object.keys(p.targets ?? {}),
          executors: Object.keys(p.executors ?? {}),
          gateKinds: Object.keys(p.gateKinds ?? {}),
        },
  );
  return sha256(
    canonicalJson({
      format: FORMAT,
      config: sha256(input.bytes),
      configPath: input.configPath,
      displayPath: input.displayPath,
      version: input.version,
      builtins,
      presets: Object.keys(BUILTIN_PRESETS).sort(),
    }),
  );
}

/**
 * Version and entry point of each package named in `plugins:`, resolved from `rootDir` as
 * `importPlugins` does; null when one does not resolve (the full load reports it).
 */
export async function stampPlugins(
  names: readonly string[],
  rootDir: string,
): Promise<PluginStamp[] | null> {
  if (names.length === 0) return [];
  const req = createRequire(join(rootDir, 'noop.js'));
  const out: PluginStamp[] = [];
  for (const name of names) {
    let path: string;
    try {
      path = req.resolve(name);
    } catch {
      return null;
    }
    out.push({ name, version: await packageVersion(path, name), path });
  }
  return out;
}

/** The `version` of the nearest package.json above `file` that is named `name`. */
async function packageVersion(file: string, name: string): Promise<string | null> {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = await readFile(join(dir, 'package.json'), 'utf8').then(
      (t) => JSON.parse(t) as { name?: unknown; version?: unknown },
      () => null,
    );
    if (pkg?.name === name) return typeof pkg.version === 'string' ? pkg.version : null;
    if (dirname(dir) === dir) return null;
  }
}

/** Whether every preset file (and package.json) of a cached pipeline still has its digest. */
async function presetsUnchanged(presets: unknown): Promise<boolean> {
  if (presets === undefined) return true;
  if (!Array.isArray(presets)) return false;
  const digestOf = (file: unknown): Promise<string | null> =>
    typeof file === 'string'
      ? readFile(file).then(
          (b) => sha256(b),
          () => null,
        )
      : Promise.resolve(null);
  for (const p of presets as ResolvedPreset[]) {
    if (!isPlainObject(p) || (await digestOf(p.file)) !== p.sha256) return false;
    if (p.manifest && (await digestOf(p.manifest.file)) !== p.manifest.sha256) return false;
  }
  return true;
}

function keyDirOpt(opts: PipelineCacheOptions): { dir?: string } {
  return opts.keyDir === undefined ? {} : { dir: opts.keyDir };
}

/**
 * The entry `key` holds for the config at `configPath` with these bytes, or null when there
 * is none or it cannot be trusted (unreadable, partial, edited, another format, or written
 * for other plugin versions). Never throws.
 */
export async function readCachedPipeline(
  opts: PipelineCacheOptions,
  key: string,
  configPath: string,
  configSha256: string,
): Promise<CachedPipeline | null> {
  const file = join(opts.dir, `${key}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    // Anything but a missing file (a directory in its place, say) is damage: clear it.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      await rm(file, { recursive: true, force: true }).catch(() => undefined);
    return null;
  }
  const { key: stateKey } = await projectStateKey(dirname(configPath), keyDirOpt(opts));
  if (!stateKey) return null;
  const damaged = async (): Promise<null> => {
    await rm(file, { force: true }).catch(() => undefined);
    return null;
  };
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch {
    return damaged();
  }
  if (
    !isPlainObject(entry) ||
    entry.format !== FORMAT ||
    entry.key !== key ||
    !isPlainObject(entry.body)
  )
    return damaged();
  if (!stateKey.verify(MAC_PURPOSE, `${key}\0${JSON.stringify(entry.body)}`, entry.mac))
    return damaged();
  const body = entry.body as unknown as CachedPipeline;
  const p = body.pipeline as unknown;
  if (
    !isPlainObject(p) ||
    !Array.isArray(p.gates) ||
    !Array.isArray(p.plugins) ||
    !Array.isArray(body.diagnostics)
  )
    return damaged();
  if (p.configPath !== configPath || p.configSha256 !== configSha256) return null;
  const stamps = await stampPlugins(p.plugins as string[], p.rootDir as string);
  if (!stamps || !isDeepStrictEqual(stamps, body.plugins)) return null;
  if (!(await presetsUnchanged(p.presets))) return null;
  // The modification time says when an entry was last used, for pruning.
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
  return body;
}

/**
 * Store a valid config's pipeline (temporary file, then rename), then keep only the most
 * recently used `keep` entries. A pipeline that would not come back from JSON unchanged
 * is not stored. Never throws: the cache only ever saves time.
 */
export async function writeCachedPipeline(
  opts: PipelineCacheOptions,
  key: string,
  pipeline: ResolvedPipeline,
  diagnostics: Diagnostic[],
): Promise<boolean> {
  try {
    const { key: stateKey } = await projectStateKey(dirname(pipeline.configPath), keyDirOpt(opts));
    if (!stateKey) return false;
    const stamps = await stampPlugins(pipeline.plugins, pipeline.rootDir);
    if (!stamps) return false;
    const body: CachedPipeline = { plugins: stamps, diagnostics, pipeline };
    const text = JSON.stringify(body);
    if (!isDeepStrictEqual(JSON.parse(text), body)) return false;
    await mkdir(opts.dir, { recursive: true });
    const file = join(opts.dir, `${key}.json`);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const mac = stateKey.mac(MAC_PURPOSE, `${key}\0${text}`);
    await writeFile(
      tmp,
      `{"format":${FORMAT},"key":${JSON.stringify(key)},"mac":"${mac}","body":${text}}\n`,
    );
    try {
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await prune(opts.dir, opts.keep ?? 10);
    return true;
  } catch {
    return false;
  }
}

async function prune(dir: string, keep: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => KEY_RE.test(n));
  if (names.length <= keep) return;
  const used = await Promise.all(
    names.map(async (n) => ({ n, t: (await stat(join(dir, n)).catch(() => null))?.mtimeMs ?? 0 })),
  );
  used.sort((a, b) => b.t - a.t || a.n.localeCompare(b.n));
  await Promise.all(used.slice(keep).map(({ n }) => rm(join(dir, n), { force: true })));
}
