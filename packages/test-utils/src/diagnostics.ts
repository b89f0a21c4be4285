import { isGatehouseError } from '@gatehouse-ci/core';

/**
 * Run `fn`, which must throw a `GatehouseError`, and return its diagnostics as
 * `"<code> <path>"` lines (in the order reported). Throws when `fn` returns or throws
 * anything else, so a test using it cannot pass by accident.
 */
export function diagnosticsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (!isGatehouseError(err)) throw err;
    return err.diagnostics.map((d) => `${d.code} ${d.path}`);
  }
  throw new Error('expected a GatehouseError, but nothing was thrown');
}

/** Run `fn` with `vars` set in `process.env`, restoring the previous values afterwards. */
export function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
