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
