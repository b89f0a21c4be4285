/**
 * Pass 1 of config validation, the source: size, UTF-8, BOM, NUL, empty file, YAML syntax
 * and duplicate keys, then the map from config paths to where they are written.
 */
import type { Document, Node as YamlNode, Pair, Scalar } from 'yaml';
import { formatPath, type DiagnosticCode } from '../diagnostics.js';
import type { Diagnostic, SourceLocation } from '../errors.js';
import type { Locate } from '../locator.js';
import { Collector, deref, rangeOf, yaml, type PathSeg, type Range } from './collector.js';

/** Result of a validation: every problem, the value, and where each path is written. */
export interface SourceValidation {
  diagnostics: Diagnostic[];
  /** The parsed value when the YAML could be read (even if it has semantic errors). */
  value: unknown;
  /** Text after decoding (BOM removed), for code frames. */
  text: string;
  locate: Locate;
  /** The workspace package of each gate expanded from a gate of `packages:`. */
  packages?: Record<string, import('../model.js').GatePackage>;
  /** The workspace package the release image is made of (`release.deploy`). */
  release?: import('../model.js').ReleasePackage;
  /** The presets of `extends`, in the order read (a config with `extends` only). */
  presets?: import('../model.js').ResolvedPreset[];
  /** The config merged with its presets, before gates of `packages` expand. */
  merged?: Record<string, unknown>;
  /** The presets alone, merged, without the config's own keys (for drift). */
  presetBase?: Record<string, unknown>;
  /** Absolute real path of the workspace root, when an input still names it (`//…`). */
  workspaceRoot?: string;
}

/**
 * The largest config Gatehouse reads: 1 MiB. Real configs are a few KiB; the cap keeps a
 * wrong `--config` (a build artefact, a log) from costing minutes and gigabytes to parse.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;
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

/** The first half of validation: decoding, YAML parsing, duplicate keys. */
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

/** Record where every config path (key and value) is written. */
export function recordRanges(
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
