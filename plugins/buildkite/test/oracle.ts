import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';

const schema = JSON.parse(
  readFileSync(new URL('../schema/pipeline.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addSchema(schema, 'buildkite');
const validatePipeline = ajv.getSchema('buildkite')!;

const STEP_DEFINITIONS: Array<[string, (step: Record<string, unknown>) => boolean]> = [
  ['commandStep', (s) => 'command' in s || 'commands' in s || 'plugins' in s],
  ['waitStep', (s) => 'wait' in s || 'waiter' in s],
  ['blockStep', (s) => 'block' in s],
  ['inputStep', (s) => 'input' in s],
  ['triggerStep', (s) => 'trigger' in s],
  ['groupStep', (s) => 'group' in s],
];

function describe(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? []).map(
    (e) =>
      `${where}${e.instancePath} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}

/**
 * Judge a `pipeline.yml` the way Buildkite would before running it: YAML without duplicate keys,
 * the official JSON Schema (each step against its own definition, for readable errors), and the
 * graph rules the schema cannot express: unique step keys, `depends_on` naming existing steps, no cycles.
 * Returns the problems; empty means accepted.
 */
export function judgePipeline(text: string): string[] {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return doc.errors.map((e) => `yaml: ${e.message}`);
  const value = doc.toJS() as unknown;
  const problems: string[] = [];
  if (!validatePipeline(value)) problems.push(...describe(validatePipeline.errors, 'pipeline'));
  const steps = (value as { steps?: unknown })?.steps;
  if (!Array.isArray(steps))
    return problems.length > 0 ? problems : ['pipeline: `steps` must be a list'];

  const keys = new Map<string, number>();
  const edges: Array<[string, string, number]> = [];
  steps.forEach((raw, i) => {
    if (typeof raw !== 'object' || raw === null) return;
    const step = raw as Record<string, unknown>;
    const kind = STEP_DEFINITIONS.find(([, test]) => test(step));
    if (!kind) problems.push(`steps[${i}]: unknown step type`);
    else {
      const check = ajv.getSchema(`buildkite#/definitions/${kind[0]}`)!;
      if (!check(step)) problems.push(...describe(check.errors, `steps[${i}] (${kind[0]})`));
    }
    const key = step.key ?? step.identifier ?? step.id;
    if (typeof key === 'string') {
      if (keys.has(key))
        problems.push(`steps[${i}]: duplicate key \`${key}\` (also steps[${keys.get(key)}])`);
      else keys.set(key, i);
      const deps = step.depends_on;
      const list = deps === undefined || deps === null ? [] : Array.isArray(deps) ? deps : [deps];
      for (const d of list) {
        const target = typeof d === 'string' ? d : (d as { step?: unknown })?.step;
        if (typeof target === 'string') edges.push([key, target, i]);
      }
    }
  });
  for (const [from, to, i] of edges) {
    if (!keys.has(to)) problems.push(`steps[${i}]: depends_on \`${to}\`, which no step has as key`);
    if (from === to) problems.push(`steps[${i}]: depends on itself`);
  }
  const cycle = findCycle(edges);
  if (cycle) problems.push(`depends_on cycle: ${cycle.join(' -> ')}`);
  return problems;
}

function findCycle(edges: Array<[string, string, number]>): string[] | null {
  const next = new Map<string, string[]>();
  for (const [from, to] of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const n of next.get(node) ?? []) {
      const found = visit(n);
      if (found) return found;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of next.keys()) {
    const found = visit(node);
    if (found) return found;
  }
  return null;
}

/**
 * What `buildkite-agent pipeline upload` does to a value: `\\` stays, `\$` and `$$` become `$`,
 * `$(` stays, `$NAME` / `${NAME}` (and `${NAME:-…}` forms) are replaced from `env`, a lone
 * trailing `$` stays. Throws where the agent would fail (e.g. `$1`), and, without `env`, at any
 * substitution at all (what Gatehouse emits must never be substituted).
 * Modelled on buildkite/interpolate's grammar.
 */
export function interpolate(text: string, env?: Record<string, string>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('\\\\', i)) {
      out += '\\\\';
      i += 2;
    } else if (text.startsWith('\\$', i) || text.startsWith('$$', i)) {
      out += '$';
      i += 2;
    } else if (text.startsWith('$(', i)) {
      out += '$(';
      i += 2;
    } else if (text[i] === '$' && i < text.length - 1) {
      const braced = text[i + 1] === '{';
      const start = i + (braced ? 2 : 1);
      const m = /^\p{L}[\p{L}\p{N}_]*/u.exec(text.slice(start));
      if (!m) throw new Error(`interpolation error: expected identifier at ${start}`);
      let end = start + m[0].length;
      if (braced) {
        const close = text.indexOf('}', end);
        if (close < 0) throw new Error('interpolation error: unterminated ${');
        end = close + 1;
      }
      if (!env) throw new Error(`interpolation would substitute $${m[0]} at ${i}`);
      out += env[m[0]] ?? '';
      i = end;
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

/** Apply {@link interpolate} to every string value of a parsed pipeline (keys are not interpolated). */
export function interpolateAll<T>(value: T, env?: Record<string, string>): T {
  if (typeof value === 'string') return interpolate(value, env) as T;
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]),
    ) as T;
  }
  return value;
}
