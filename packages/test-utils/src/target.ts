/**
 * A target as the compile driver runs it: options resolved once, then `emit` with the
 * resolved value. For tests that emit one target without a config file.
 */
import {
  GatehouseError,
  resolveTargetOptions,
  type EmittedFile,
  type ResolvedPipeline,
  type TargetContext,
  type TargetDefinition,
  type TargetOptions,
} from '@gatehouse-ci/core';

/** The default context: version `0.0.0-test`, config `gatehouse.yml`. */
export const TEST_TARGET_CONTEXT: TargetContext = {
  gatehouseVersion: '0.0.0-test',
  configFile: 'gatehouse.yml',
};

/**
 * Resolve `raw` with the target's `resolveOptions` and emit. Throws `GH_TARGET_OPTIONS`
 * with the option diagnostics (paths under `targets.<name>`) when any is an error, as
 * `compileTargets` would report them.
 */
export function emitTarget<O>(
  target: TargetDefinition<O>,
  pipeline: ResolvedPipeline,
  raw: TargetOptions = {},
  ctx: TargetContext = TEST_TARGET_CONTEXT,
  name = 'target',
): EmittedFile[] {
  const { value, diagnostics } = resolveTargetOptions(target, name, raw);
  if (diagnostics.some((d) => d.severity === 'error'))
    throw new GatehouseError('GH_TARGET_OPTIONS', `invalid options: ${diagnostics[0]!.message}`, {
      diagnostics,
    });
  return target.emit(pipeline, value, ctx);
}
