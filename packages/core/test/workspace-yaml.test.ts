/** The YAML-free reading of `pnpm-workspace.yaml` against the YAML parser. */
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { simplePackageList } from '../src/workspace.js';

/** What the YAML parser makes of the file's `packages`. */
function byYaml(text: string): unknown {
  try {
    const v = parse(text) as { packages?: unknown } | null;
    return v?.packages ?? null;
  } catch {
    return 'error';
  }
}

const piece = fc.constantFrom(
  'packages',
  'apps',
  '*',
  '**',
  '/',
  '.',
  '-',
  '_',
  '@',
  '!',
  '#',
  ' ',
  "'",
  '"',
  ':',
  '\\',
  'x',
  'web',
  '{a,b}',
  '\t',
);
const word = fc.array(piece, { minLength: 1, maxLength: 6 }).map((a) => a.join(''));
const item = fc
  .tuple(
    fc.constantFrom('  ', '  ', '    ', ' ', '\t', ''),
    fc.constantFrom('', "'", '"'),
    word,
    fc.constantFrom('', ' # note', '  #x', '#y', ' '),
  )
  .map(([ind, q, w, c]) => `${ind}- ${q}${w}${q}${c}`);
const line = fc.oneof(
  { weight: 6, arbitrary: item },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', '# c', '  # c', 'packages:', 'catalog:', '---', '  x: y'),
  },
);
const doc = fc
  .tuple(
    fc.constantFrom('packages:\n', 'packages:  \n', '# top\npackages:\n', ''),
    fc.array(line, { maxLength: 6 }),
    fc.constantFrom('\n', '\r\n'),
  )
  .map(([head, lines, nl]) => (head + lines.join('\n') + '\n').replace(/\n/g, nl));

describe('simplePackageList', () => {
  it('reads what YAML reads, or leaves the file to YAML', () => {
    let read = 0;
    fc.assert(
      fc.property(doc, (text) => {
        const fast = simplePackageList(text);
        if (fast === null) return;
        read++;
        const full = byYaml(text);
        expect(fast).toEqual(full === null ? [] : full);
      }),
      { numRuns: 3000 },
    );
    // The generator makes both kinds: files read here, and files left to YAML.
    expect(read).toBeGreaterThan(300);
  });

  it('reads the usual forms and leaves others to YAML', () => {
    expect(
      simplePackageList('packages:\n  - \'packages/*\'\n  - apps/**\n  - "!**/test/**"\n'),
    ).toEqual(['packages/*', 'apps/**', '!**/test/**']);
    expect(simplePackageList('packages:\n  - a\n    - b\n')).toBeNull();
    expect(simplePackageList('packages: [a, b]\n')).toBeNull();
    expect(simplePackageList('packages:\n  - a\nonlyBuiltDependencies:\n  - esbuild\n')).toBeNull();
    expect(simplePackageList('catalog:\n  react: ^19\n')).toBeNull();
  });
});
