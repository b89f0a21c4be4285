import {
  GatehouseError,
  type Diagnostic,
  type ResolvedGate,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';

/** Variables a gate never inherits from the caller: Gatehouse sets its own. */
const RESERVED_PREFIX = 'GATEHOUSE_';

/** Every secret name declared anywhere in the pipeline. */
export function allSecretNames(pipeline: ResolvedPipeline): Set<string> {
  const names = new Set<string>(pipeline.setup?.secrets ?? []);
  for (const g of pipeline.gates) for (const s of g.secrets) names.add(s);
  return names;
}

/**
 * The caller's environment without any declared secret (a gate sees only its own) and
 * without `GATEHOUSE_*` (set per gate).
 */
export function baseEnv(
  env: Record<string, string | undefined>,
  secretNames: Set<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || secretNames.has(k) || k.startsWith(RESERVED_PREFIX)) continue;
    out[k] = v;
  }
  return out;
}

/** Values of the given secrets (non-empty ones), for redaction. */
export function secretValues(
  names: Iterable<string>,
  env: Record<string, string | undefined>,
): string[] {
  const values: string[] = [];
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') values.push(v);
  }
  return values;
}

/**
 * Throws one `GH_SECRETS_MISSING` error listing every (gate, secret) pair whose value is
 * absent or empty, so a run never starts with half of what it needs.
 */
export function checkSecrets(
  gates: readonly ResolvedGate[],
  setup: ResolvedPipeline['setup'],
  env: Record<string, string | undefined>,
): void {
  const diagnostics: Diagnostic[] = [];
  const check = (owner: string, path: string, names: readonly string[]) => {
    names.forEach((name, i) => {
      if (env[name] === undefined || env[name] === '') {
        diagnostics.push({
          code: 'GH_SECRET_MISSING',
          severity: 'error',
          message: `${owner} needs secret ${name}, which is not set`,
          path: `${path}.secrets[${i}]`,
          loc: null,
          hint: `export ${name}=… before running`,
        });
      }
    });
  };
  if (setup) check('setup', 'setup', setup.secrets);
  for (const g of gates) check(`gate ${g.id}`, `gates.${g.id}`, g.secrets);
  if (diagnostics.length > 0) {
    const list = diagnostics.map((d) => `  - ${d.message}`).join('\n');
    throw new GatehouseError('GH_SECRETS_MISSING', `missing secrets, nothing was run:\n${list}`, {
      diagnostics,
      hint: 'secrets are read from the environment by name',
    });
  }
}
