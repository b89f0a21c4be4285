import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, validateBytes } from '../src/index.js';

const BASE =
  'version: 1\nname: shop\ngates:\n  build: { run: npm run build }\n  unit: { run: npm test, needs: [build] }\n';

function neverThrows(bytes: Uint8Array): void {
  const v = validateBytes(bytes, '/p/gatehouse.yml');
  for (const d of v.diagnostics) {
    expect(typeof d.code).toBe('string');
    expect(d.code).toMatch(/^GH_[A-Z0-9_]+$/);
    expect(typeof formatDiagnostic(d)).toBe('string');
  }
  // Exactly one of: errors, or a pipeline.
  expect(v.pipeline === null).toBe(v.diagnostics.some((d) => d.severity === 'error'));
}

describe('validation never throws', () => {
  it('on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), neverThrows), { numRuns: 300 });
  });

  it('on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) =>
        neverThrows(Buffer.from(s, 'utf8')),
      ),
      { numRuns: 300 },
    );
  });

  it('on a valid config with random edits (insertions, deletions) anywhere', () => {
    const chunk = fc.constantFrom(
      ':',
      ' ',
      '\n',
      '-',
      '[',
      ']',
      '{',
      '}',
      '"',
      "'",
      '&a',
      '*a',
      '!!str',
      '#',
      '\t',
      'gates',
      'needs',
      'x',
      '0',
      '\u2028',
      '\ufeff',
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: BASE.length }), fc.nat({ max: 3 }), chunk), {
          maxLength: 6,
        }),
        (edits) => {
          let text = BASE;
          for (const [at, del, ins] of edits) text = text.slice(0, at) + ins + text.slice(at + del);
          neverThrows(Buffer.from(text, 'utf8'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('limits alias expansion (billion laughs)', () => {
    const lol = ['version: 1', 'name: x', 'a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      lol.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      );
    lol.push('gates: { a: { run: x } }');
    const started = Date.now();
    const v = validateBytes(Buffer.from(lol.join('\n')), '/p/gatehouse.yml');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(v.pipeline).toBeNull();
  });
});
