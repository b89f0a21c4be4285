/**
 * A remote cache for the local runner, over the Turborepo Remote Cache HTTP API
 * (`GET`/`PUT`/`HEAD /v8/artifacts/:hash?teamId=|slug=`, `Authorization: Bearer`), so a team can
 * point Gatehouse at a server it may already run for turbo. See decision 0010.
 *
 * - It extends the local cache and never replaces it: a local miss asks the server; a download
 *   is checked (its `x-artifact-tag` signature when a signing key is set, always its content
 *   against the key it was requested by, see `remote-artifact.ts`), stored into the local cache
 *   under the local key and then replayed as a local hit. A pass the local cache stores is
 *   uploaded (unless read-only), once no secret value of the run is found in its bytes.
 * - It never fails a run: a refused artifact is one warning and the gate runs; the server down,
 *   slow or refusing the token turns the remote cache off for the rest of the run with one
 *   warning.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { GateResult } from '@gatehouse-ci/core';
import type { CacheEntry, GateCache, Lookup } from './cache.js';
import { gzipArtifactAsync, openArtifact, tarArtifact } from './remote-artifact.js';

/** How the remote cache is reached; from {@link remoteCacheConfig}. */
export interface RemoteCacheConfig {
  /** Base URL of the server, without `/v8` (e.g. `https://cache.example.com`). */
  url: string;
  /** Bearer token; null sends no `Authorization` header. */
  token: string | null;
  /** Team of the artifacts: sent as `teamId=` when it starts with `team_`, else as `slug=`. */
  team: string;
  /** With a key, uploads carry `x-artifact-tag` and downloads without a valid one are refused. */
  signatureKey: string | null;
  /** Never upload. */
  readOnly: boolean;
  /** Deadline of each request. @default 10000 */
  timeoutMs: number;
  /** Largest artifact downloaded, and unpacked. @default 512 MiB */
  maxBytes: number;
}

/** Environment variables of the remote cache (no fallback to turbo's names, see decision 0010). */
export const REMOTE_CACHE_ENV = {
  url: 'GATEHOUSE_REMOTE_CACHE_URL',
  token: 'GATEHOUSE_REMOTE_CACHE_TOKEN',
  team: 'GATEHOUSE_REMOTE_CACHE_TEAM',
  signatureKey: 'GATEHOUSE_REMOTE_CACHE_SIGNATURE_KEY',
  readOnly: 'GATEHOUSE_REMOTE_CACHE_READ_ONLY',
  timeoutMs: 'GATEHOUSE_REMOTE_CACHE_TIMEOUT_MS',
} as const;

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['', '0', 'false', 'no', 'off']);

/**
 * The remote cache the environment configures: none when `GATEHOUSE_REMOTE_CACHE_URL` is unset
 * or empty; a problem (the remote cache is off, with one warning) when a value is unusable.
 */
export function remoteCacheConfig(env: Record<string, string | undefined>): {
  config: RemoteCacheConfig | null;
  problem: string | null;
} {
  const get = (k: keyof typeof REMOTE_CACHE_ENV) => env[REMOTE_CACHE_ENV[k]]?.trim() ?? '';
  const url = get('url');
  if (url === '') return { config: null, problem: null };
  const off = (problem: string) => ({ config: null, problem });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return off(`${REMOTE_CACHE_ENV.url} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return off(`${REMOTE_CACHE_ENV.url} is not an http(s) URL`);
  if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '')
    return off(`${REMOTE_CACHE_ENV.url} must not carry credentials or a query`);
  const team = get('team');
  if (team === '') return off(`${REMOTE_CACHE_ENV.team} is not set`);
  const ro = get('readOnly').toLowerCase();
  if (!TRUE.has(ro) && !FALSE.has(ro))
    return off(`${REMOTE_CACHE_ENV.readOnly} is neither true nor false (${ro})`);
  const t = get('timeoutMs');
  const timeoutMs = t === '' ? DEFAULT_TIMEOUT_MS : Number(t);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    return off(`${REMOTE_CACHE_ENV.timeoutMs} is not a positive whole number`);
  return {
    config: {
      url: url.replace(/\/+$/, ''),
      token: get('token') || null,
      team,
      signatureKey: env[REMOTE_CACHE_ENV.signatureKey] || null,
      readOnly: TRUE.has(ro),
      timeoutMs,
      maxBytes: DEFAULT_MAX_BYTES,
    },
    problem: null,
  };
}

/** `x-artifact-tag`: base64 HMAC-SHA256 of the artifact body followed by the team. */
export function artifactTag(key: string, body: Uint8Array, team: string): string {
  return createHmac('sha256', key).update(body).update(team).digest('base64');
}

function tagMatches(key: string, body: Uint8Array, team: string, tag: string | null): boolean {
  if (tag === null) return false;
  const want = Buffer.from(artifactTag(key, body, team));
  const got = Buffer.from(tag);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** What asking the server for a key gave. */
export type RemoteFetch =
  | { kind: 'found'; body: Buffer; tag: string | null }
  | { kind: 'missing' }
  | { kind: 'refused'; why: string }
  | { kind: 'down'; why: string };

/** The HTTP client of the Turborepo Remote Cache API (v8). */
export class RemoteCacheClient {
  constructor(readonly config: RemoteCacheConfig) {}

  private url(hash: string): string {
    const team = this.config.team;
    const q = team.startsWith('team_') ? 'teamId' : 'slug';
    return `${this.config.url}/v8/artifacts/${encodeURIComponent(hash)}?${q}=${encodeURIComponent(team)}`;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}),
      ...extra,
    };
  }

  private async request(method: string, hash: string, init: RequestInit = {}): Promise<Response> {
    return fetch(this.url(hash), {
      method,
      redirect: 'error',
      signal: AbortSignal.timeout(this.config.timeoutMs),
      ...init,
      headers: this.headers((init.headers ?? {}) as Record<string, string>),
    });
  }

  /** `GET`: the artifact and its tag, missing (404), or why the server cannot be used. */
  async get(hash: string): Promise<RemoteFetch> {
    let res: Response;
    try {
      res = await this.request('GET', hash);
    } catch (err) {
      return { kind: 'down', why: networkWhy(err) };
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return { kind: 'missing' };
    }
    if (!res.ok) {
      await res.body?.cancel();
      return { kind: 'down', why: `GET answered ${res.status} ${res.statusText}`.trim() };
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > this.config.maxBytes) {
      await res.body?.cancel();
      return { kind: 'refused', why: `it has ${declared} bytes, over the limit` };
    }
    try {
      const body = await readCapped(res, this.config.maxBytes);
      if (body === null) return { kind: 'refused', why: 'it is over the size limit' };
      return { kind: 'found', body, tag: res.headers.get('x-artifact-tag') };
    } catch (err) {
      return { kind: 'down', why: networkWhy(err) };
    }
  }

  /** `HEAD`: whether the server has the artifact (null: it cannot be asked). */
  async has(hash: string): Promise<boolean | null> {
    try {
      const res = await this.request('HEAD', hash);
      if (res.status === 404) return false;
      return res.ok ? true : null;
    } catch {
      return null;
    }
  }

  /** `PUT`: store an artifact; null when stored, else why not. */
  async put(hash: string, body: Buffer, durationMs: number): Promise<string | null> {
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'x-artifact-duration': String(Math.max(0, Math.round(durationMs))),
    };
    if (this.config.signatureKey)
      headers['x-artifact-tag'] = artifactTag(this.config.signatureKey, body, this.config.team);
    try {
      const res = await this.request('PUT', hash, { headers, body });
      await res.body?.cancel();
      return res.ok ? null : `PUT answered ${res.status} ${res.statusText}`.trim();
    } catch (err) {
      return networkWhy(err);
    }
  }
}

/** The body of `res`, or null (and the rest left unread) once it passes `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(Buffer.from(value));
  }
}

function networkWhy(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'no answer in time';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

/** A local lookup, or a remote hit stored locally and looked up again. */
export type SharedLookup = Lookup & { from?: 'remote' };

/**
 * The local cache with a remote one behind it, for one run. `warn` receives each warning;
 * `secretValues` are the run's secret values, which no uploaded byte may contain.
 */
export class SharedCache {
  readonly #client: RemoteCacheClient | null;
  #down: string | null = null;
  #uploads: Array<Promise<void>> = [];
  #uploadsRefused = false;
  /** Keys this run took from the server: a later lookup of one still says where it came from. */
  readonly #fromRemote = new Set<string>();

  constructor(
    readonly local: GateCache,
    config: RemoteCacheConfig | null,
    private readonly warn: (text: string) => void,
    private readonly secretValues: readonly string[],
  ) {
    this.#client = config && local.enabled ? new RemoteCacheClient(config) : null;
    if (config?.token) this.secretValues = [...secretValues, config.token];
    if (config?.signatureKey) this.secretValues = [...this.secretValues, config.signatureKey];
  }

  /** Whether a remote cache is in use (configured, and not found down in this run). */
  get remote(): boolean {
    return this.#client !== null && this.#down === null;
  }

  private serverDown(why: string): void {
    if (this.#down !== null) return;
    this.#down = why;
    this.warn(
      `remote cache not used for the rest of this run: ${why}; running with the local cache only`,
    );
  }

  /** Look `key` up locally, then on the server; a remote hit is stored locally first. */
  async lookup(key: string, gate: string): Promise<SharedLookup> {
    const found = await this.local.lookup(key);
    if (found.kind === 'hit' && this.#fromRemote.has(key)) return { ...found, from: 'remote' };
    if (found.kind !== 'miss' || !this.remote) return found;
    const got = await this.#client!.get(key);
    if (got.kind === 'missing') return found;
    if (got.kind === 'down') {
      this.serverDown(got.why);
      return found;
    }
    const why = got.kind === 'refused' ? got.why : await this.accept(key, got.body, got.tag);
    if (why !== null) {
      this.warn(
        `remote cache artifact ${key.slice(0, 12)} of gate ${gate} is refused (${why}); running the gate`,
      );
      return found;
    }
    const again = await this.local.lookup(key);
    if (again.kind !== 'hit') return again;
    this.#fromRemote.add(key);
    return { ...again, from: 'remote' };
  }

  /** Check a downloaded artifact and store it locally; why it is refused, or null. */
  private async accept(key: string, body: Buffer, tag: string | null): Promise<string | null> {
    const cfg = this.#client!.config;
    if (cfg.signatureKey && !tagMatches(cfg.signatureKey, body, cfg.team, tag))
      return tag === null ? 'it carries no signature' : 'its signature does not match';
    try {
      const opened = openArtifact(key, body, cfg.maxBytes);
      await this.local.importEntry(opened.entry, opened.files);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }

  /**
   * Upload a pass the local cache just stored, in the background ({@link flush} waits). An entry
   * whose bytes hold a secret value of the run is not uploaded (one warning).
   */
  async stored(entry: CacheEntry | null, durationMs: number): Promise<void> {
    if (entry === null || !this.remote || this.#client!.config.readOnly || this.#uploadsRefused)
      return;
    const { mac: _mac, ...shared } = entry;
    let tar: Buffer;
    try {
      tar = tarArtifact(entry.key, shared, await this.local.entryFiles(entry));
    } catch (err) {
      this.warn(
        `gate ${entry.manifest.gate} is not uploaded to the remote cache: its entry cannot be read (${(err as Error).message})`,
      );
      return;
    }
    if (this.secretValues.some((s) => s !== '' && tar.includes(Buffer.from(s)))) {
      this.warn(
        `gate ${entry.manifest.gate} is not uploaded to the remote cache: its log, evidence or outputs contain a secret value`,
      );
      return;
    }
    const body = await gzipArtifactAsync(tar);
    const client = this.#client!;
    this.#uploads.push(
      client.put(entry.key, body, durationMs).then((why) => {
        if (why === null) return;
        if (/^PUT answered (401|403)\b/.test(why)) {
          if (!this.#uploadsRefused)
            this.warn(`remote cache refuses uploads (${why}); results of this run are not shared`);
          this.#uploadsRefused = true;
        } else this.serverDown(why);
      }),
    );
  }

  /** Wait for the uploads started so far. */
  async flush(): Promise<void> {
    await Promise.all(this.#uploads);
    this.#uploads = [];
  }
}

/** A cached result that came from the remote cache says so. */
export function markRemote(result: GateResult, found: SharedLookup): GateResult {
  return found.from === 'remote' && result.cached
    ? { ...result, cached: { ...result.cached, from: 'remote' } }
    : result;
}
