import fc from 'fast-check';

/** The marker redaction writes in place of a secret. */
const MARKER = '***';

/**
 * The obvious, slow model of secret redaction that every redactor must agree with: walk the
 * input byte by byte; where one or more secrets start, replace the longest of them with
 * `***` and continue after it; elsewhere keep the byte. Also returns the output offset of
 * each marker it wrote.
 */
export function redactionModel(
  input: Buffer,
  secrets: readonly string[],
): { out: Buffer; markers: number[] } {
  const needles = secrets.filter((s) => s !== '').map((s) => Buffer.from(s));
  const parts: Buffer[] = [];
  const markers: number[] = [];
  let size = 0;
  let i = 0;
  while (i < input.length) {
    let best: Buffer | null = null;
    for (const n of needles) {
      const here = input.subarray(i, i + n.length);
      if (here.length === n.length && here.equals(n) && (best === null || n.length > best.length))
        best = n;
    }
    const piece = best === null ? input.subarray(i, i + 1) : Buffer.from(MARKER);
    if (best !== null) markers.push(size);
    parts.push(piece);
    size += piece.length;
    i += best === null ? 1 : best.length;
  }
  return { out: Buffer.concat(parts), markers };
}

/**
 * The secrets that still occur in `out` other than across a marker of `markers` (as
 * {@link redactionModel} returns them). Only a secret made of marker bytes (`*`) can occur
 * there at all, so for every other secret this means: it does not occur.
 */
export function secretsLeft(
  out: Buffer,
  markers: readonly number[],
  secrets: readonly string[],
): string[] {
  return secrets.filter((s) => {
    const needle = Buffer.from(s);
    if (needle.length === 0) return false;
    for (let at = out.indexOf(needle); at !== -1; at = out.indexOf(needle, at + 1)) {
      const covered = markers.some((m) => at < m + MARKER.length && m < at + needle.length);
      if (!covered) return true;
    }
    return false;
  });
}

/**
 * Few distinct characters, so generated secrets overlap, prefix one another and recur by
 * chance. Regex metacharacters, CR/LF (multi-line values) and multi-byte characters are
 * among them; NUL is not (no secret or log line can hold one).
 */
export const REDACTION_CHARS: readonly string[] = [
  'a',
  'b',
  '-',
  '*',
  '.',
  '\\',
  '$',
  '(',
  '[',
  '?',
  '+',
  '^',
  '|',
  '\n',
  '\r',
  'é',
  '€',
  '🔑',
];

const char = fc.constantFrom(...REDACTION_CHARS);

/** Text of {@link REDACTION_CHARS}. */
export const redactionText = (maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: char, maxLength });

/** Secrets, some of them built from the others: prefixes, suffixes, self-overlapping repeats, joins. */
export const redactionSecrets: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.array(fc.string({ unit: char, minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
    fc.array(fc.tuple(fc.constantFrom('prefix', 'suffix', 'overlap', 'join'), fc.nat(), fc.nat()), {
      maxLength: 3,
    }),
  )
  .map(([base, derived]) => {
    const out = [...base];
    for (const [how, a, b] of derived) {
      const s = [...out[a % out.length]!];
      const t = out[b % out.length]!;
      const cut = 1 + (b % s.length);
      if (how === 'prefix') out.push(s.slice(0, cut).join(''));
      else if (how === 'suffix') out.push(s.slice(s.length - cut).join(''));
      else if (how === 'overlap') out.push(s.join('') + s.slice(s.length - cut).join(''));
      else out.push(s.join('') + t);
    }
    return out;
  });

/** Secrets, an output that holds them between random filler text, and random cut points. */
export const redactionCase: fc.Arbitrary<{ secrets: string[]; output: string; cuts: number[] }> =
  redactionSecrets.chain((secrets) =>
    fc.record({
      secrets: fc.constant(secrets),
      output: fc
        .array(fc.oneof(redactionText(6), fc.nat({ max: secrets.length - 1 })), { maxLength: 12 })
        .map((pieces) => pieces.map((p) => (typeof p === 'number' ? secrets[p]! : p)).join('')),
      cuts: fc.array(fc.nat(), { maxLength: 10 }),
    }),
  );
