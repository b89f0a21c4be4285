/**
 * Pass 2 of config validation, the structure: a walk of the YAML node tree driven by
 * `configSchema` (types, required and unknown keys, enums, patterns, bounds). Strings with an
 * `x-gatehouse-format` go to the format table of `formats.ts`.
 */
import type { Document, Node as YamlNode, Pair, Scalar } from 'yaml';
import { didYouMean } from '../diagnostics.js';
import { Collector, deref, rangeOf, yaml, type PathSeg, type Range } from './collector.js';
import { checkFormat } from './formats.js';
import type { JsonType, SchemaNode } from './schema.js';

const patternCache = new Map<string, RegExp>();
/** Schema patterns compiled once: the walk tests one per gate id. */
function patternRe(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) patternCache.set(pattern, (re = new RegExp(pattern, 'u')));
  return re;
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

/** Check `raw` (at `path`) against `schema`, reporting every problem. */
export function walk(
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
      checkFormat(fmt, value, path, range, c);
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
      checkFormat(fmt, value, path, range, c);
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
