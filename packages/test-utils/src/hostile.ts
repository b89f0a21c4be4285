import fc from 'fast-check';

/**
 * Fragments that break naive emitters: quoting and escaping characters, interpolation
 * syntaxes of every target (shell, GitHub expressions, Buildkite, Groovy), YAML keywords
 * and indicators, heredoc markers, line and paragraph separators, BOM, bidi controls
 * (U+202E) and zero-width characters (U+200B), astral characters.
 */
export const HOSTILE_FRAGMENTS: readonly string[] = [
  '"',
  "'",
  '\\',
  '\\\\',
  '`',
  '$',
  '$1',
  '$?',
  '$@',
  '$$',
  '$HOME',
  '${HOME}',
  '${{ secrets.TOKEN }}',
  '${{',
  '}}',
  '$(id)',
  "'''",
  '"""',
  '<<EOF',
  'EOF',
  '\n',
  '\r\n',
  '\r',
  '\t',
  '\u0085',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\u202e',
  '\u200b',
  '\u007f',
  '\u0001',
  '\u001b[31m',
  '\u00a0',
  '😀',
  '\u{10ffff}',
  ': ',
  ' #',
  '# ',
  '- ',
  '? ',
  '*a',
  '&a',
  '!tag',
  '!!str',
  '%YAML',
  '@',
  '|',
  '>',
  '{',
  '}',
  '[',
  ']',
  ',',
  '---',
  '...',
  'on',
  'yes',
  'no',
  'off',
  'y',
  'N',
  '~',
  'null',
  'true',
  '0777',
  '0x1F',
  '12:30',
  '1.10',
  '1e3',
  '.inf',
  '::set-output name=x::y',
  '::stop-commands::',
  '\\$',
  '\\\\$',
  '\\${x}',
];

/**
 * Strings made of hostile fragments and arbitrary printable text. Never produces NUL or lone
 * surrogates (configs refuse those before any emitter sees them).
 */
export function hostileString(
  options: { minLength?: number; maxLength?: number } = {},
): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_FRAGMENTS) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
  );
  return fc
    .array(piece, { minLength: options.minLength ?? 0, maxLength: options.maxLength ?? 8 })
    .map((parts) => parts.join('').replace(/\u0000/g, ''))
    .filter((s) => s.length >= (options.minLength ?? 0) && !/[\uD800-\uDFFF]/u.test(s));
}
