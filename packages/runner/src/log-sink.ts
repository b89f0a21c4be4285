import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { StreamRedactor } from './redact.js';

/** Opens the file a gate's log is written to. Injectable to simulate a full disk. */
export type LogStreamFactory = (path: string) => Writable;

/** Default: a plain file write stream. */
export const fileLogStream: LogStreamFactory = (path) =>
  createWriteStream(path, { flags: 'w', mode: 0o600 });

/** Marker written once when the on-disk log reaches its cap. */
export const TRUNCATED_MARKER = '\n[truncated]\n';

/** What is known about a log once the gate finished. */
export interface LogSummary {
  /** sha256 of the full redacted output (also the part beyond the cap). */
  sha256: string;
  /** Bytes of redacted output produced (not the bytes on disk). */
  bytes: number;
  /** The file on disk holds less than the whole output (cap reached or write error). */
  truncated: boolean;
  /** Why the file is incomplete when writing failed (e.g. ENOSPC), else null. */
  writeError: string | null;
}

/**
 * Receives a gate's stdout and stderr, redacts secret values, hashes everything and writes
 * at most `capBytes` to disk. Memory stays bounded: callers pause their source while
 * {@link write} returns false and resume on {@link drained}.
 *
 * Both streams go into one log, in the order they arrive, and are redacted as that one
 * byte stream: a secret whose first half a gate prints on stdout and the rest on stderr is
 * whole in the log, so it is found there.
 */
export class LogSink {
  private readonly hash: Hash = createHash('sha256');
  private readonly redactor: StreamRedactor;
  /** The stream that wrote last; the bytes {@link end} releases are attributed to it. */
  private lastStream: 'stdout' | 'stderr' = 'stdout';
  private readonly out: Writable;
  private bytes = 0;
  private written = 0;
  private truncated = false;
  private writeError: string | null = null;
  private drainWaiters: Array<() => void> = [];
  private readonly closed: Promise<void>;

  constructor(
    path: string,
    private readonly capBytes: number,
    secretValues: readonly string[],
    factory: LogStreamFactory = fileLogStream,
  ) {
    this.redactor = new StreamRedactor(secretValues);
    this.out = factory(path);
    this.out.on('drain', () => this.releaseWaiters());
    this.closed = new Promise((resolve) => {
      this.out.once('error', (err: NodeJS.ErrnoException) => {
        this.writeError ??= `log write failed: ${err.code ?? err.message}`;
        this.releaseWaiters();
        resolve();
      });
      this.out.once('close', () => resolve());
      this.out.once('finish', () => resolve());
    });
  }

  /**
   * Add a chunk; returns the redacted bytes released now and whether the caller may keep
   * sending. What is released can include bytes the other stream wrote earlier and that
   * were held back while they could have been the start of a secret.
   */
  write(stream: 'stdout' | 'stderr', chunk: Buffer): { redacted: Buffer; ok: boolean } {
    this.lastStream = stream;
    const redacted = this.redactor.push(chunk);
    return { redacted, ok: this.accept(redacted) };
  }

  /**
   * The output is over: release the bytes still held back (redacted, and written to the
   * log). A second call returns nothing new; {@link close} calls it too.
   */
  end(): { stream: 'stdout' | 'stderr'; redacted: Buffer } {
    const redacted = this.redactor.end();
    this.accept(redacted);
    return { stream: this.lastStream, redacted };
  }

  /** Resolves when the file stream can take more. */
  drained(): Promise<void> {
    if (this.writeError !== null || !this.out.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Flush the redactor, close the file, and summarise. */
  async close(): Promise<LogSummary> {
    this.end();
    if (this.writeError === null) this.out.end();
    else this.out.destroy();
    await this.closed;
    return {
      sha256: this.hash.digest('hex'),
      bytes: this.bytes,
      truncated: this.truncated || this.writeError !== null,
      writeError: this.writeError,
    };
  }

  private accept(data: Buffer): boolean {
    if (data.length === 0) return true;
    this.hash.update(data);
    this.bytes += data.length;
    if (this.writeError !== null || this.truncated) return true;
    let part = data;
    let marker = false;
    if (this.written + data.length > this.capBytes) {
      part = data.subarray(0, this.capBytes - this.written);
      this.truncated = true;
      marker = true;
    }
    this.written += part.length;
    let ok = part.length === 0 ? true : this.out.write(part);
    if (marker) ok = this.out.write(TRUNCATED_MARKER) && ok;
    return ok || this.writeError !== null;
  }

  private releaseWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }
}
