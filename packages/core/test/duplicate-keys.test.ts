import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineCounter, parseDocument } from 'yaml';
import { validateBytes } from '../src/index.js';

/**
 * Where the YAML parser's own (quadratic) duplicate-key check reports, as `line:column`, in
 * position order (diagnostics are sorted by position; the parser reports inner maps last).
 */
function parserDuplicates(text: string): string[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    uniqueKeys: true,
    version: '1.2',
    strict: true,
    prettyErrors: false,
  });
  return doc.errors
    .filter((e) => e.code === 'DUPLICATE_KEY')
    .map((e) => {
      const p = lc.linePos(e.pos[0]);
      return [p.line, p.col] as const;
    })
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([l, c]) => `${l}:${c}`);
}

function ours(text: string): string[] {
  return validateBytes(new TextEncoder().encode(text), '/tmp/gatehouse.yml', {
    displayPath: 'gatehouse.yml',
  })
    .diagnostics.filter((d) => d.code === 'GH_DUPLICATE_KEY')
    .map((d) => `${d.loc!.line}:${d.loc!.column}`);
}

const CASES: Array<[string, string]> = [
  ['top level', 'version: 1\nname: a\nversion: 1\n'],
  ['three times', 'a: 1\na: 2\na: 3\n'],
  ['nested block map', 'gates:\n  a: { run: x }\n  b: { run: y }\n  a: { run: z }\n'],
  ['flow map', 'gates: { a: { run: x, run: y } }\n'],
  ['quoted and plain spell the same key', 'name: a\n\'name\': b\n"name": c\n'],
  ['numbers are compared as values', '1: x\n"1": y\n1.0: z\n0x1: w\n'],
  ['explicit keys', '? a\n: 1\n? a\n: 2\n'],
  ['anchor and tag on the key', 'a: 1\n&k a: 2\n!!str a: 3\n'],
  ['null keys', 'null: 1\n~: 2\n'],
  ['inside a sequence', 'x:\n  - { a: 1, a: 2 }\n  - a: 1\n    a: 2\n'],
  ['comments between', 'a: 1\n# note\n\n  \na: 2\n'],
  ['no duplicates', 'a: 1\nb: { a: 1, b: 2 }\nc: [ { a: 1 } ]\n'],
  ['syntax error as well (parser fallback)', 'a: 1\n- b\na: 3\n'],
];

describe('duplicate keys are found where the YAML parser finds them', () => {
  it.each(CASES)('%s', (_name, text) => {
    const expected = parserDuplicates(text);
    expect(ours(text)).toEqual(expected);
  });

  it('a realistic config: code, message and location', () => {
    const text =
      'version: 1\nname: app\ngates:\n  unit: { run: x }\n  lint: { run: y }\n  unit: { run: again }\n';
    const d = validateBytes(new TextEncoder().encode(text), '/tmp/gatehouse.yml', {
      displayPath: 'gatehouse.yml',
    }).diagnostics.filter((x) => x.code === 'GH_DUPLICATE_KEY');
    expect(d).toMatchObject([
      {
        severity: 'error',
        message: 'duplicate key: the same key appears twice in this mapping',
        hint: 'remove or rename one of them',
        loc: { file: 'gatehouse.yml', line: 6, column: 3 },
      },
    ]);
  });

  it('property: any nesting of block and flow maps with colliding keys', () => {
    const key = fc.constantFrom('a', 'b', "'a'", '"b"', '1', '"1"', 'null', '~');
    const leaf = fc.constantFrom('1', 'x', '[1, 2]', '{}');
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('map')),
      map: fc.record({
        flow: fc.boolean(),
        entries: fc.array(fc.tuple(key, tie('node')), { minLength: 1, maxLength: 5 }),
      }),
    }));
    type Tree = string | { flow: boolean; entries: Array<[string, Tree]> };
    const flow = (t: Tree): string =>
      typeof t === 'string' ? t : `{ ${t.entries.map(([k, v]) => `${k}: ${flow(v)}`).join(', ')} }`;
    const block = (t: { flow: boolean; entries: Array<[string, Tree]> }, indent: string): string =>
      t.entries
        .map(([k, v]) =>
          typeof v === 'string' || v.flow
            ? `${indent}${k}: ${flow(v)}\n`
            : `${indent}${k}:\n${block(v, `${indent}  `)}`,
        )
        .join('');
    fc.assert(
      fc.property(tree.map, (t) => {
        const text = block(t as { flow: boolean; entries: Array<[string, Tree]> }, '');
        expect(ours(text)).toEqual(parserDuplicates(text));
      }),
      { numRuns: 300 },
    );
  });
});
