/**
 * The artifact a remote cache holds for one gate: a gzipped tar (ustar, with PAX headers for
 * long names) of what the local cache stores for it. Its first member is
 * {@link ARTIFACT_MANIFEST}: the requested key and the entry without its local MAC (manifest,
 * result, and the size and sha256 of every file); the files follow (`log.txt`, `evidence/…`,
 * `outputs/…`). Reading is strict: anything but regular files and path records, a member
 * named twice or not listed, or a size or digest that differs refuses the whole artifact.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzipSync, gzip, gzipSync } from 'node:zlib';
import { canonicalJson, type GateResult } from '@gatehouse-ci/core';
import type { CacheEntry, EntryFile } from './cache.js';
import { CACHE_FORMAT, manifestKey } from './manifest.js';

/** Name of the artifact's own description, its first member. */
export const ARTIFACT_MANIFEST = 'gatehouse-artifact.json';
/** Format of {@link ArtifactManifest}; bump when its shape changes. */
export const ARTIFACT_FORMAT = 1;

/** A cache entry as it travels: `entry.json` without its MAC (which only the local key can make). */
export type SharedEntry = Omit<CacheEntry, 'mac'>;

/** The first member of an artifact. */
export interface ArtifactManifest {
  format: number;
  /** The cache key the artifact was stored under. */
  key: string;
  entry: SharedEntry;
}

const BLOCK = 512;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function header(name: string, size: number, type: '0' | 'x'): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii'); // mtime 0: same files, same bytes
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** A PAX record `"<len> path=<name>\n"`, whose length counts its own digits. */
function paxPath(name: string): Buffer {
  const body = ` path=${name}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len++;
  return Buffer.from(`${len}${body}`);
}

function member(name: string, data: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  // Names that do not fit ustar's 100 bytes as plain ASCII go in a PAX record before the file.
  if (Buffer.byteLength(name) > 100 || !/^[\x20-\x7e]*$/.test(name)) {
    const pax = paxPath(name);
    out.push(header('PaxHeader', pax.length, 'x'), pax, pad(pax.length));
  }
  out.push(header(name, data.length, '0'), Buffer.from(data), pad(data.length));
  return out;
}

/** An uncompressed tar of regular files, in the order given. */
export function tarMembers(members: ReadonlyArray<readonly [string, Uint8Array]>): Buffer {
  const parts = members.flatMap(([name, data]) => member(name, data));
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/** The uncompressed tar of an entry's manifest and files (`files` has each file's bytes). */
export function tarArtifact(key: string, entry: SharedEntry, files: Map<string, Buffer>): Buffer {
  const manifest: ArtifactManifest = { format: ARTIFACT_FORMAT, key, entry };
  return tarMembers([
    [ARTIFACT_MANIFEST, Buffer.from(`${JSON.stringify(manifest)}\n`)],
    ...entry.files.map((f) => [f.path, files.get(f.path)!] as const),
  ]);
}

/** Gzip a tar as an artifact body (fixed header: the same tar gives the same bytes). */
export function gzipArtifact(tar: Buffer): Buffer {
  return gzipSync(tar, { level: 6 });
}

const gzipAsync = promisify(gzip);
/** {@link gzipArtifact} off the main thread, for uploads during a run. */
export async function gzipArtifactAsync(tar: Buffer): Promise<Buffer> {
  return gzipAsync(tar, { level: 6 });
}

function octal(h: Buffer, at: number, len: number): number {
  const s = h
    .subarray(at, at + len)
    .toString('ascii')
    .replace(/[\0 ]+$/, '')
    .trim();
  if (!/^[0-7]+$/.test(s)) throw new Error('a tar header with a bad number');
  return parseInt(s, 8);
}

/** Members of a tar as name → bytes; only regular files and PAX path records are accepted. */
function untar(tar: Buffer): Array<{ name: string; data: Buffer }> {
  const out: Array<{ name: string; data: Buffer }> = [];
  let at = 0;
  let longName: string | null = null;
  for (;;) {
    if (at + BLOCK > tar.length) throw new Error('the tar ends without its end blocks');
    const h = tar.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (octal(h, 148, 8) !== sum) throw new Error('a tar header checksum does not match');
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156]!);
    const start = at + BLOCK;
    if (start + size > tar.length) throw new Error('a tar member runs past the end');
    const data = tar.subarray(start, start + size);
    at = start + size + ((BLOCK - (size % BLOCK)) % BLOCK);
    if (type === 'x') {
      const m = /^\d+ path=([^\n]*)\n$/.exec(data.toString('utf8'));
      if (!m) throw new Error('a PAX header other than one path record');
      longName = m[1]!;
      continue;
    }
    if (type !== '0' && type !== '\0')
      throw new Error(`a tar member of type ${JSON.stringify(type)}`);
    const name = longName ?? h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    longName = null;
    out.push({ name, data: Buffer.from(data) });
  }
  return out;
}

/** A verified artifact: the entry to store locally and its files' bytes. */
export interface OpenedArtifact {
  entry: SharedEntry;
  files: Map<string, Buffer>;
}

/**
 * Open an artifact body requested under `key`, or throw why it is refused: the manifest must
 * name `key`, its gate manifest must hash to `key` (so the result is the one of exactly these
 * inputs, command and needs), the result must be a pass, and every file must be listed once
 * with its size and sha256. `maxBytes` caps the unpacked size.
 */
export function openArtifact(key: string, body: Buffer, maxBytes: number): OpenedArtifact {
  let tar: Buffer;
  try {
    tar = gunzipSync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    throw new Error(`not a gzip stream within ${maxBytes} bytes (${(err as Error).message})`);
  }
  const members = untar(tar);
  const first = members.shift();
  if (first?.name !== ARTIFACT_MANIFEST) throw new Error(`${ARTIFACT_MANIFEST} is not first`);
  let m: ArtifactManifest;
  try {
    m = JSON.parse(first.data.toString('utf8')) as ArtifactManifest;
  } catch {
    throw new Error(`${ARTIFACT_MANIFEST} is not JSON`);
  }
  const e = m?.entry;
  if (m?.format !== ARTIFACT_FORMAT || typeof e !== 'object' || e === null)
    throw new Error(`${ARTIFACT_MANIFEST} has another format`);
  if (m.key !== key || e.key !== key) throw new Error(`it describes another key`);
  if (e.format !== CACHE_FORMAT) throw new Error(`its entry has cache format ${String(e.format)}`);
  let computed: string;
  try {
    computed = manifestKey(e.manifest);
  } catch {
    throw new Error('its gate manifest cannot be read');
  }
  if (computed !== key) throw new Error('its gate manifest does not hash to the requested key');
  const result = e.result as GateResult | undefined;
  if (result?.status !== 'passed' || result.id !== e.manifest.gate)
    throw new Error('its result is not a pass of this gate');
  if (!Array.isArray(e.files)) throw new Error('it lists no files');
  const listed = new Map<string, EntryFile>();
  for (const f of e.files) {
    if (typeof f?.path !== 'string' || listed.has(f.path))
      throw new Error('its file list is malformed');
    listed.set(f.path, f);
  }
  const files = new Map<string, Buffer>();
  for (const { name, data } of members) {
    const f = listed.get(name);
    if (!f) throw new Error(`it holds ${JSON.stringify(name)}, which its manifest does not list`);
    if (files.has(name)) throw new Error(`it holds ${JSON.stringify(name)} twice`);
    if (data.length !== f.bytes || sha256(data) !== f.sha256)
      throw new Error(`${name} does not match its size and sha256`);
    files.set(name, data);
  }
  for (const p of listed.keys()) if (!files.has(p)) throw new Error(`${p} is missing`);
  // The local cache re-checks paths and authenticates what it stores under its own key.
  return { entry: JSON.parse(canonicalJson(e)) as SharedEntry, files };
}
