/**
 * Writes an `InitPlan` as commented YAML. The layout (blank lines, comments, block vs flow)
 * is ours; every scalar goes through `yamlScalar`, so the text parses back to exactly
 * `plan.config`.
 */
import { stringify } from 'yaml';
import type { InitPlan } from './plan.js';

/**
 * First line of the written file: lets editors using yaml-language-server validate it. The
 * CLI package ships the schema, and it is the project's direct devDependency, so this path
 * exists under npm's, pnpm's and yarn's layouts alike.
 */
export const SCHEMA_COMMENT =
  '# yaml-language-server: $schema=./node_modules/gatehouse-ci/schema/gatehouse.schema.json';

/** Printable ASCII without leading/trailing blanks: safe to hand to the YAML library's plain/quoted choice. */
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Characters that end or split a plain scalar inside a flow collection. */
const FLOW_UNSAFE = /[[\]{},:#"']/;

/** Characters some YAML parsers treat as line breaks or strip, plus DEL and C1 controls. */
const ESCAPE_EXTRA = /[\x7f-\x9f\u2028\u2029\ufeff]/g;

/**
 * One scalar as YAML text on a single line. Printable ASCII is left to the `yaml` library
 * (plain when unambiguous, quoted otherwise, also for YAML 1.1 readers: `on`, `0777`);
 * anything else is double-quoted with every control, line separator and BOM escaped.
 * `inFlow`: the scalar goes inside a flow collection, where `,[]{}` and `:` matter too.
 */
export function yamlScalar(value: string | number | boolean | null, inFlow = false): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot write ${value} as a YAML number`);
    return String(value);
  }
  // The library picks plain style for block context; inside `[…]`/`{…}` these characters end a plain scalar.
  if (PRINTABLE.test(value) && !(inFlow && FLOW_UNSAFE.test(value))) {
    // Stringified under YAML 1.1 rules so 1.1 keywords get quoted too; the quoting it picks means the same in 1.2.
    return stringify(value, { version: '1.1', lineWidth: 0, blockQuote: false }).trimEnd();
  }
  // A JSON string is a valid YAML double-quoted scalar; YAML adds a few more breaks to escape.
  return JSON.stringify(value).replace(
    ESCAPE_EXTRA,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

function isObject(v: unknown): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value in flow style on one line: `[a, b]`, `{ format: eslint, path: eslint.json }`. */
export function yamlFlow(value: Value, inFlow = false): string {
  if (Array.isArray(value)) return `[${value.map((v) => yamlFlow(v, true)).join(', ')}]`;
  if (isObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return entries.length
      ? `{ ${entries.map(([k, v]) => `${yamlScalar(k, true)}: ${yamlFlow(v, true)}`).join(', ')} }`
      : '{}';
  }
  return yamlScalar(value, inFlow);
}

/** A comment line; user text inside cannot end the comment early. */
function comment(indent: string, text: string): string {
  return `${indent}# ${text.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]/g, ' ')}`.trimEnd();
}

/** `key:` then its entries one level deeper, each non-object value in flow style. */
function block(
  lines: string[],
  indent: string,
  key: string,
  value: Record<string, Value>,
  deeper: (k: string) => boolean,
): void {
  lines.push(`${indent}${yamlScalar(key)}:`);
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (isObject(v) && deeper(k) && Object.keys(v).length)
      block(lines, `${indent}  `, k, v, () => false);
    else lines.push(`${indent}  ${yamlScalar(k)}: ${yamlFlow(v)}`);
  }
}

/** The whole file. */
export function renderInit(plan: InitPlan): string {
  const c = plan.config as unknown as Record<string, Value>;
  const lines: string[] = [
    SCHEMA_COMMENT,
    '# Starter config written by `gatehouse init` from what it found in this project.',
    '# Review it, then run `gatehouse validate` and `gatehouse run`. Reference: docs/config-reference.md',
    `version: ${yamlFlow(c.version!)}`,
    `name: ${yamlFlow(c.name!)}`,
  ];
  if (c.image !== undefined) {
    lines.push(
      '',
      ...plan.comments.image.map((t) => comment('', t)),
      `image: ${yamlFlow(c.image)}`,
    );
  }
  if (isObject(c.setup)) {
    lines.push('', ...plan.comments.setup.map((t) => comment('', t)));
    block(lines, '', 'setup', c.setup, () => false);
  }
  const gates = isObject(c.gates) ? c.gates : {};
  lines.push('');
  lines.push('gates:');
  let first = true;
  for (const [id, gate] of Object.entries(gates)) {
    if (!isObject(gate)) continue;
    if (!first) lines.push('');
    first = false;
    lines.push(...(plan.comments.gates[id] ?? []).map((t) => comment('  ', t)));
    block(lines, '  ', id, gate, (k) => k === 'env');
  }
  if (isObject(c.release)) {
    lines.push('', ...plan.comments.release.map((t) => comment('', t)));
    block(lines, '', 'release', c.release, () => false);
  }
  if (isObject(c.targets)) {
    lines.push('', ...plan.comments.targets.map((t) => comment('', t)));
    block(lines, '', 'targets', c.targets, () => false);
  }
  return `${lines.join('\n')}\n`;
}
