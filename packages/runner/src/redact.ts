/**
 * Redaction of secret values, on bytes. A secret split across chunks, across lines (a
 * multi-line value such as a PEM key) or across a multi-byte character is still found.
 *
 * The rule, whatever the chunking: scan the output from its start; where one or more
 * secrets begin, the longest of them is replaced by {@link REDACTED} and the scan goes on
 * after it; elsewhere a byte is kept. The scan never looks at what it wrote, so it ends for
 * any value (a secret `*` too, whose every occurrence becomes `***`).
 *
 * Redaction only finds the values themselves: a transformed secret (base64, reversed,
 * URL-encoded, split by the program into pieces with text between them) is not caught.
 */

/** What a redacted secret is replaced with. */
export const REDACTED = '***';
const REDACTED_BYTES = Buffer.from(REDACTED);
const EMPTY = Buffer.alloc(0);

/** Distinct non-empty values as bytes, longest first (ties keep their order). */
function needlesOf(secretValues: Iterable<string>): Buffer[] {
  return [...new Set([...secretValues].filter((s) => s.length > 0))]
    .map((s) => Buffer.from(s))
    .sort((a, b) => b.length - a.length);
}

/** Whether the bytes of `buf` from `at` are a proper prefix of `needle` (it may still follow). */
function startsPartially(buf: Buffer, at: number, needle: Buffer): boolean {
  const rest = buf.length - at;
  return rest < needle.length && buf[at] === needle[0] && buf.compare(needle, 0, rest, at) === 0;
}

/** Whether `needle` lies whole in `buf` at `at`. */
function matchesAt(buf: Buffer, at: number, needle: Buffer): boolean {
  return (
    buf.length - at >= needle.length &&
    buf[at] === needle[0] &&
    buf.compare(needle, 0, needle.length, at, at + needle.length) === 0
  );
}

/**
 * Redact `buf`. With `final` false, `buf` may be followed by more bytes: the scan stops at
 * the first position where a secret could still begin (or a longer one still replace a
 * shorter one), and `consumed` says how far it got; the caller keeps the rest.
 */
function scan(
  buf: Buffer,
  needles: readonly Buffer[],
  final: boolean,
): { out: Buffer; consumed: number } {
  if (needles.length === 0) return { out: buf, consumed: buf.length };
  const longest = needles[0]!.length;
  // Every secret that starts before `decided` lies whole in `buf` if it is there at all.
  const decided = final ? buf.length : Math.max(0, buf.length - (longest - 1));
  const parts: Buffer[] = [];
  let pos = 0;

  // Up to `decided`: jump from one occurrence to the next with the native search.
  const next = needles.map((n) => buf.indexOf(n));
  for (;;) {
    let best = -1;
    let bestLen = 0;
    for (let k = 0; k < needles.length; k++) {
      if (next[k] !== -1 && next[k]! < pos) next[k] = buf.indexOf(needles[k]!, pos);
      const at = next[k]!;
      // Longest first: at equal positions the first one found is the longest.
      if (at !== -1 && at < decided && (best === -1 || at < best)) {
        best = at;
        bestLen = needles[k]!.length;
      }
    }
    if (best === -1) break;
    parts.push(buf.subarray(pos, best), REDACTED_BYTES);
    pos = best + bestLen;
  }
  if (pos < decided) {
    parts.push(buf.subarray(pos, decided));
    pos = decided;
  }

  // The last bytes, fewer than the longest secret: decide byte by byte.
  let kept = pos;
  while (pos < buf.length) {
    if (needles.some((n) => startsPartially(buf, pos, n))) break;
    const whole = needles.find((n) => matchesAt(buf, pos, n));
    if (whole === undefined) {
      pos++;
      continue;
    }
    parts.push(buf.subarray(kept, pos), REDACTED_BYTES);
    pos += whole.length;
    kept = pos;
  }
  parts.push(buf.subarray(kept, pos));
  return { out: parts.length === 1 ? parts[0]! : Buffer.concat(parts), consumed: pos };
}

/**
 * Redacts a stream of chunks; feed with {@link push}, finish with {@link end}. The output
 * is the same however the stream is cut; bytes are held back only while they could be the
 * start of a secret, so at most the longest secret's length minus one.
 */
export class StreamRedactor {
  private readonly needles: Buffer[];
  private carry: Buffer = EMPTY;

  constructor(secretValues: Iterable<string>) {
    this.needles = needlesOf(secretValues);
  }

  /** Redact what can be decided now; the bytes that may start a secret are held back. */
  push(chunk: Buffer): Buffer {
    if (this.needles.length === 0) return chunk;
    const buf = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const { out, consumed } = scan(buf, this.needles, false);
    // A copy: the caller may reuse the chunk's memory.
    this.carry = consumed === buf.length ? EMPTY : Buffer.from(buf.subarray(consumed));
    return out;
  }

  /** Redact and return the held-back bytes; the stream is over. */
  end(): Buffer {
    const buf = this.carry;
    this.carry = EMPTY;
    return buf.length === 0 ? EMPTY : scan(buf, this.needles, true).out;
  }
}

/** A function that redacts whole strings, for many strings and the same secrets. */
export function textRedactor(secretValues: Iterable<string>): (text: string) => string {
  const needles = needlesOf(secretValues);
  if (needles.length === 0) return (text) => text;
  return (text) => {
    const bytes = Buffer.from(text);
    const { out } = scan(bytes, needles, true);
    // Unchanged text is returned as it was (it may not survive a trip through UTF-8).
    return out.equals(bytes) ? text : out.toString('utf8');
  };
}

/** Redact a whole string at once. */
export function redactText(text: string, secretValues: Iterable<string>): string {
  return textRedactor(secretValues)(text);
}
