import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import jsyaml from 'js-yaml';
import { parse, parseDocument } from 'yaml';
import { quoteYamlString, stringifyYaml, yamlCommented, type YamlValue } from './yaml-emit.js';

// Core cannot depend on @gatehouse-ci/test-utils (which depends on core): YAML-specific pieces here,
// the shared hostile corpus is exercised by the CI target plugins' round trips.
const YAML_PIECES = [
  'on',
  'yes',
  'No',
  'y',
  '~',
  'null',
  '0777',
  '12:30',
  '1.10',
  '.inf',
  ': ',
  ' #',
  '- ',
  '? ',
  '*a',
  '&a',
  '!t',
  '%',
  '@',
  '`',
  '|',
  '>',
  '{',
  '[',
  ',',
  '---',
  '...',
  '"',
  "'",
  '\\',
  '\n',
  '\r\n',
  '\t',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\u202e',
  '\u200b',
  '\u007f',
  '\u0000',
  '\u001b',
  '\ufffe',
  '😀',
];
function hostileString(
  opts: { minLength?: number; maxLength?: number } = {},
): fc.Arbitrary<string> {
  const piece = fc.oneof(
    fc.constantFrom(...YAML_PIECES),
    fc.string({ unit: 'binary', maxLength: 3 }),
  );
  return fc
    .array(piece, { minLength: opts.minLength ?? 0, maxLength: opts.maxLength ?? 8 })
    .map((p) => p.join(''))
    .filter((s) => s.length >= (opts.minLength ?? 0));
}

/**
 * Parse with `yaml` in YAML 1.2 and 1.1 modes, and with js-yaml (the parser much Node
 * tooling reads CI files with): all three must agree, so the writer's output does not
 * depend on which parser a consumer uses.
 */
function parseBoth(text: string): { v12: unknown; v11: unknown } {
  const doc12 = parseDocument(text, { version: '1.2', uniqueKeys: true });
  const doc11 = parseDocument(text, { version: '1.1', uniqueKeys: true });
  expect(doc12.errors).toEqual([]);
  expect(doc11.errors).toEqual([]);
  const v12 = doc12.toJS();
  expect(jsyaml.load(text)).toEqual(v12);
  return { v12, v11: doc11.toJS() };
}

const key = fc.oneof(
  hostileString({ minLength: 1, maxLength: 3 }),
  fc.constantFrom('on', 'runs-on', 'y', 'NO', 'a_b'),
);
const leaf: fc.Arbitrary<YamlValue> = fc.oneof(
  hostileString(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const tree: fc.Arbitrary<YamlValue> = fc.letrec<{ node: YamlValue }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(key, tie('node'), { maxKeys: 4 }),
  ),
})).node;

describe('stringifyYaml', () => {
  it('round-trips hostile strings through YAML 1.2 and 1.1 parsers unchanged', () => {
    fc.assert(
      fc.property(hostileString({ maxLength: 12 }), (s) => {
        const text = stringifyYaml({ value: s, list: [s, s] });
        const { v12, v11 } = parseBoth(text);
        expect(v12).toEqual({ value: s, list: [s, s] });
        expect(v11).toEqual({ value: s, list: [s, s] });
        // A string never spans lines: nothing in it can start a new key or item.
        expect(text.split('\n').length).toBe(5);
      }),
      { numRuns: 600 },
    );
  });

  it('round-trips arbitrary nested documents, keys included', () => {
    fc.assert(
      fc.property(tree, (value) => {
        const { v12, v11 } = parseBoth(stringifyYaml(value));
        expect(v12).toEqual(value);
        expect(v11).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('writes block style, quotes every string and YAML 1.1 keyword keys', () => {
    const text = stringifyYaml(
      {
        name: 'x',
        on: { push: { branches: ['main'] }, pull_request: {} },
        jobs: {
          a: {
            steps: [
              { uses: yamlCommented('o/r@abc', 'v1.2.3'), with: { n: 3, b: true } },
              { run: 'a\nb' },
            ],
          },
        },
        empty: [],
        skipped: undefined,
      },
      { header: ['generated', 'second line'] },
    );
    expect(text).toBe(
      [
        '# generated',
        '# second line',
        'name: "x"',
        '"on":',
        '  push:',
        '    branches:',
        '      - "main"',
        '  pull_request: {}',
        'jobs:',
        '  a:',
        '    steps:',
        '      - uses: "o/r@abc" # v1.2.3',
        '        with:',
        '          "n": 3',
        '          b: true',
        '      - run: "a\\nb"',
        'empty: []',
        '',
      ].join('\n'),
    );
  });

  it('escapes every character a parser could reinterpret', () => {
    expect(quoteYamlString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteYamlString('\t\n\r\u0000\u007f\u0085\u009f')).toBe(
      '"\\t\\n\\r\\x00\\x7F\\x85\\x9F"',
    );
    expect(quoteYamlString('\u2028\u2029\ufeff\ufffe')).toBe('"\\u2028\\u2029\\uFEFF\\uFFFE"');
    expect(quoteYamlString('😀 é')).toBe('"😀 é"');
    expect(parse(quoteYamlString('\ufffe\uffff'))).toBe('\ufffe\uffff');
  });

  it('escapes bidi controls and zero-width characters, so the file shows what parsers read', () => {
    const invisible = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c';
    const zeroWidth = '\u200b\u200c\u200d\u2060\u00ad\u180e';
    expect(quoteYamlString(`a\u202eb\u200bc`)).toBe('"a\\u202Eb\\u200Bc"');
    const quoted = quoteYamlString(invisible + zeroWidth);
    expect(quoted).toMatch(/^[\x20-\x7e]+$/);
    expect(parse(quoted)).toBe(invisible + zeroWidth);
    // Visible non-ASCII text is still written as it is.
    expect(quoteYamlString('é 😀 ü')).toBe('"é 😀 ü"');
    fc.assert(
      fc.property(hostileString({ maxLength: 12 }), (s) => {
        expect(stringifyYaml({ s })).not.toMatch(/\p{Cf}/u);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what it cannot write faithfully', () => {
    expect(() => quoteYamlString('a\ud800b')).toThrow(/lone surrogate/);
    expect(() => stringifyYaml({ n: Number.NaN })).toThrow(/non-finite/);
    expect(() => stringifyYaml({ x: 1 }, { header: ['a\nb'] })).toThrow(/unprintable/);
    expect(() => stringifyYaml({ x: yamlCommented('a', 'b\u2028c') })).toThrow(/unprintable/);
    expect(() => stringifyYaml({ d: new Date(0) as unknown as YamlValue })).toThrow(
      /plain objects/,
    );
  });

  it('is deterministic', () => {
    const value = { b: [1, { c: 'd' }], a: 'x' };
    expect(stringifyYaml(value)).toBe(stringifyYaml(structuredClone(value)));
    expect(stringifyYaml(value).indexOf('b:')).toBeLessThan(stringifyYaml(value).indexOf('a:'));
  });
});
