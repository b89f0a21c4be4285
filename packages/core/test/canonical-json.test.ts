import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/index.js';

/** The rule written the plain way: every object's members sorted by key, then joined. */
function reference(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((x) => (x === undefined ? 'null' : reference(x))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const members = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((k) => `${JSON.stringify(k)}:${reference(o[k])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('canonicalJson', () => {
  it('is JSON with keys sorted by UTF-16 code units at every depth, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        expect(text).toBe(reference(v));
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('drops undefined members, writes undefined array items as null, and refuses what JSON cannot say', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined, 'x'], A: { z: 0, y: null } })).toBe(
      '{"A":{"y":null,"z":0},"b":1,"c":[null,"x"]}',
    );
    expect(canonicalJson({ é: 1, z: 2, '\u{1F600}': 3, ﬀ: 4 })).toBe(
      '{"z":2,"é":1,"\u{1F600}":3,"ﬀ":4}',
    );
    // Keys JSON.stringify would order otherwise (integer-like ones first), objects without a
    // prototype, and objects that are not plain data.
    expect(canonicalJson({ '9': 0, '10': 1, a: 2 })).toBe('{"10":1,"9":0,"a":2}');
    const bare = Object.assign(Object.create(null) as object, { b: 1, a: 'x' });
    expect(canonicalJson([bare, { a: 1, b: 2 }])).toBe('[{"a":"x","b":1},{"a":1,"b":2}]');
    expect(canonicalJson({ at: new Date(0), s: new Set([1]) })).toBe('{"at":{},"s":{}}');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson({ a: 1, n: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => canonicalJson([() => 1])).toThrow(TypeError);
  });
});
