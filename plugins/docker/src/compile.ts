/** The one place that knows the Dockerfile target's API: everything a build needs from it. */
import { relative } from 'node:path';
import { GatehouseError, resolveTargetOptions, type ResolvedPipeline } from '@gatehouse-ci/core';
import dockerfilePlugin, {
  CA_SECRET_ID,
  emitDockerfile,
  resolveCaSource,
  RESULTS_STAGE,
  SETUP_STAGE,
  stageName,
} from '@gatehouse-ci/plugin-dockerfile';

export { SETUP_STAGE };

/** Stage name of a gate. */
export function gateOfStage(id: string): string {
  return stageName(id);
}

/** What a build of the pipeline needs. */
export interface CompiledBuild {
  dockerfile: string;
  dockerignore: string;
  /** Generated files the Dockerfile copies (long command scripts), relative to the context. */
  files: Array<{ path: string; contents: string }>;
  resultsStage: string;
  /** Build secrets that are files rather than values from the environment: id -> path. */
  fileSecrets: Map<string, string>;
}

/**
 * Emits the Dockerfile with the project's `targets.dockerfile` options, resolved as `compile`
 * resolves them, and finds the CA bundle to pass. Throws `GH_TARGET_OPTIONS` with the
 * option diagnostics when they are invalid, and `GH_CA_PATH` (at `targets.dockerfile.ca`)
 * when the configured CA file leads out of the project or is not a regular file: it is
 * never read then.
 */
export async function compileForBuild(
  pipeline: ResolvedPipeline,
  env: Record<string, string | undefined>,
): Promise<CompiledBuild> {
  const resolved = resolveTargetOptions(
    dockerfilePlugin.targets.dockerfile,
    'dockerfile',
    pipeline.targets.dockerfile ?? {},
  );
  if (resolved.diagnostics.some((d) => d.severity === 'error'))
    throw new GatehouseError('GH_TARGET_OPTIONS', 'invalid options for the dockerfile target', {
      diagnostics: resolved.diagnostics,
    });
  const options = resolved.value;
  const emitted = emitDockerfile(pipeline, options, {
    configFile: relative(pipeline.rootDir, pipeline.configPath) || 'gatehouse.yml',
  });
  const fileSecrets = new Map<string, string>();
  const ca = await resolveCaSource(options, env, pipeline.rootDir);
  if (ca !== null) fileSecrets.set(CA_SECRET_ID, ca);
  return {
    dockerfile: emitted.dockerfile,
    dockerignore: emitted.dockerignore,
    // Command scripts, and the verdict stage's judge (a release image depends on the verdict).
    files: Object.entries({ ...emitted.scripts, ...emitted.judge })
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, contents]) => ({ path, contents })),
    resultsStage: RESULTS_STAGE,
    fileSecrets,
  };
}
