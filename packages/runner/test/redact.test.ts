import {
  REDACTION_CHARS,
  redactionCase,
  redactionModel,
  redactionText,
  secretsLeft,
} from '@gatehouse-ci/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, StreamRedactor, redactText } from '../src/redact.js';

function streamed(input: string, secrets: string[], cuts: number[]): string {
  const bytes = Buffer.from(input);
  const r = new StreamRedactor(secrets);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of [...new Set(cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b)) {
    parts.push(r.push(bytes.subarray(prev, c)));
    prev = c;
  }
  parts.push(r.push(bytes.subarray(prev)), r.end());
  return Buffer.concat(parts).toString('utf8');
}

describe('StreamRedactor', () => {
  it('redacts a secret split at every possible byte', () => {
    const secret = 'tok-€-🔑-xyz';
    const text = `before ${secret} middle ${secret}${secret} after`;
    const len = Buffer.byteLength(text);
    for (let a = 0; a <= len; a++) {
      const out = streamed(text, [secret], [a]);
      expect(out).toBe(`before ${REDACTED} middle ${REDACTED}${REDACTED} after`);
    }
  });

  it('prefers the longest secret when one contains another', () => {
    expect(redactText('x abcdef y abc', ['abc', 'abcdef'])).toBe(`x ${REDACTED} y ${REDACTED}`);
  });

  it('passes text through untouched without secrets', () => {
    expect(redactText('plain', [])).toBe('plain');
    expect(redactText('plain', [''])).toBe('plain');
  });

  it('never lets a secret through, whatever the chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 3, maxLength: 12, unit: 'grapheme' }),
        fc.array(fc.string({ maxLength: 20, unit: 'grapheme' }), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (secret, fillers, cuts) => {
          const text = fillers.join(secret);
          const out = streamed(text, [secret], cuts);
          expect(out.includes(secret)).toBe(false);
          expect(out).toBe(redactText(text, [secret]));
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** Split `input` at the given byte offsets (taken modulo its length) and stream it through. */
function streamedBytes(input: Buffer, secrets: readonly string[], cuts: readonly number[]): Buffer {
  const r = new StreamRedactor(secrets);
  const at = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const c of [...at, input.length]) {
    parts.push(r.push(input.subarray(prev, c)));
    prev = c;
  }
  parts.push(r.end());
  return Buffer.concat(parts);
}

describe('StreamRedactor with several secrets', () => {
  it('redacts a secret in the last bytes when a longer, unrelated secret is declared', () => {
    const secrets = ['canary-1234567', 'zzz-unrelated-99'];
    expect(redactText('token=canary-1234567\n', secrets)).toBe(`token=${REDACTED}\n`);
    expect(redactText('token=canary-1234567', secrets)).toBe(`token=${REDACTED}`);
    // Mid-output, for every place a chunk can end.
    const text = 'line one\ntoken=canary-1234567\nline three\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const out = streamedBytes(Buffer.from(text), secrets, [cut]).toString();
      expect(out, `cut at ${cut}`).toBe(`line one\ntoken=${REDACTED}\nline three\n`);
    }
  });

  it('redacts a multi-line secret (a PEM key) split at every byte', () => {
    const pem = [
      '-----BEGIN PRIVATE KEY-----',
      'MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEAu8z',
      'aGVsbG8gd29ybGQ+/=',
      '-----END PRIVATE KEY-----',
    ].join('\n');
    const text = `key:\n${pem}\r\nnext ${pem}`;
    const bytes = Buffer.from(text);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const out = streamedBytes(bytes, [pem, 'short'], [cut, cut + 7]).toString();
      expect(out).toBe(`key:\n${REDACTED}\r\nnext ${REDACTED}`);
    }
  });

  it('terminates on values that occur in their own replacement, repeat or overlap', () => {
    expect(redactText('a*b', ['*'])).toBe(`a${REDACTED}b`);
    expect(redactText('***', ['*'])).toBe(REDACTED.repeat(3));
    expect(redactText('x***y', [REDACTED])).toBe(`x${REDACTED}y`);
    expect(redactText('aaaa', ['a'])).toBe(REDACTED.repeat(4));
    expect(redactText('aaaaa', ['aa'])).toBe(`${REDACTED}${REDACTED}a`);
    // Longest first where several start at the same byte; leftmost first otherwise.
    expect(redactText('abcd', ['ab', 'abc', 'bcd'])).toBe(`${REDACTED}d`);
    expect(redactText('xbcd', ['ab', 'abc', 'bcd'])).toBe(`x${REDACTED}`);
    expect(redactText('.*+?', ['.*', '+?', '.*+'])).toBe(`${REDACTED}?`);
  });

  it('leaves no secret in the output, whatever the secrets and the chunking (property)', () => {
    fc.assert(
      fc.property(redactionCase, ({ secrets, output, cuts }) => {
        const input = Buffer.from(output);
        const out = streamedBytes(input, secrets, cuts);
        const expected = redactionModel(input, secrets);
        expect(out.toString('latin1')).toBe(expected.out.toString('latin1'));
        // What is left of a secret can only be made of marker bytes: a secret `*` inside
        // `***`; one without `*` never appears.
        expect(secretsLeft(out, expected.markers, secrets)).toEqual([]);
        for (const s of secrets.filter((s) => !s.includes('*')))
          expect(out.includes(Buffer.from(s))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('passes text without a secret through unchanged, whatever the chunking (property)', () => {
    // Every secret ends in `¤`, which the text never holds: the text is full of their
    // prefixes (also partial UTF-8 sequences), but no whole one.
    const plain = fc.string({
      unit: fc.constantFrom(...REDACTION_CHARS, '¢', '₤'),
      maxLength: 60,
    });
    fc.assert(
      fc.property(
        fc.array(redactionText(6), { minLength: 1, maxLength: 4 }),
        plain,
        fc.array(fc.nat(), { maxLength: 10 }),
        (stems, text, cuts) => {
          const secrets = stems.map((s) => `${s}¤`);
          const input = Buffer.from(text);
          expect(streamedBytes(input, secrets, cuts).equals(input)).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
