/**
 * Streaming redaction of secret values. Works on bytes so a secret split across chunks
 * (or across a multi-byte character boundary) is still found.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '***';
const REDACTED_BYTES = Buffer.from(REDACTED);

/** Redacts a stream of chunks; feed with {@link push}, finish with {@link end}. */
export class StreamRedactor {
  private readonly needles: Buffer[];
  private readonly keep: number;
  private carry: Buffer = Buffer.alloc(0);

  constructor(secretValues: readonly string[]) {
    // Longest first so that a secret containing another one is replaced whole.
    this.needles = [...new Set(secretValues.filter((s) => s.length > 0))]
      .map((s) => Buffer.from(s))
      .sort((a, b) => b.length - a.length);
    this.keep = this.needles.length === 0 ? 0 : this.needles[0]!.length - 1;
  }

  /** Redact what can be decided now; bytes that may start a secret are held back. */
  push(chunk: Buffer): Buffer {
    if (this.needles.length === 0) return chunk;
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    // Any match starting before `safe` lies entirely inside `buf`.
    const safe = buf.length - this.keep;
    if (safe <= 0) {
      this.carry = buf;
      return Buffer.alloc(0);
    }
    const { out, consumed } = this.replace(buf, safe);
    // Hold back only a tail that could still become a secret, so output is not delayed.
    const hold = this.partialStart(buf, consumed);
    this.carry = Buffer.from(buf.subarray(hold));
    return hold === consumed ? out : Buffer.concat([out, buf.subarray(consumed, hold)]);
  }

  /** Flush the held-back bytes. */
  end(): Buffer {
    if (this.carry.length === 0) return Buffer.alloc(0);
    const buf = this.carry;
    this.carry = Buffer.alloc(0);
    return this.replace(buf, buf.length).out;
  }

  /** First index at or after `from` whose suffix is a prefix of some secret (else the end). */
  private partialStart(buf: Buffer, from: number): number {
    for (let i = from; i < buf.length; i++) {
      const tail = buf.subarray(i);
      if (
        this.needles.some((n) => n.length > tail.length && n.subarray(0, tail.length).equals(tail))
      )
        return i;
    }
    return buf.length;
  }

  private replace(buf: Buffer, limit: number): { out: Buffer; consumed: number } {
    const parts: Buffer[] = [];
    // Next occurrence of each needle at or after `pos`; recomputed only when passed.
    const next = this.needles.map((n) => buf.indexOf(n));
    let pos = 0;
    for (;;) {
      let best = -1;
      let bestLen = 0;
      for (let k = 0; k < this.needles.length; k++) {
        const n = this.needles[k]!;
        if (next[k] !== -1 && next[k]! < pos) next[k] = buf.indexOf(n, pos);
        const i = next[k]!;
        if (
          i !== -1 &&
          i < limit &&
          (best === -1 || i < best || (i === best && n.length > bestLen))
        ) {
          best = i;
          bestLen = n.length;
        }
      }
      if (best === -1) break;
      parts.push(buf.subarray(pos, best), REDACTED_BYTES);
      pos = best + bestLen;
    }
    const consumed = Math.max(pos, limit);
    parts.push(buf.subarray(pos, consumed));
    return { out: parts.length === 1 ? parts[0]! : Buffer.concat(parts), consumed };
  }
}

/** Redact a whole string at once. */
export function redactText(text: string, secretValues: readonly string[]): string {
  const r = new StreamRedactor(secretValues);
  return Buffer.concat([r.push(Buffer.from(text)), r.end()]).toString('utf8');
}
