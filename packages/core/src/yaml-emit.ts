/**
 * A small, deliberately strict YAML writer for the CI targets.
 *
 * It writes only what is easy to prove: block mappings and sequences, every string
 * double-quoted with every character a YAML 1.1 or 1.2 parser could reinterpret escaped
 * (and every invisible format character, such as bidi controls and zero-width spaces),
 * no anchors, no aliases, no tags, no block scalars. Keys keep the insertion order of the
 * (typed) object they come from, so the same model always gives the same bytes.
 */

/** A scalar with a trailing `# comment`, e.g. an action pinned to a SHA with its tag. */
export class YamlCommented {
  constructor(
    readonly value: string | number | boolean,
    readonly comment: string,
  ) {}
}

/** A value the writer accepts. `undefined` members of mappings are left out. */
export type YamlValue =
  | string
  | number
  | boolean
  | null
  | YamlCommented
  | readonly YamlValue[]
  | { readonly [key: string]: YamlValue | undefined };

/** Options of {@link stringifyYaml}. */
export interface StringifyYamlOptions {
  /** Comment lines written first, each as `# <line>`. Must be single printable lines. */
  header?: string[];
}

/** Wraps a scalar so it is written with a trailing comment. */
export function yamlCommented(value: string | number | boolean, comment: string): YamlCommented {
  return new YamlCommented(value, comment);
}

// Plain keys must not be read as anything but a string by a YAML 1.1 parser either.
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const YAML11_KEYWORDS = /^(?:y|n|yes|no|on|off|true|false|null)$/i;

/**
 * Serialise `value` as YAML. Throws `TypeError` for values it refuses to write
 * (lone surrogates, non-finite numbers, unprintable comments, non-plain objects).
 */
export function stringifyYaml(value: YamlValue, options: StringifyYamlOptions = {}): string {
  const lines: string[] = [];
  for (const line of options.header ?? []) lines.push(`# ${checkComment(line)}`.trimEnd());
  if (isCollection(value) && !isEmptyCollection(value)) {
    writeBlock(value, 0, lines);
  } else {
    lines.push(scalarOrEmpty(value));
  }
  return `${lines.join('\n')}\n`;
}

/** Quote a string as a YAML double-quoted scalar that every YAML 1.1/1.2 parser reads back unchanged. */
export function quoteYamlString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new TypeError('YAML: lone surrogate in string');
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (isSafeChar(cp)) out += ch;
    else out += escapeChar(cp);
  }
  return `${out}"`;
}

/**
 * Format characters (Unicode category Cf): bidi controls (U+202A–U+202E, U+2066–U+2069,
 * U+200E/U+200F, U+061C), zero-width space and joiners (U+200B–U+200D), the word joiner,
 * the soft hyphen, the BOM and the like. They show as nothing or reorder the text around
 * them, so a reviewer would not see what a parser reads: they are written as escapes.
 */
const FORMAT_CHAR = /^\p{Cf}$/u;

function isSafeChar(cp: number): boolean {
  if (cp >= 0x20 && cp <= 0x7e) return true;
  if (cp >= 0xa0 && cp <= 0xfffd)
    return cp !== 0x2028 && cp !== 0x2029 && !FORMAT_CHAR.test(String.fromCharCode(cp));
  return cp >= 0x10000 && cp <= 0x10ffff && !FORMAT_CHAR.test(String.fromCodePoint(cp));
}

function escapeChar(cp: number): string {
  switch (cp) {
    case 0x09:
      return '\\t';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    default:
      if (cp <= 0xff) return `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`;
      if (cp <= 0xffff) return `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
      return `\\U${cp.toString(16).toUpperCase().padStart(8, '0')}`;
  }
}

function checkComment(text: string): string {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new TypeError('YAML: lone surrogate in comment');
    if (!isSafeChar(cp))
      throw new TypeError(`YAML: unprintable character U+${cp.toString(16)} in comment`);
  }
  return text;
}

function formatKey(key: string): string {
  return PLAIN_KEY.test(key) && !YAML11_KEYWORDS.test(key) ? key : quoteYamlString(key);
}

function formatScalar(value: string | number | boolean | null | YamlCommented): string {
  if (value instanceof YamlCommented)
    return `${formatScalar(value.value)} # ${checkComment(value.comment)}`;
  if (value === null) return 'null';
  if (typeof value === 'string') return quoteYamlString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (!Number.isFinite(value)) throw new TypeError('YAML: non-finite number');
  return Object.is(value, -0) ? '0' : String(value);
}

type Collection = readonly YamlValue[] | { readonly [key: string]: YamlValue | undefined };

function isCollection(value: YamlValue | undefined): value is Collection {
  if (value === null || typeof value !== 'object' || value instanceof YamlCommented) return false;
  if (
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) !== Object.prototype &&
    Object.getPrototypeOf(value) !== null
  ) {
    throw new TypeError('YAML: only plain objects and arrays can be written');
  }
  return true;
}

function entries(value: Collection): Array<[string, YamlValue]> {
  return Object.entries(value).filter((e): e is [string, YamlValue] => e[1] !== undefined);
}

function isEmptyCollection(value: Collection): boolean {
  return Array.isArray(value) ? value.length === 0 : entries(value).length === 0;
}

function scalarOrEmpty(value: YamlValue): string {
  if (isCollection(value)) return Array.isArray(value) ? '[]' : '{}';
  return formatScalar(value as string | number | boolean | null | YamlCommented);
}

function writeBlock(value: Collection, indent: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value as readonly YamlValue[]) {
      if (isCollection(item) && !isEmptyCollection(item)) {
        if (Array.isArray(item)) {
          lines.push(`${pad}-`);
          writeBlock(item, indent + 2, lines);
        } else {
          // The first entry of a mapping shares the dash's line.
          const start = lines.length;
          writeBlock(item, indent + 2, lines);
          lines[start] = `${pad}- ${lines[start]!.slice(indent + 2)}`;
        }
      } else {
        lines.push(`${pad}- ${scalarOrEmpty(item)}`);
      }
    }
    return;
  }
  for (const [key, item] of entries(value)) {
    if (isCollection(item) && !isEmptyCollection(item)) {
      lines.push(`${pad}${formatKey(key)}:`);
      writeBlock(item, indent + 2, lines);
    } else {
      lines.push(`${pad}${formatKey(key)}: ${scalarOrEmpty(item)}`);
    }
  }
}
