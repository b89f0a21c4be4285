import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '@gatehouse-ci/core';
import { canonicalForms } from './canonical.js';

describe('canonicalForms', () => {
  it('compact is byte-identical to core canonicalJson, pretty parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const { compact, pretty } = canonicalForms(v);
        expect(compact).toBe(canonicalJson(v));
        expect(canonicalJson(JSON.parse(pretty))).toBe(compact);
        expect(pretty.endsWith('\n')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('data already in canonical order (as parsed from a canonical file) gives the same bytes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const parsed = JSON.parse(canonicalForms(v).compact) as unknown;
        expect(canonicalForms(parsed)).toEqual(canonicalForms(v));
      }),
      { numRuns: 300 },
    );
  });

  it('index-like keys take the slow path and keep string order', () => {
    const v = { '10': 1, '9': 2, a: { '0': [1, { '2': null }] } };
    const { compact, pretty } = canonicalForms(v);
    expect(compact).toBe('{"10":1,"9":2,"a":{"0":[1,{"2":null}]}}');
    expect(pretty).toBe(
      '{\n  "10": 1,\n  "9": 2,\n  "a": {\n    "0": [\n      1,\n      {\n        "2": null\n      }\n    ]\n  }\n}\n',
    );
    expect(canonicalForms({ b: 1, a: [] }).pretty).toBe('{\n  "a": [],\n  "b": 1\n}\n');
  });

  it('refuses what canonicalJson refuses', () => {
    expect(() => canonicalForms({ a: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalForms({ a: () => 1 })).toThrow(/cannot serialise function/);
    expect(canonicalForms({ a: undefined, b: [undefined] }).compact).toBe('{"b":[null]}');
    expect(canonicalForms(JSON.parse('{"__proto__":{"x":1}}')).compact).toBe(
      '{"__proto__":{"x":1}}',
    );
  });

  it('omits one top-level member from the compact form only', () => {
    const { compact, pretty } = canonicalForms({ z: 1, integrity: { d: 'x' }, a: 2 }, 'integrity');
    expect(compact).toBe('{"a":2,"z":1}');
    expect(JSON.parse(pretty)).toEqual({ a: 2, integrity: { d: 'x' }, z: 1 });
    expect(canonicalForms({ '1': 0, integrity: 1 }, 'integrity').compact).toBe('{"1":0}');
  });
});
