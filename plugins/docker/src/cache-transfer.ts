/**
 * Sharing BuildKit's cache between engines (`--cache-to DIR` / `--cache-from DIR`). Each gate
 * stage (and setup) is built again as an image carrying inline cache metadata
 * (`BUILDKIT_INLINE_CACHE=1`), the images are saved into one tarball with an index beside it,
 * and another engine loads them and names them as `cachefrom` of its builds. BuildKit then
 * matches its own cache keys against that metadata: an image from the tarball is never taken
 * as a result. See docs/decisions/0018-buildkit-cache-export.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type { ResolvedPipeline } from '@gatehouse-ci/core';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';
import { runBuild, type BuildRequest } from './build.js';

/** The tarball `docker save` wrote, in the cache directory. */
export const CACHE_TAR = 'gatehouse-cache.tar';
/** The index next to it: which images, made by which version from which config. */
export const CACHE_INDEX = 'gatehouse-cache.json';
/** Version of the index; another one is refused, never misread. */
export const CACHE_FORMAT = 1;
/** The build arg that makes BuildKit write cache metadata into the image config. */
export const INLINE_CACHE_ARG = 'BUILDKIT_INLINE_CACHE';

const REPOSITORY_PREFIX = 'gatehouse-cache/';
// A repository under gatehouse-cache/ and a stage name: nothing a load could put over another image.
const TAG_PATTERN = /^gatehouse-cache\/[a-z0-9]+(?:-[a-z0-9]+)*:[a-z0-9][a-z0-9-]{0,127}$/;

/** What {@link CACHE_INDEX} holds. */
export interface CacheIndex {
  format: typeof CACHE_FORMAT;
  gatehouseVersion: string;
  pipeline: string;
  configSha256: string;
  createdAt: string;
  /** One image per stage, tagged `<repository>:<stage>`; `id` is the image id saved. */
  images: Array<{ stage: string; tag: string; id: string }>;
  tar: { file: typeof CACHE_TAR; bytes: number; sha256: string };
}

/** The repository the cache images of a project are tagged in: its name and a hash of its directory. */
export function cacheRepository(pipeline: Pick<ResolvedPipeline, 'name' | 'rootDir'>): string {
  const name =
    pipeline.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40)
      .replace(/-+$/, '') || 'project';
  const hash = createHash('sha256').update(pipeline.rootDir).digest('hex').slice(0, 12);
  return `${REPOSITORY_PREFIX}${name}-${hash}`;
}

/** `12.3 MB`-style size for messages. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Finds any of `needles` in a byte stream, across chunk boundaries. */
export class NeedleScanner extends Transform {
  private readonly needles: Array<{ name: string; bytes: Buffer }>;
  private readonly keep: number;
  private tail = Buffer.alloc(0);
  /** Names of the needles seen so far. */
  readonly found = new Set<string>();

  constructor(needles: Array<{ name: string; value: string }>) {
    super();
    this.needles = needles
      .filter((n) => n.value.length > 0)
      .map((n) => ({ name: n.name, bytes: Buffer.from(n.value, 'utf8') }));
    this.keep = Math.max(0, ...this.needles.map((n) => n.bytes.length - 1));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    if (this.needles.length > 0) {
      const window = Buffer.concat([this.tail, chunk]);
      for (const n of this.needles) if (window.includes(n.bytes)) this.found.add(n.name);
      this.tail = window.subarray(Math.max(0, window.length - this.keep));
    }
    done(null, chunk);
  }
}

/** Counts and hashes the bytes passing through. */
class Digest extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

/** What {@link exportCache} needs besides the engine. */
export interface ExportRequest {
  /** The build the run made, without target and tag: the same context, secrets and args. */
  build: Omit<BuildRequest, 'target' | 'tag' | 'noCache' | 'handlers'>;
  /** Stages to export: setup (when it has one) and each gate stage of the run. */
  stages: string[];
  repository: string;
  dir: string;
  /** Secret values that must not be in any byte of the tarball, by name. */
  secrets: Array<{ name: string; value: string }>;
  gatehouseVersion: string;
  pipeline: Pick<ResolvedPipeline, 'name' | 'configSha256'>;
}

/** How an export went: written, or why not (one line). */
export type ExportOutcome =
  | {
      ok: true;
      tar: string;
      bytes: number;
      stages: string[];
      /** Time taken by the builds and the save, in ms. */
      ms: number;
    }
  | { ok: false; reason: string };

/**
 * Builds each stage again as `<repository>:<stage>` with inline cache metadata (answered from
 * the cache the run just made), saves the images into `dir/gatehouse-cache.tar` and writes
 * the index. Both files are written under temporary names and renamed: a failure leaves the
 * previous export, or nothing, never half a tarball. The tags are removed afterwards.
 */
export async function exportCache(docker: Dockerode, req: ExportRequest): Promise<ExportOutcome> {
  const t0 = performance.now();
  const tags: string[] = [];
  const suffix = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const tarTmp = join(req.dir, `.${CACHE_TAR}.${suffix}`);
  const indexTmp = join(req.dir, `.${CACHE_INDEX}.${suffix}`);
  try {
    const images: CacheIndex['images'] = [];
    for (const stage of req.stages) {
      const tag = `${req.repository}:${stage}`;
      const built = await runBuild(docker, {
        ...req.build,
        target: stage,
        tag,
        noCache: false,
        buildArgs: { ...req.build.buildArgs, [INLINE_CACHE_ARG]: '1' },
      });
      if (built.aborted) return { ok: false, reason: 'interrupted' };
      if (built.error) return { ok: false, reason: `building ${stage} failed: ${built.error}` };
      tags.push(tag);
      const info = await docker.getImage(tag).inspect();
      images.push({ stage, tag, id: info.Id });
    }
    await mkdir(req.dir, { recursive: true });
    const saved = (await (
      docker as unknown as { getImages(o: { names: string[] }): Promise<Readable> }
    ).getImages({ names: tags })) as Readable;
    const scanner = new NeedleScanner(req.secrets);
    const digest = new Digest();
    await streamPipeline(saved, scanner, digest, createWriteStream(tarTmp, { mode: 0o600 }));
    if (scanner.found.size > 0)
      return {
        ok: false,
        reason: `the images hold the value of secret ${[...scanner.found].sort().join(', ')}`,
      };
    const index: CacheIndex = {
      format: CACHE_FORMAT,
      gatehouseVersion: req.gatehouseVersion,
      pipeline: req.pipeline.name,
      configSha256: req.pipeline.configSha256,
      createdAt: new Date().toISOString(),
      images,
      tar: { file: CACHE_TAR, bytes: digest.bytes, sha256: digest.hash.digest('hex') },
    };
    await writeFile(indexTmp, `${JSON.stringify(index, null, 2)}\n`, { mode: 0o644 });
    await rename(tarTmp, join(req.dir, CACHE_TAR));
    await rename(indexTmp, join(req.dir, CACHE_INDEX));
    return {
      ok: true,
      tar: join(req.dir, CACHE_TAR),
      bytes: index.tar.bytes,
      stages: req.stages,
      ms: Math.round(performance.now() - t0),
    };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    await rm(tarTmp, { force: true }).catch(() => undefined);
    await rm(indexTmp, { force: true }).catch(() => undefined);
    for (const tag of tags)
      await docker
        .getImage(tag)
        .remove()
        .catch(() => undefined);
  }
}

/** How an import went: the tags to pass as `cachefrom`, or why none (one line). */
export type ImportOutcome =
  | {
      ok: true;
      tags: string[];
      bytes: number;
      index: CacheIndex;
      /** Time taken to check and load it, in ms. */
      ms: number;
    }
  | { ok: false; reason: string };

function checkIndex(raw: unknown): CacheIndex {
  const i = raw as Partial<CacheIndex> | null;
  if (!i || typeof i !== 'object') throw new Error('the index is not a JSON object');
  if (i.format !== CACHE_FORMAT) throw new Error(`unknown index format ${String(i.format)}`);
  if (!Array.isArray(i.images) || i.images.length === 0)
    throw new Error('the index lists no image');
  if (
    !i.tar ||
    i.tar.file !== CACHE_TAR ||
    typeof i.tar.bytes !== 'number' ||
    !/^[0-9a-f]{64}$/.test(String(i.tar.sha256))
  )
    throw new Error('the index does not describe the tarball');
  const repositories = new Set<string>();
  for (const image of i.images) {
    if (!image || typeof image.tag !== 'string' || !TAG_PATTERN.test(image.tag))
      throw new Error(`the index names an image outside ${REPOSITORY_PREFIX}`);
    if (typeof image.id !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(image.id))
      throw new Error(`the index has no image id for ${image.tag}`);
    repositories.add(image.tag.split(':')[0]!);
  }
  if (repositories.size !== 1) throw new Error('the index mixes repositories');
  return i as CacheIndex;
}

/** Size and sha256 of a file. */
async function digestOf(file: string): Promise<{ bytes: number; sha256: string }> {
  const digest = new Digest();
  await streamPipeline(
    createReadStream(file),
    digest,
    new Writable({ write: (_c, _e, cb) => cb() }),
  );
  return { bytes: digest.bytes, sha256: digest.hash.digest('hex') };
}

/** Reads `manifest.json` and `repositories` from a `docker save` tarball: every tag it would apply. */
async function tagsInTarball(file: string): Promise<string[]> {
  const tags: string[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = header.name.replace(/^\.\//, '');
      const chunks: Buffer[] = [];
      const wanted = name === 'manifest.json' || name === 'repositories';
      stream.on('data', (c: unknown) => {
        if (wanted) chunks.push(c as Buffer);
      });
      stream.on('error', reject);
      stream.on('end', () => {
        if (!wanted) return next();
        try {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          if (name === 'manifest.json') {
            if (!Array.isArray(json)) throw new Error('manifest.json is not a list');
            for (const m of json as Array<{ RepoTags?: unknown }>)
              for (const t of Array.isArray(m.RepoTags) ? m.RepoTags : []) tags.push(String(t));
          } else {
            for (const [repo, byTag] of Object.entries(json as Record<string, unknown>))
              for (const t of Object.keys((byTag ?? {}) as object)) tags.push(`${repo}:${t}`);
          }
          next();
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  const input = createReadStream(file);
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  try {
    await done;
  } finally {
    input.destroy();
  }
  return tags;
}

async function drainLoad(stream: NodeJS.ReadableStream): Promise<void> {
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
    if (msg.error || msg.errorDetail) throw new Error(msg.errorDetail?.message ?? msg.error);
  }
}

/**
 * Loads `dir/gatehouse-cache.tar` into the engine after checking it against its index: the
 * sha256 and size, and that every tag it would apply is one the index names under
 * `gatehouse-cache/` (a tarball cannot replace a base image or any other tag). Never throws:
 * a missing or damaged cache is `{ ok: false, reason }`.
 */
export async function importCache(docker: Dockerode, dir: string): Promise<ImportOutcome> {
  const t0 = performance.now();
  try {
    let raw: string;
    try {
      raw = await readFile(join(dir, CACHE_INDEX), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        ok: false,
        reason:
          code === 'ENOENT' ? `no ${CACHE_INDEX} in ${dir}` : `cannot read ${CACHE_INDEX}: ${code}`,
      };
    }
    const index = checkIndex(JSON.parse(raw));
    const file = join(dir, CACHE_TAR);
    const { bytes, sha256 } = await digestOf(file);
    if (bytes !== index.tar.bytes || sha256 !== index.tar.sha256)
      throw new Error(`${CACHE_TAR} does not match its index (size or sha256)`);
    const tags = await tagsInTarball(file);
    const listed = new Set(index.images.map((i) => i.tag));
    const stray = tags.find((t) => !listed.has(t));
    if (stray !== undefined) throw new Error(`${CACHE_TAR} would tag ${stray}, not in its index`);
    await drainLoad(await docker.loadImage(createReadStream(file), { quiet: true }));
    for (const image of index.images) {
      const info = await docker.getImage(image.tag).inspect();
      if (info.Id !== image.id) throw new Error(`${image.tag} loaded as another image`);
    }
    return { ok: true, tags: [...listed], bytes, index, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** Removes the tags an import made (the layers stay in BuildKit's cache only if a build used them). */
export async function untag(docker: Dockerode, tags: string[]): Promise<void> {
  for (const tag of tags)
    await docker
      .getImage(tag)
      .remove()
      .catch(() => undefined);
}
