/**
 * Merging a target's keys into a JSON file the user keeps (`turbo.json`, a `package.json`):
 * the target emits only the keys it owns (`EmittedFile.merge`), and the driver replaces those
 * in the file on disk, removes the stale ones, and leaves every other byte of the file as it
 * was (the user's members are copied as text, the indentation and line endings are kept).
 */
import { canonicalJson } from './hash.js';
import { GatehouseError } from './errors.js';
import type { EmittedFile, JsonMerge } from './plugin.js';

interface JsonScalar {
  kind: 'scalar' | 'array';
  start: number;
  end: number;
}
interface JsonObject {
  kind: 'object';
  start: number;
  end: number;
  members: JsonMember[];
}
type JsonNode = JsonScalar | JsonObject;
interface JsonMember {
  key: string;
  keyStart: number;
  value: JsonNode;
}

/** Line and column (1-based) of offset `pos` in `text`. */
function lineCol(text: string, pos: number): { line: number; column: number } {
  const before = text.slice(0, pos).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

class JsonSyntax extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD = /true|false|null/y;

/** A parser that keeps the offsets of every value and object member; plain JSON only. */
function parseSpans(text: string): JsonNode {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
    if (text[i] === '/' && (text[i + 1] === '/' || text[i + 1] === '*'))
      throw new JsonSyntax('a comment', i);
  };
  const str = (): string => {
    const start = i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      i++;
    }
    if (i >= text.length) throw new JsonSyntax('an unterminated string', start);
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      throw new JsonSyntax('an invalid string', start);
    }
  };
  const value = (): JsonNode => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      const members: JsonMember[] = [];
      ws();
      if (text[i] === '}') return { kind: 'object', start, end: ++i, members };
      for (;;) {
        ws();
        if (text[i] !== '"')
          throw new JsonSyntax(
            text[i] === '}' ? 'a trailing comma' : 'a key that is not a string',
            i,
          );
        const keyStart = i;
        const key = str();
        ws();
        if (text[i] !== ':') throw new JsonSyntax('a missing `:`', i);
        i++;
        members.push({ key, keyStart, value: value() });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return { kind: 'object', start, end: ++i, members };
        throw new JsonSyntax('a missing `,` or `}`', i);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return { kind: 'array', start, end: ++i };
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          if (text[i] === ']') throw new JsonSyntax('a trailing comma', i);
          continue;
        }
        if (text[i] === ']') return { kind: 'array', start, end: ++i };
        throw new JsonSyntax('a missing `,` or `]`', i);
      }
    }
    if (c === '"') {
      str();
      return { kind: 'scalar', start, end: i };
    }
    for (const re of [NUMBER, WORD]) {
      re.lastIndex = i;
      const m = re.exec(text);
      if (m) {
        i += m[0].length;
        return { kind: 'scalar', start, end: i };
      }
    }
    throw new JsonSyntax(i >= text.length ? 'an unexpected end' : 'an unexpected character', i);
  };
  const root = value();
  ws();
  if (i < text.length) throw new JsonSyntax('text after the end of the document', i);
  return root;
}

/** A file's text split into what the merge keeps around it: BOM, line endings. */
interface Framed {
  bom: string;
  crlf: boolean;
  body: string;
}
function frame(text: string): Framed {
  const bom = text.startsWith('\ufeff') ? '\ufeff' : '';
  const rest = text.slice(bom.length);
  const crlf = rest.includes('\r\n');
  return { bom, crlf, body: crlf ? rest.replace(/\r\n/g, '\n') : rest };
}

function parseFile(path: string, body: string): JsonObject {
  let root: JsonNode;
  try {
    root = parseSpans(body);
    JSON.parse(body);
  } catch (err) {
    const pos = err instanceof JsonSyntax ? err.pos : 0;
    const what = err instanceof JsonSyntax ? err.message : (err as Error).message;
    const { line, column } = lineCol(body, pos);
    const message = `cannot merge into \`${path}\`: it is not plain JSON (${what} at ${line}:${column})`;
    throw new GatehouseError('GH_TARGET_MERGE', message, {
      diagnostics: [
        {
          code: 'GH_TARGET_MERGE',
          severity: 'error',
          message,
          path: '',
          loc: { file: path, line, column },
          hint: 'Gatehouse rewrites only its own keys and keeps the rest as written, which it can do only in plain JSON: remove comments and trailing commas',
        },
      ],
    });
  }
  if (root.kind !== 'object')
    throw new GatehouseError('GH_TARGET_MERGE', `cannot merge into \`${path}\`: not a JSON object`);
  return root;
}

/** The indentation unit of a file: that of its first indented line, else two spaces. */
function indentUnit(body: string): string {
  const m = /\n([ \t]+)\S/.exec(body);
  return m ? m[1]! : '  ';
}

/** Leading whitespace of the line that holds offset `pos`. */
function lineIndent(body: string, pos: number): string {
  const start = body.lastIndexOf('\n', pos - 1) + 1;
  return /^[ \t]*/.exec(body.slice(start))![0];
}

function render(value: unknown, indent: string, unit: string): string {
  return JSON.stringify(value, null, unit).replace(/\n/g, `\n${indent}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function emittedDocument(f: EmittedFile): Record<string, unknown> {
  const doc = JSON.parse(f.contents) as unknown;
  if (!isObject(doc))
    throw new GatehouseError(
      'GH_TARGET_EMIT',
      `\`${f.path}\`: a merged file must be a JSON object`,
    );
  return doc;
}

/** The object at `path` in a parsed document (`{}` when absent). */
function objectAt(doc: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  let at: unknown = doc;
  for (const seg of path) at = isObject(at) && Object.hasOwn(at, seg) ? at[seg] : undefined;
  return isObject(at) ? at : {};
}

/** Replace the owned keys of one object of `body` (created when absent); returns the new body. */
function mergeOne(
  file: string,
  body: string,
  owns: JsonMerge['owns'][number],
  want: Record<string, unknown>,
  unit: string,
): string {
  let node: JsonObject = parseFile(file, body);
  let depth = 0;
  for (; depth < owns.object.length; depth++) {
    const seg = owns.object[depth]!;
    const m = node.members.find((x) => x.key === seg);
    if (!m) break;
    if (m.value.kind !== 'object')
      throw new GatehouseError(
        'GH_TARGET_MERGE',
        `cannot merge into \`${file}\`: \`${owns.object.slice(0, depth + 1).join('.')}\` is not an object`,
      );
    node = m.value;
  }
  // The part of the path that does not exist yet becomes one new member holding the keys.
  const missing = owns.object.slice(depth);
  if (missing.length > 0 && Object.keys(want).length === 0) return body;
  let members: Array<{ text: string } | { key: string; value: unknown }>;
  if (missing.length === 0) {
    members = [
      ...node.members
        .filter((m) => !owns.keys.test(m.key) && !Object.hasOwn(want, m.key))
        .map((m) => ({ text: body.slice(m.keyStart, m.value.end) })),
      ...Object.entries(want).map(([key, value]) => ({ key, value })),
    ];
  } else {
    let value: unknown = want;
    for (const seg of [...missing.slice(1)].reverse()) value = { [seg]: value };
    members = [
      ...node.members.map((m) => ({ text: body.slice(m.keyStart, m.value.end) })),
      { key: missing[0]!, value },
    ];
  }
  const closing = lineIndent(body, node.start);
  const first = node.members[0];
  const indent =
    first && body.slice(node.start, first.keyStart).includes('\n')
      ? lineIndent(body, first.keyStart)
      : closing + unit;
  const text =
    members.length === 0
      ? '{}'
      : `{\n${members
          .map((m) =>
            'text' in m
              ? `${indent}${m.text}`
              : `${indent}${JSON.stringify(m.key)}: ${render(m.value, indent, unit)}`,
          )
          .join(',\n')}\n${closing}}`;
  return body.slice(0, node.start) + text + body.slice(node.end);
}

/**
 * The text of `f` (an emitted file with `merge`) merged into `current`, the file on disk, or
 * `f.contents` when there is none and the target allows creating it. Throws `GH_TARGET_MERGE`
 * (located at the offending character) when the file is not plain JSON, and when it is
 * missing and `merge.ifMissing` is `error`.
 */
export function mergeJsonFile(f: EmittedFile, current: string | null): string {
  const merge = f.merge!;
  if (current === null) {
    if (merge.ifMissing === 'error')
      throw new GatehouseError(
        'GH_TARGET_MERGE',
        `cannot merge into \`${f.path}\`: the file does not exist`,
        { hint: 'Gatehouse adds its keys to this file but does not create it' },
      );
    return f.contents;
  }
  const doc = emittedDocument(f);
  const { bom, crlf, body } = frame(current);
  const unit = indentUnit(body);
  let out = body;
  for (const owns of merge.owns)
    out = mergeOne(f.path, out, owns, objectAt(doc, owns.object), unit);
  return bom + (crlf ? out.replace(/\n/g, '\r\n') : out);
}

/**
 * The owned keys of `f` that differ between `current` (the file on disk) and what compile
 * would write, each as a line such as `tasks["web#gatehouse:lint"] differs`; empty when the
 * owned keys agree (whatever the rest of the file or the order of keys).
 */
export function jsonMergeDrift(f: EmittedFile, current: string): string[] {
  const { body } = frame(current);
  parseFile(f.path, body);
  const disk = JSON.parse(body) as Record<string, unknown>;
  const doc = emittedDocument(f);
  const out: string[] = [];
  for (const owns of f.merge!.owns) {
    const want = objectAt(doc, owns.object);
    const have = objectAt(disk, owns.object);
    const at = (k: string) => `${owns.object.join('.')}[${JSON.stringify(k)}]`;
    for (const [k, v] of Object.entries(want)) {
      if (!Object.hasOwn(have, k)) out.push(`${at(k)} is missing`);
      else if (canonicalJson(have[k]) !== canonicalJson(v)) out.push(`${at(k)} differs`);
    }
    for (const k of Object.keys(have))
      if (owns.keys.test(k) && !Object.hasOwn(want, k)) out.push(`${at(k)} is stale`);
  }
  return out;
}
