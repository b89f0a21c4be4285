/**
 * Pass 3 of config validation, the semantics: what a schema cannot say. Each rule is a
 * named function over the parsed value; {@link SEMANTIC_RULES} runs them in order, and
 * each reports every problem it finds (diagnostics are sorted by location afterwards).
 */
import { findCycle } from '../dag.js';
import { didYouMean, formatPath } from '../diagnostics.js';
import { isPlainObject } from '../object.js';
import type { GateKindPreset } from '../plugin.js';
import type { Collector, PathSeg, Range } from './collector.js';
import { POLICY_KEYS_BY_KIND } from './presets.js';
import { GATE_ID_PATTERN } from './schema.js';

const GATE_ID_RE = new RegExp(GATE_ID_PATTERN);
const KIND_NAME_RE = /^[a-z][a-z0-9-]*$/;
// Env names that usually hold credentials.
const CREDENTIAL_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_KEY|CREDENTIAL)/;

/** What every rule reads: the config as parsed, its gates, and where paths are written. */
export interface RuleContext {
  /** The whole config (a mapping: the structural pass reported anything else). */
  value: Record<string, unknown>;
  /** `gates:` by id; entries that are not mappings were reported by the structural pass. */
  gates: Record<string, unknown>;
  ids: string[];
  presets: Record<string, GateKindPreset>;
  c: Collector;
  /** Where the value at `path` is written (else its key). */
  at(path: PathSeg[]): Range | null;
  /** Where the key of `path` is written (else its value). */
  keyAt(path: PathSeg[]): Range | null;
}

/** A semantic rule: reports its problems through `ctx.c`. */
export type SemanticRule = (ctx: RuleContext) => void;

function eachGate(ctx: RuleContext, fn: (id: string, gate: Record<string, unknown>) => void): void {
  for (const id of ctx.ids) {
    const g = ctx.gates[id];
    if (isPlainObject(g)) fn(id, g);
  }
}

/** A gate `kind` that no preset (built in or from a plugin) defines. */
export function knownKinds(ctx: RuleContext): void {
  const kinds = Object.keys(ctx.presets);
  eachGate(ctx, (id, g) => {
    if (typeof g.kind !== 'string') return;
    const named = KIND_NAME_RE.test(g.kind);
    if (named && ctx.presets[g.kind]) return;
    const p = ['gates', id, 'kind'];
    ctx.c.report('GH_UNKNOWN_KIND', p, ctx.at(p), `unknown gate kind \`${g.kind}\``, {
      hint:
        didYouMean(g.kind, kinds) ??
        `known kinds: ${kinds.join(', ')}${named ? ' (a plugin may add more)' : ''}`,
    });
  });
}

/** The edges of `needs` that name another existing gate, with their index in the list. */
function needEdges(ctx: RuleContext): Array<{ from: string; to: string; index: number }> {
  const ids = new Set(ctx.ids);
  const edges: Array<{ from: string; to: string; index: number }> = [];
  eachGate(ctx, (id, g) => {
    if (!Array.isArray(g.needs)) return;
    g.needs.forEach((n, index) => {
      if (typeof n === 'string' && GATE_ID_RE.test(n) && n !== id && ids.has(n))
        edges.push({ from: id, to: n, index });
    });
  });
  return edges;
}

/** A `needs` entry naming the gate itself, or no gate. */
export function needsNameGates(ctx: RuleContext): void {
  const ids = new Set(ctx.ids);
  eachGate(ctx, (id, g) => {
    if (!Array.isArray(g.needs)) return;
    g.needs.forEach((raw, i) => {
      if (typeof raw !== 'string') return;
      // `^build`: the named gate must exist; `packageNeeds` checks the rest.
      const n = raw.startsWith('^') ? raw.slice(1) : raw;
      if (!GATE_ID_RE.test(n)) return;
      const p = ['gates', id, 'needs', i];
      if (n === raw && n === id) {
        ctx.c.report('GH_SELF_NEED', p, ctx.at(p), `gate \`${id}\` needs itself`, {
          hint: 'remove it from `needs`',
        });
      } else if (!ids.has(n)) {
        ctx.c.report('GH_UNKNOWN_GATE', p, ctx.at(p), `unknown gate \`${n}\``, {
          hint:
            didYouMean(
              n,
              ctx.ids.filter((x) => x !== id),
            ) ?? `gates are: ${ctx.ids.join(', ')}`,
        });
      }
    });
  });
}

const isPackageGate = (g: unknown): boolean => isPlainObject(g) && isPlainObject(g.packages);

/** A gate without `run`, unless `packages.script` gives its default. */
export function gateHasRun(ctx: RuleContext): void {
  eachGate(ctx, (id, g) => {
    if (g.run !== undefined) return;
    if (isPlainObject(g.packages) && typeof g.packages.script === 'string') return;
    const p = ['gates', id, 'run'];
    ctx.c.report('GH_MISSING_FIELD', p, ctx.keyAt(['gates', id]), 'missing required field `run`', {
      hint: 'add `run: <command>` (or `packages: { script: <name> }` to run a package script)',
    });
  });
}

/** `^gate` needs: only in a gate of `packages`, naming a gate of `packages`. */
export function packageNeeds(ctx: RuleContext): void {
  eachGate(ctx, (id, g) => {
    if (!Array.isArray(g.needs)) return;
    g.needs.forEach((raw, i) => {
      if (typeof raw !== 'string' || !raw.startsWith('^')) return;
      const n = raw.slice(1);
      if (!GATE_ID_RE.test(n) || !ctx.ids.includes(n)) return;
      const p = ['gates', id, 'needs', i];
      if (!isPackageGate(g))
        ctx.c.report(
          'GH_PACKAGE_NEED',
          p,
          ctx.at(p),
          `\`${raw}\` means the \`${n}\` of the workspace dependencies, but \`${id}\` is not a gate of \`packages\``,
          { hint: `write \`${n}\`, or add \`packages:\` to \`gates.${id}\`` },
        );
      else if (!isPackageGate(ctx.gates[n]))
        ctx.c.report(
          'GH_PACKAGE_NEED',
          p,
          ctx.at(p),
          `\`${raw}\` names \`${n}\`, which is not a gate of \`packages\``,
          { hint: `write \`${n}\`, or add \`packages:\` to \`gates.${n}\`` },
        );
    });
  });
}

/** A policy key a gate of this kind never measures (a warning: it is ignored). */
export function policyFitsKind(ctx: RuleContext): void {
  eachGate(ctx, (id, g) => {
    const kind = typeof g.kind === 'string' ? g.kind : 'custom';
    if (!isPlainObject(g.policy) || !ctx.presets[kind]) return;
    const allowed = POLICY_KEYS_BY_KIND[kind];
    if (!allowed) return;
    for (const key of Object.keys(g.policy)) {
      if (!POLICY_KEYS_BY_KIND.custom!.includes(key) || allowed.includes(key)) continue;
      const p = ['gates', id, 'policy', key];
      ctx.c.report(
        'GH_POLICY_NOT_FOR_KIND',
        p,
        ctx.keyAt(p),
        `\`${key}\` is never measured for \`${kind}\` gates and is ignored`,
        {
          hint:
            allowed.length > 0
              ? `\`${kind}\` gates use: ${allowed.join(', ')}`
              : `\`${kind}\` gates have no policy`,
        },
      );
    }
  });
}

/** A plain env value under a credential-like name (it would be written into files and images). */
export function noCredentialsInEnv(ctx: RuleContext): void {
  const { value, gates } = ctx;
  const envMaps: Array<[PathSeg[], unknown]> = [
    [['setup', 'env'], isPlainObject(value.setup) ? value.setup.env : undefined],
    [['release', 'env'], isPlainObject(value.release) ? value.release.env : undefined],
    ...ctx.ids.map((id): [PathSeg[], unknown] => [
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
      ctx.c.report(
        'GH_SECRET_IN_ENV',
        p,
        ctx.at(p),
        `\`${name}\` looks like a credential but is a plain env value, written into generated files and images`,
        {
          hint: `list \`${name}\` under \`secrets:\` and pass its value in the environment at run time`,
          mask: true,
        },
      );
    }
  }
}

/** Every distinct cycle of `needs`: find one, drop one of its edges, look again. */
export function noCycles(ctx: RuleContext): void {
  const live = needEdges(ctx);
  for (let guard = 0; guard < 50; guard++) {
    const needs = new Map<string, string[]>();
    for (const e of live) {
      const list = needs.get(e.from);
      if (list) list.push(e.to);
      else needs.set(e.from, [e.to]);
    }
    const cycle = findCycle(ctx.ids.map((id) => ({ id, needs: needs.get(id) ?? [] })));
    if (!cycle) break;
    const [from, to] = [cycle[0]!, cycle[1]!];
    const edge = live.find((e) => e.from === from && e.to === to)!;
    const p = ['gates', from, 'needs', edge.index];
    ctx.c.report('GH_CYCLE', p, ctx.at(p), `the gates form a cycle: ${cycle.join(' -> ')}`, {
      hint: `remove one of these needs (e.g. \`${to}\` from \`gates.${from}.needs\`)`,
    });
    live.splice(live.indexOf(edge), 1);
  }
}

/** `release.from` names a gate. */
export function releaseFromGate(ctx: RuleContext): void {
  const release = ctx.value.release;
  if (!isPlainObject(release) || typeof release.from !== 'string') return;
  const from = release.from;
  if (!GATE_ID_RE.test(from) || ctx.ids.includes(from)) return;
  // With package gates, `from` may name an expanded gate (`web-build`): checked after expansion.
  if (Object.values(ctx.gates).some(isPackageGate)) return;
  const p = ['release', 'from'];
  ctx.c.report('GH_UNKNOWN_GATE', p, ctx.at(p), `release is built from unknown gate \`${from}\``, {
    hint: didYouMean(from, ctx.ids) ?? `gates are: ${ctx.ids.join(', ')}`,
  });
}

/**
 * `release.deploy: true` needs a gate of `packages:` to deploy; with package gates, which
 * gate `from` names is known after expansion (`packages.ts` checks it there).
 */
export function releaseDeployNeedsPackages(ctx: RuleContext): void {
  const release = ctx.value.release;
  if (!isPlainObject(release) || release.deploy !== true) return;
  if (Object.values(ctx.gates).some(isPackageGate)) return;
  const p = ['release', 'deploy'];
  ctx.c.report(
    'GH_RELEASE_DEPLOY',
    p,
    ctx.at(p),
    '`release.deploy` makes the image of a workspace package, but no gate is declared for `packages:`',
    { hint: 'remove `deploy`: the image gets `release.copy` from the `from` gate' },
  );
}

/** The semantic rules, in the order they run. */
export const SEMANTIC_RULES: readonly SemanticRule[] = [
  knownKinds,
  gateHasRun,
  needsNameGates,
  packageNeeds,
  policyFitsKind,
  noCredentialsInEnv,
  noCycles,
  releaseFromGate,
  releaseDeployNeedsPackages,
];

/** Run every rule over a parsed config. */
export function checkSemantics(
  value: unknown,
  c: Collector,
  presets: Record<string, GateKindPreset>,
): void {
  // The structural pass already reported a document that is not a mapping.
  if (!isPlainObject(value)) return;
  const gates = isPlainObject(value.gates) ? value.gates : {};
  const range = (path: PathSeg[], key: boolean): Range | null => {
    const r = c.ranges.get(formatPath(path));
    return r ? (key ? (r.key ?? r.value) : (r.value ?? r.key)) : null;
  };
  const ctx: RuleContext = {
    value,
    gates,
    ids: Object.keys(gates),
    presets,
    c,
    at: (p) => range(p, false),
    keyAt: (p) => range(p, true),
  };
  for (const rule of SEMANTIC_RULES) rule(ctx);
}
