/**
 * Config validation: bytes -> YAML document -> every problem at once, each located.
 *
 * Three passes, all collecting (never stopping at the first problem):
 * 1. encoding: UTF-8, NUL, BOM, empty file;
 * 2. structure: a walk of the YAML node tree driven by `configSchema`;
 * 3. semantics: what a schema cannot say (gate references, cycles, kinds, policies).
 */
import { createRequire } from 'node:module';
import { posix } from 'node:path';
import type { Document, Node as YamlNode, Pair, Scalar } from 'yaml';
import {
  DIAGNOSTIC_CODES,
  codeFrame,
  didYouMean,
  formatPath,
  type DiagnosticCode,
} from '../diagnostics.js';
import { findCycle } from '../dag.js';
import type { Diagnostic, SourceLocation } from '../errors.js';
import type { GateKindPreset } from '../plugin.js';
import {
  configSchema,
  ENV_NAME_PATTERN,
  GATE_ID_PATTERN,
  RESERVED_NAME_PREFIXES,
  type JsonType,
  type SchemaNode,
} from './schema.js';
import { POLICY_KEYS_BY_KIND } from './presets.js';

type YamlLib = typeof import('yaml');
let yamlLib: YamlLib | null = null;
/**
 * The `yaml` package, loaded on the first parse rather than with this module: a run that
 * reuses a cached pipeline never parses, and loading `yaml` costs more than the rest of core.
 * `require` keeps the parse synchronous (the package's Node entry point is CommonJS anyway).
 */
function yaml(): YamlLib {
  return (yamlLib ??= createRequire(import.meta.url)('yaml') as YamlLib);
}

/** True once the `yaml` package has been loaded by this module (for tests). @internal */
export function yamlLoaded(): boolean {
  return yamlLib !== null;
}

type PathSeg = string | number;
type Range = { start: number; end: number };

/** Finds where a config path is written. */
import type { Locate } from '../locator.js';
import { isPlainObject } from '../object.js';
export type { Locate };

/** Result of {@link validateSource}. */
export interface SourceValidation {
  diagnostics: Diagnostic[];
  /** The parsed value when the YAML could be read (even if it has semantic errors). */
  value: unknown;
  /** Text after decoding (BOM removed), for code frames. */
  text: string;
  locate: Locate;
}

const MAX_TIMEOUT_MS = 24 * 3_600_000;
/**
 * The largest config Gatehouse reads: 1 MiB. Real configs are a few KiB; the cap keeps a
 * wrong `--config` (a build artefact, a log) from costing minutes and gigabytes to parse.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * Stage names of the generated Dockerfile (the Docker layout contract): `FROM <name>` with one
 * of them means that stage, not an image. BuildKit matches stage names case-insensitively;
 * a reference with a tag, a digest or a registry path is never a stage name.
 */
const STAGE_NAME_IMAGE =
  /^(?:base|setup|release|gatehouse-results|gatehouse-verdict|(?:gate|result)-[a-z0-9._-]*)$/i;
const isStageName = (image: string): boolean => STAGE_NAME_IMAGE.test(image);
const GATE_ID_RE = new RegExp(GATE_ID_PATTERN);
const ENV_NAME_RE = new RegExp(ENV_NAME_PATTERN);
const patternCache = new Map<string, RegExp>();
/** Schema patterns compiled once: the walk tests one per gate id. */
function patternRe(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) patternCache.set(pattern, (re = new RegExp(pattern, 'u')));
  return re;
}
// Env names that usually hold credentials.
const CREDENTIAL_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|CREDENTIAL)/;

class Collector {
  readonly diagnostics: Diagnostic[] = [];
  readonly lineCounter: InstanceType<YamlLib['LineCounter']> = new (yaml().LineCounter)();
  readonly ranges = new Map<string, { key: Range | null; value: Range | null }>();
  /** Secret values written where names belong: never shown in frames. */
  readonly masks: Range[] = [];
  private readonly pending: Array<{ d: Diagnostic; range: Range }> = [];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  loc(range: Range | null): SourceLocation | null {
    if (!range) return null;
    const s = this.lineCounter.linePos(range.start);
    const e = this.lineCounter.linePos(Math.max(range.start, range.end));
    return { file: this.file, line: s.line, column: s.col, endLine: e.line, endColumn: e.col };
  }

  report(
    code: DiagnosticCode,
    path: readonly PathSeg[] | string,
    range: Range | null,
    message: string,
    extra: { hint?: string | undefined; mask?: boolean } = {},
  ): void {
    const loc = this.loc(range);
    const d: Diagnostic = {
      code,
      severity: DIAGNOSTIC_CODES[code].severity,
      message,
      path: typeof path === 'string' ? path : formatPath(path),
      loc,
    };
    if (extra.hint) d.hint = extra.hint;
    if (extra.mask && range) this.masks.push(range);
    if (loc && range) this.pending.push({ d, range });
    this.diagnostics.push(d);
  }

  /** Add code frames once every secret value to hide is known. */
  finish(): Diagnostic[] {
    for (const { d } of this.pending)
      if (d.loc) d.frame = codeFrame(this.text, d.loc, { masks: this.masks });
    this.pending.length = 0;
    return this.diagnostics;
  }

  locate: Locate = (path, at = 'value') => {
    let p = path;
    for (;;) {
      const r = this.ranges.get(p);
      if (r) return this.loc(at === 'key' ? (r.key ?? r.value) : (r.value ?? r.key));
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0)
        return this.ranges.size > 0 || this.text.length > 0
          ? { file: this.file, line: 1, column: 1 }
          : null;
      p = p.slice(0, cut);
    }
  };
}

function rangeOf(
  node: { range?: [number, number, number] | null } | null | undefined,
): Range | null {
  return node?.range ? { start: node.range[0], end: node.range[1] } : null;
}

/** First offset of an invalid UTF-8 sequence, or -1. */
function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let n = 0;
    let min = 0;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    if (i + n >= bytes.length) return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Validate config bytes. `file` is used in locations only. `presets` are the gate kinds
 * known (built in plus plugins).
 */
export function validateSource(
  bytes: Uint8Array,
  file: string,
  presets: Record<string, GateKindPreset>,
): SourceValidation {
  return checkSource(parseSource(bytes, file), presets);
}

/**
 * A config parsed but not yet checked against the schema: `value` is the plain data when
 * the YAML could be read, so a caller can look at `plugins:` before the gate kinds are known.
 */
export interface ParsedSource {
  value: unknown;
  /** Set when parsing already failed: the final result, whatever the presets. */
  done: SourceValidation | null;
  /** @internal */
  readonly state: {
    c: Collector;
    doc: Document | null;
    text: string;
    /** Scalar problems found while scanning, reported only once the document is read. */
    scalarProblems: Array<() => void>;
  };
}

/** The first half of {@link validateSource}: decoding, YAML parsing, duplicate keys. */
export function parseSource(bytes: Uint8Array, file: string): ParsedSource {
  const stop = (v: SourceValidation, c: Collector | null = null): ParsedSource => ({
    value: undefined,
    done: v,
    state: { c: c ?? new Collector(file, v.text), doc: null, text: v.text, scalarProblems: [] },
  });
  if (bytes.length > MAX_CONFIG_BYTES) {
    const d: Diagnostic = {
      code: 'GH_CONFIG_TOO_LARGE',
      severity: 'error',
      message: `the file is ${bytes.length} bytes; a config may be at most 1 MiB (${MAX_CONFIG_BYTES} bytes)`,
      path: '',
      loc: { file, line: 1, column: 1 },
    };
    return stop({ diagnostics: [d], value: undefined, text: '', locate: () => null });
  }
  const bad = invalidUtf8Offset(bytes);
  if (bad >= 0) {
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, bad));
    const lines = before.split('\n');
    const loc: SourceLocation = {
      file,
      line: lines.length,
      column: (lines[lines.length - 1]?.length ?? 0) + 1,
    };
    const d: Diagnostic = {
      code: 'GH_NOT_UTF8',
      severity: 'error',
      message: `byte 0x${bytes[bad]!.toString(16).padStart(2, '0')} at offset ${bad} is not valid UTF-8`,
      path: '',
      loc,
      hint: 'save the file as UTF-8',
    };
    return stop({ diagnostics: [d], value: undefined, text: '', locate: () => null });
  }
  let text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  const pre: Diagnostic[] = [];
  if (text.startsWith('\ufeff')) {
    text = text.slice(1);
    pre.push({
      code: 'GH_BOM',
      severity: 'warning',
      message: 'the file starts with a UTF-8 byte order mark; it is ignored',
      path: '',
      loc: { file, line: 1, column: 1 },
      hint: 'save the file as UTF-8 without BOM',
    });
  }
  const c = new Collector(file, text);
  c.diagnostics.push(...pre);

  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    // The YAML parser treats NUL unpredictably; stop here.
    c.lineCounter.addNewLine(0);
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') c.lineCounter.addNewLine(i + 1);
    c.report('GH_NUL_BYTE', [], { start: nul, end: nul + 1 }, 'the file contains a NUL character', {
      hint: 'remove it; NUL cannot be passed to a shell or a CI file',
    });
    return stop({ diagnostics: c.finish(), value: undefined, text, locate: c.locate }, c);
  }

  if (text.replace(/#[^\n]*/g, '').trim() === '') {
    c.report('GH_EMPTY_CONFIG', [], null, 'the config file is empty', {
      hint: 'start with `version: 1`, `name:` and `gates:` (or run `gatehouse init`)',
    });
    c.diagnostics[c.diagnostics.length - 1]!.loc = { file, line: 1, column: 1 };
    return stop({ diagnostics: c.finish(), value: undefined, text, locate: c.locate }, c);
  }

  // The parser's own duplicate-key check compares each key with every earlier key of its
  // map (quadratic in the number of gates); `duplicateKeys` does it with a Set instead. A
  // document with syntax errors is parsed again with the parser's check, so broken files
  // keep exactly the parser's diagnostics.
  const options = { prettyErrors: false, version: '1.2', strict: true } as const;
  let doc = yaml().parseDocument(text, {
    ...options,
    lineCounter: c.lineCounter,
    uniqueKeys: false,
  });
  let scalarProblems: Array<() => void> = [];
  if (doc.errors.length > 0) {
    c.lineCounter.lineStarts.length = 0;
    doc = yaml().parseDocument(text, { ...options, lineCounter: c.lineCounter, uniqueKeys: true });
  } else {
    scalarProblems = scanNodes(doc, c);
  }
  let fatal = false;
  for (const e of doc.errors) {
    const code: DiagnosticCode = e.code === 'DUPLICATE_KEY' ? 'GH_DUPLICATE_KEY' : 'GH_YAML_SYNTAX';
    if (code === 'GH_YAML_SYNTAX') fatal = true;
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    c.report(
      code,
      [],
      { start: e.pos[0], end: e.pos[1] },
      code === 'GH_DUPLICATE_KEY' ? DUPLICATE_KEY_MESSAGE : msg,
      {
        hint: code === 'GH_DUPLICATE_KEY' ? DUPLICATE_KEY_HINT : undefined,
      },
    );
  }
  for (const w of doc.warnings) {
    c.report('GH_YAML_WARNING', [], { start: w.pos[0], end: w.pos[1] }, w.message.split('\n')[0]!);
  }
  if (fatal) return stop({ diagnostics: c.finish(), value: undefined, text, locate: c.locate }, c);

  // toJS enforces the alias expansion limit; the walks below follow aliases too, so they
  // only run once the document is known to be small when expanded.
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    c.report(
      'GH_YAML_SYNTAX',
      [],
      { start: 0, end: 0 },
      `cannot read the document: ${(err as Error).message}`,
      {
        hint: 'use fewer aliases (`*name`); at most 100 alias expansions are allowed',
      },
    );
    return stop({ diagnostics: c.finish(), value: undefined, text, locate: c.locate }, c);
  }
  return { value, done: null, state: { c, doc, text, scalarProblems } };
}

/** The second half of {@link validateSource}: schema walk and semantic checks. */
export function checkSource(
  parsed: ParsedSource,
  presets: Record<string, GateKindPreset>,
): SourceValidation {
  if (parsed.done) return parsed.done;
  const { c, text } = parsed.state;
  const doc = parsed.state.doc!;
  const value = parsed.value;
  recordRanges(doc, doc.contents as YamlNode | null, [], null, c);
  for (const report of parsed.state.scalarProblems) report();
  walk(doc, doc.contents as YamlNode | null, configSchema, [], null, c);
  semantic(value, c, presets);
  return { diagnostics: c.finish(), value, text, locate: c.locate };
}

/**
 * One pass over the node tree: reports `GH_DUPLICATE_KEY` for every scalar key seen earlier
 * in its mapping (where the parser would), and returns the NUL / lone-surrogate problems
 * of scalars, to report once the document is known to be readable.
 */
function scanNodes(doc: Document, c: Collector): Array<() => void> {
  const later: Array<() => void> = [];
  yaml().visit(doc, {
    Map(_key, node) {
      if (node.items.length < 2) return;
      const seen = new Set<unknown>();
      for (const pair of node.items as Pair[]) {
        const k = pair.key;
        if (!yaml().isScalar(k)) continue;
        // The parser compares with ===, under which NaN never repeats.
        if (seen.has(k.value) && !Number.isNaN(k.value)) {
          const start = k.range?.[0] ?? 0;
          c.report('GH_DUPLICATE_KEY', [], { start, end: start + 1 }, DUPLICATE_KEY_MESSAGE, {
            hint: DUPLICATE_KEY_HINT,
          });
        } else seen.add(k.value);
      }
    },
    Scalar(_key, node: Scalar) {
      if (typeof node.value !== 'string') return;
      const v = node.value;
      if (v.includes('\u0000') || LONE_SURROGATE.test(v))
        later.push(() => checkStringNode(node, c));
    },
  });
  return later;
}

const DUPLICATE_KEY_MESSAGE = 'duplicate key: the same key appears twice in this mapping';
const DUPLICATE_KEY_HINT = 'remove or rename one of them';

function deref(doc: Document, node: unknown): YamlNode | null {
  if (yaml().isAlias(node)) return (node.resolve(doc) as YamlNode | undefined) ?? null;
  return (node as YamlNode | null) ?? null;
}

function recordRanges(
  doc: Document,
  raw: unknown,
  path: PathSeg[],
  keyRange: Range | null,
  c: Collector,
  depth = 0,
): void {
  const node = deref(doc, raw);
  c.ranges.set(formatPath(path), { key: keyRange, value: rangeOf(raw as YamlNode) });
  if (depth > 64 || !node) return;
  if (yaml().isMap(node)) {
    for (const pair of node.items as Pair[]) {
      const k = deref(doc, pair.key);
      if (!yaml().isScalar(k)) continue;
      recordRanges(doc, pair.value, [...path, String(k.value)], rangeOf(k), c, depth + 1);
    }
  } else if (yaml().isSeq(node)) {
    node.items.forEach((item, i) => recordRanges(doc, item, [...path, i], null, c, depth + 1));
  }
}

function checkStringNode(node: Scalar, c: Collector): void {
  const v = node.value as string;
  const r = rangeOf(node);
  if (v.includes('\u0000')) {
    c.report('GH_NUL_BYTE', [], r, 'a value contains a NUL character (`\\0` escape)', {
      hint: 'remove it; NUL cannot be passed to a shell or a CI file',
    });
  }
  if (LONE_SURROGATE.test(v)) {
    c.report('GH_LONE_SURROGATE', [], r, 'a value contains an unpaired UTF-16 surrogate', {
      hint: 'use a complete character, e.g. `\\U0001F600`, not half of a surrogate pair',
    });
  }
}

function jsTypeOf(node: YamlNode | null): JsonType | 'unknown' {
  if (node === null) return 'null';
  if (yaml().isMap(node)) return 'object';
  if (yaml().isSeq(node)) return 'array';
  if (yaml().isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return 'string';
    if (typeof v === 'boolean') return 'boolean';
    if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
    if (typeof v === 'bigint') return 'integer';
  }
  return 'unknown';
}

const TYPE_WORD: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  null: 'nothing (null)',
  unknown: 'an unsupported value',
};

function typesOf(schema: SchemaNode): JsonType[] {
  if (schema.type) return Array.isArray(schema.type) ? schema.type : [schema.type];
  if (schema.anyOf) return schema.anyOf.flatMap(typesOf);
  return [];
}

function typeMatches(actual: JsonType | 'unknown', allowed: JsonType[]): boolean {
  if (allowed.length === 0) return true;
  if (actual === 'unknown') return false;
  return allowed.includes(actual) || (actual === 'integer' && allowed.includes('number'));
}

function walk(
  doc: Document,
  raw: unknown,
  schema: SchemaNode,
  path: PathSeg[],
  keyRange: Range | null,
  c: Collector,
): void {
  const node = deref(doc, raw);
  const range = rangeOf(raw as YamlNode) ?? keyRange;
  const actual = jsTypeOf(node);
  const allowed = typesOf(schema);
  const last = path[path.length - 1];

  if (schema['x-gatehouse-format'] === 'secret-name' && actual !== 'string') {
    secretAsValue(doc, node, path, range, c);
    return;
  }
  if (!typeMatches(actual, allowed)) {
    const expected = allowed.map((t) => TYPE_WORD[t]).join(' or ');
    if (actual === 'null' && allowed.length > 0) {
      c.report(
        'GH_EMPTY_VALUE',
        path,
        keyRange ?? range,
        `\`${String(last ?? 'document')}\` is empty: expected ${expected}`,
      );
      return;
    }
    const code =
      schema['x-gatehouse-code'] === 'GH_INVALID_TIMEOUT' ? 'GH_INVALID_TIMEOUT' : 'GH_WRONG_TYPE';
    let hint: string | undefined;
    if (allowed.includes('array') && actual === 'string') {
      hint =
        last === 'cmd'
          ? 'write the command in exec form, one argument per item: `[node, server.js]`'
          : 'write a list: `[item]` or one `- item` per line';
    } else if (
      allowed.includes('string') &&
      (actual === 'integer' || actual === 'number' || actual === 'boolean')
    ) {
      hint = 'quote the value to make it a string';
    }
    // A scalar where the secret list belongs is most likely a secret value: never show it.
    const mask = last === 'secrets' && actual !== 'object';
    c.report(code, path, range, `expected ${expected}, got ${TYPE_WORD[actual]}`, { hint, mask });
    return;
  }
  if (schema.anyOf) {
    const branch = schema.anyOf.find((b) => typeMatches(actual, typesOf(b)));
    if (branch)
      walk(
        doc,
        raw,
        { ...branch, 'x-gatehouse-code': branch['x-gatehouse-code'] ?? schema['x-gatehouse-code'] },
        path,
        keyRange,
        c,
      );
    return;
  }

  if (yaml().isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items as Pair[]) {
      const k = deref(doc, pair.key);
      const kRange = rangeOf(k);
      if (!yaml().isScalar(k) || (typeof k.value !== 'string' && typeof k.value !== 'number')) {
        c.report('GH_WRONG_TYPE', path, kRange ?? range, 'keys must be plain strings');
        continue;
      }
      const key = String(k.value);
      seen.add(key);
      const sub = [...path, key];
      const prop = schema.properties?.[key];
      if (prop) {
        walk(doc, pair.value, prop, sub, kRange, c);
        continue;
      }
      if (schema.additionalProperties === false) {
        const known = Object.keys(schema.properties ?? {});
        c.report('GH_UNKNOWN_KEY', sub, kRange, `unknown key \`${key}\``, {
          hint: didYouMean(key, known) ?? `allowed keys: ${known.join(', ')}`,
        });
        continue;
      }
      if (schema.propertyNames) checkKey(key, schema.propertyNames, sub, kRange, c);
      if (typeof schema.additionalProperties === 'object')
        walk(doc, pair.value, schema.additionalProperties, sub, kRange, c);
    }
    for (const req of schema.required ?? []) {
      if (!seen.has(req)) {
        const where = path.length === 0 ? { start: 0, end: 0 } : (keyRange ?? range);
        c.report('GH_MISSING_FIELD', [...path, req], where, `missing required field \`${req}\``, {
          hint: requiredHint(req),
        });
      }
    }
    if (schema.minProperties !== undefined && node.items.length < schema.minProperties) {
      c.report(
        'GH_EMPTY_VALUE',
        path,
        keyRange ?? range,
        `\`${String(last)}\` needs at least ${schema.minProperties} entry`,
      );
    }
    return;
  }
  if (yaml().isSeq(node)) {
    if (schema.minItems !== undefined && node.items.length < schema.minItems) {
      c.report(
        'GH_EMPTY_VALUE',
        path,
        range,
        `\`${String(last)}\` needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`,
        {
          hint: last === 'cmd' ? 'e.g. `cmd: [node, dist/server.js]`' : undefined,
        },
      );
    }
    if (schema.items)
      node.items.forEach((item, i) => walk(doc, item, schema.items!, [...path, i], null, c));
    return;
  }
  if (yaml().isScalar(node)) checkScalar(node.value, schema, path, range, c);
}

function requiredHint(field: string): string | undefined {
  switch (field) {
    case 'version':
      return 'add `version: 1` at the top';
    case 'name':
      return 'add `name: <your project>`';
    case 'gates':
      return 'add `gates:` with at least one gate';
    case 'run':
      return 'add `run: <shell command>`';
    default:
      return undefined;
  }
}

function checkKey(
  key: string,
  schema: SchemaNode,
  path: PathSeg[],
  range: Range | null,
  c: Collector,
): void {
  checkScalar(key, schema, path, range, c);
}

function checkScalar(
  value: unknown,
  schema: SchemaNode,
  path: PathSeg[],
  range: Range | null,
  c: Collector,
): void {
  const fmt = schema['x-gatehouse-format'];
  const code = schema['x-gatehouse-code'];
  if (typeof value === 'string') {
    if (fmt) {
      formatCheck(fmt, value, path, range, c);
      return;
    }
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      c.report(
        'GH_EMPTY_VALUE',
        path,
        range,
        `\`${String(path[path.length - 1])}\` must not be empty`,
      );
      return;
    }
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      c.report('GH_INVALID_VALUE', path, range, `longer than ${schema.maxLength} characters`);
      return;
    }
    if (schema.enum && !schema.enum.includes(value)) {
      const options = schema.enum.map(String);
      c.report(code ?? 'GH_INVALID_VALUE', path, range, `unknown value \`${value}\``, {
        hint: didYouMean(value, options) ?? `one of: ${options.join(', ')}`,
      });
      return;
    }
    if (schema.pattern && !patternRe(schema.pattern).test(value)) {
      c.report(
        code ?? 'GH_INVALID_VALUE',
        path,
        range,
        `\`${value}\` does not match \`${schema.pattern}\``,
      );
    }
    return;
  }
  if (typeof value === 'number') {
    if (fmt === 'duration') {
      formatCheck(fmt, value, path, range, c);
      return;
    }
    if (schema.enum && !schema.enum.includes(value)) {
      c.report(code ?? 'GH_INVALID_VALUE', path, range, `unsupported value \`${value}\``, {
        hint: `one of: ${schema.enum.map(String).join(', ')}`,
      });
      return;
    }
    const tooLow =
      (schema.minimum !== undefined && value < schema.minimum) ||
      (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum);
    const tooHigh = schema.maximum !== undefined && value > schema.maximum;
    if (tooLow || tooHigh) {
      const bounds = [
        schema.minimum !== undefined
          ? `>= ${schema.minimum}`
          : schema.exclusiveMinimum !== undefined
            ? `> ${schema.exclusiveMinimum}`
            : null,
        schema.maximum !== undefined ? `<= ${schema.maximum}` : null,
      ].filter(Boolean);
      c.report(
        code ?? 'GH_INVALID_VALUE',
        path,
        range,
        `${value} is out of range (must be ${bounds.join(' and ')})`,
      );
    }
  }
}

function isReserved(name: string): boolean {
  return RESERVED_NAME_PREFIXES.some((p) => name.startsWith(p));
}

function looksLikeSecretValue(s: string): boolean {
  if (s.includes('=')) return true;
  if (ENV_NAME_RE.test(s)) return false;
  // Tokens: long, mixed letters and digits, or characters no variable name has.
  return s.length >= 16 && /\d/.test(s) && /[A-Za-z]/.test(s);
}

function formatCheck(
  fmt: string,
  value: string | number,
  path: PathSeg[],
  range: Range | null,
  c: Collector,
): void {
  const s = String(value);
  switch (fmt) {
    case 'gate-id':
      if (!GATE_ID_RE.test(s)) {
        const fixed = s
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, '-')
          .replace(/^[^a-z]+/, '')
          .slice(0, 63);
        c.report(
          'GH_INVALID_ID',
          path,
          range,
          `invalid gate id \`${s}\`: use lowercase letters, digits and \`-\`, starting with a letter, at most 63 characters`,
          {
            hint: fixed && fixed !== s ? `e.g. \`${fixed}\`` : undefined,
          },
        );
      }
      return;
    case 'env-name':
    case 'secret-name': {
      const what = fmt === 'env-name' ? 'env variable' : 'secret';
      if (fmt === 'secret-name' && looksLikeSecretValue(s)) {
        const eq = s.indexOf('=');
        const name = eq > 0 ? s.slice(0, eq) : null;
        c.report(
          'GH_SECRET_VALUE',
          path,
          range,
          'this looks like a secret value; `secrets` lists names only',
          {
            hint: `${name ? `write \`${name}\` and ` : 'write the variable name and '}pass the value in the environment at run time (never in the config)`,
            mask: true,
          },
        );
        return;
      }
      if (!ENV_NAME_RE.test(s)) {
        const fixed = s
          .toUpperCase()
          .replace(/[^A-Z0-9_]/g, '_')
          .replace(/^[0-9]/, '_$&');
        c.report(
          fmt === 'env-name' ? 'GH_INVALID_ENV_NAME' : 'GH_INVALID_SECRET_NAME',
          path,
          range,
          `invalid ${what} name \`${s}\`: use \`A-Z\`, \`0-9\` and \`_\`, not starting with a digit`,
          {
            hint: fixed ? `e.g. \`${fixed}\`` : undefined,
          },
        );
        return;
      }
      if (isReserved(s)) {
        c.report(
          'GH_RESERVED_NAME',
          path,
          range,
          `${what} name \`${s}\` uses a prefix reserved by a CI system (${RESERVED_NAME_PREFIXES.join(', ')})`,
          {
            hint: 'pick another name, e.g. without the prefix',
          },
        );
      }
      return;
    }
    case 'duration': {
      let ms = NaN;
      if (typeof value === 'number') ms = value > 0 ? value * 1000 : NaN;
      else {
        const m = /^([0-9]+)(ms|s|m|h)$/.exec(value);
        if (m)
          ms =
            Number(m[1]) *
            { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
      }
      if (!(ms > 0)) {
        c.report('GH_INVALID_TIMEOUT', path, range, `invalid timeout \`${s}\``, {
          hint: 'use `90s`, `10m`, `1h`, `500ms` or a positive number of seconds',
        });
      } else if (ms > MAX_TIMEOUT_MS) {
        c.report('GH_INVALID_TIMEOUT', path, range, `timeout \`${s}\` is longer than 24h`);
      }
      return;
    }
    case 'image': {
      if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(s)) {
        c.report('GH_INVALID_VALUE', path, range, `invalid image reference \`${s}\``, {
          hint: 'e.g. `node:22-bookworm-slim` or `registry.example.com/team/node@sha256:…`',
        });
        return;
      }
      if (isStageName(s)) {
        c.report(
          'GH_IMAGE_STAGE_NAME',
          path,
          range,
          `image \`${s}\` is the name of a stage of the generated Dockerfile: \`FROM ${s}\` would start from that stage, not from an image`,
          {
            hint: 'name the image with a tag or its registry path (e.g. `docker.io/library/base:1.0`)',
          },
        );
        return;
      }
      if (s.includes('@sha256:')) return;
      const lastPart = s.slice(s.lastIndexOf('/') + 1);
      const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : null;
      if (tag === null || tag === 'latest') {
        c.report(
          'GH_IMAGE_UNPINNED',
          path,
          range,
          `image \`${s}\` ${tag === null ? 'has no tag' : 'uses `latest`'}: builds are not reproducible`,
          {
            hint: 'pin a version tag (e.g. `node:22-bookworm-slim`) or a digest',
          },
        );
      }
      return;
    }
    case 'relative-glob': {
      const g = s.startsWith('!') ? s.slice(1) : s;
      if (g.length === 0) {
        c.report('GH_EMPTY_VALUE', path, range, 'empty path');
        return;
      }
      const norm = posix.normalize(g.replace(/\\/g, '/'));
      if (
        g.startsWith('/') ||
        g.startsWith('\\') ||
        /^[A-Za-z]:/.test(g) ||
        g.startsWith('~') ||
        norm === '..' ||
        norm.startsWith('../')
      ) {
        c.report('GH_PATH_ESCAPES_ROOT', path, range, `\`${s}\` is outside the config directory`, {
          hint: 'paths are relative to the directory of gatehouse.yml and stay inside it',
        });
      }
      return;
    }
    case 'evidence-path': {
      const parts = s.split(/[\\/]/);
      if (s.startsWith('/') || s.startsWith('\\') || /^[A-Za-z]:/.test(s) || parts.includes('..')) {
        c.report(
          'GH_EVIDENCE_PATH',
          path,
          range,
          `evidence path \`${s}\` must be relative to \`$GATEHOUSE_OUT\`, without \`..\``,
          {
            hint: 'e.g. `path: junit.xml` for `$GATEHOUSE_OUT/junit.xml`',
          },
        );
      }
      return;
    }
    case 'absolute-path': {
      if (!s.startsWith('/') || s.split('/').includes('..') || /[\s"'\\$]/.test(s)) {
        c.report(
          'GH_INVALID_VALUE',
          path,
          range,
          `\`${s}\` must be an absolute container path without \`..\`, spaces or quotes`,
          {
            hint: 'e.g. `/app`',
          },
        );
      }
      return;
    }
  }
}

function secretAsValue(
  doc: Document,
  node: YamlNode | null,
  path: PathSeg[],
  range: Range | null,
  c: Collector,
): void {
  if (yaml().isMap(node)) {
    const names = (node.items as Pair[])
      .map((p) => deref(doc, p.key))
      .filter((k): k is Scalar => yaml().isScalar(k))
      .map((k) => String(k.value));
    c.report(
      'GH_SECRET_VALUE',
      path,
      range,
      'a secret was given with a value; `secrets` lists names only',
      {
        hint: `write \`- ${names[0] ?? 'NAME'}\` and pass the value in the environment at run time (never in the config)`,
        mask: true,
      },
    );
    return;
  }
  c.report(
    'GH_WRONG_TYPE',
    path,
    range,
    `expected a secret name (a string), got ${TYPE_WORD[jsTypeOf(node)]}`,
  );
}

// ---------------------------------------------------------------------------
// Semantics
// ---------------------------------------------------------------------------

function semantic(value: unknown, c: Collector, presets: Record<string, GateKindPreset>): void {
  // The structural pass already reported a document that is not a mapping.
  if (!isPlainObject(value)) return;
  const gates = isPlainObject(value.gates) ? value.gates : {};
  const ids = Object.keys(gates);
  const idSet = new Set(ids);
  const at = (path: PathSeg[]): Range | null => {
    const r = c.ranges.get(formatPath(path));
    return r ? (r.value ?? r.key) : null;
  };
  const keyAt = (path: PathSeg[]): Range | null => {
    const r = c.ranges.get(formatPath(path));
    return r ? (r.key ?? r.value) : null;
  };
  const kinds = Object.keys(presets);
  const edges: Array<{ from: string; to: string; index: number }> = [];

  for (const id of ids) {
    const g = gates[id];
    if (!isPlainObject(g)) continue;
    const kind = typeof g.kind === 'string' ? g.kind : 'custom';
    if (typeof g.kind === 'string' && /^[a-z][a-z0-9-]*$/.test(g.kind) && !presets[g.kind]) {
      c.report(
        'GH_UNKNOWN_KIND',
        ['gates', id, 'kind'],
        at(['gates', id, 'kind']),
        `unknown gate kind \`${g.kind}\``,
        {
          hint:
            didYouMean(g.kind, kinds) ?? `known kinds: ${kinds.join(', ')} (a plugin may add more)`,
        },
      );
    } else if (typeof g.kind === 'string' && !/^[a-z][a-z0-9-]*$/.test(g.kind)) {
      c.report(
        'GH_UNKNOWN_KIND',
        ['gates', id, 'kind'],
        at(['gates', id, 'kind']),
        `unknown gate kind \`${g.kind}\``,
        {
          hint: didYouMean(g.kind, kinds) ?? `known kinds: ${kinds.join(', ')}`,
        },
      );
    }
    if (Array.isArray(g.needs)) {
      g.needs.forEach((n, i) => {
        if (typeof n !== 'string' || !GATE_ID_RE.test(n)) return;
        const p = ['gates', id, 'needs', i];
        if (n === id) {
          c.report('GH_SELF_NEED', p, at(p), `gate \`${id}\` needs itself`, {
            hint: 'remove it from `needs`',
          });
        } else if (!idSet.has(n)) {
          c.report('GH_UNKNOWN_GATE', p, at(p), `unknown gate \`${n}\``, {
            hint:
              didYouMean(
                n,
                ids.filter((x) => x !== id),
              ) ?? `gates are: ${ids.join(', ')}`,
          });
        } else {
          edges.push({ from: id, to: n, index: i });
        }
      });
    }
    if (isPlainObject(g.policy) && presets[kind]) {
      const allowed = POLICY_KEYS_BY_KIND[kind];
      if (allowed) {
        for (const key of Object.keys(g.policy)) {
          if (POLICY_KEYS_BY_KIND.custom!.includes(key) && !allowed.includes(key)) {
            const p = ['gates', id, 'policy', key];
            c.report(
              'GH_POLICY_NOT_FOR_KIND',
              p,
              keyAt(p),
              `\`${key}\` is never measured for \`${kind}\` gates and is ignored`,
              {
                hint:
                  allowed.length > 0
                    ? `\`${kind}\` gates use: ${allowed.join(', ')}`
                    : `\`${kind}\` gates have no policy`,
              },
            );
          }
        }
      }
    }
  }

  const envMaps: Array<[PathSeg[], unknown]> = [
    [['setup', 'env'], isPlainObject(value.setup) ? value.setup.env : undefined],
    [['release', 'env'], isPlainObject(value.release) ? value.release.env : undefined],
    ...ids.map((id): [PathSeg[], unknown] => [
      ['gates', id, 'env'],
      isPlainObject(gates[id]) ? (gates[id] as Record<string, unknown>).env : undefined,
    ]),
  ];
  for (const [base, env] of envMaps) {
    if (!isPlainObject(env)) continue;
    for (const [name, v] of Object.entries(env)) {
      if (typeof v !== 'string' || v === '' || v.startsWith('$') || !CREDENTIAL_NAME.test(name))
        continue;
      const p = [...base, name];
      c.report(
        'GH_SECRET_IN_ENV',
        p,
        at(p),
        `\`${name}\` looks like a credential but is a plain env value, written into generated files and images`,
        {
          hint: `list \`${name}\` under \`secrets:\` and pass its value in the environment at run time`,
          mask: true,
        },
      );
    }
  }

  // Report every distinct cycle: find one, drop one of its edges, look again.
  const live = [...edges];
  for (let guard = 0; guard < 50; guard++) {
    const needs = new Map<string, string[]>();
    for (const e of live) {
      const list = needs.get(e.from);
      if (list) list.push(e.to);
      else needs.set(e.from, [e.to]);
    }
    const nodes = ids.map((id) => ({ id, needs: needs.get(id) ?? [] }));
    const cycle = findCycle(nodes);
    if (!cycle) break;
    const [from, to] = [cycle[0]!, cycle[1]!];
    const edge = live.find((e) => e.from === from && e.to === to)!;
    const p = ['gates', from, 'needs', edge.index];
    c.report('GH_CYCLE', p, at(p), `the gates form a cycle: ${cycle.join(' -> ')}`, {
      hint: `remove one of these needs (e.g. \`${to}\` from \`gates.${from}.needs\`)`,
    });
    live.splice(live.indexOf(edge), 1);
  }

  if (
    isPlainObject(value.release) &&
    typeof value.release.from === 'string' &&
    GATE_ID_RE.test(value.release.from)
  ) {
    const from = value.release.from;
    if (!idSet.has(from)) {
      c.report(
        'GH_UNKNOWN_GATE',
        ['release', 'from'],
        at(['release', 'from']),
        `release is built from unknown gate \`${from}\``,
        {
          hint: didYouMean(from, ids) ?? `gates are: ${ids.join(', ')}`,
        },
      );
    }
  }
}
