/** The typed pipeline → `pipeline.yml`, escaped for `buildkite-agent pipeline upload`. */
import {
  generatedHeader,
  stringifyYaml,
  type EmittedFile,
  type TargetContext,
  type YamlValue,
} from '@gatehouse-ci/core';
import type { BuildkitePipeline } from './model.js';
import type { BuildkiteOptions } from './options.js';

/** Escape against upload-time interpolation and serialise `pipeline.yml` at the `path` option. */
export function printPipeline(
  model: BuildkitePipeline,
  options: BuildkiteOptions,
  ctx: TargetContext,
): EmittedFile {
  const contents = stringifyYaml(escapeInterpolation(model) as unknown as YamlValue, {
    header: [generatedHeader(ctx.configFile)],
  });
  return { path: options.path, contents };
}

/**
 * `buildkite-agent pipeline upload` expands `$VAR`, `${VAR}` and reads `$$` (or `\$`) as a
 * literal `$` in every value. Doubling each `$` makes the agent see the original text, provided
 * no odd run of backslashes precedes a `$` (refused by `pipelineTextProblems` in `checks.ts`).
 */
export function escapeInterpolation<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\$/g, () => '$$') as T;
  if (Array.isArray(value)) return value.map((v) => escapeInterpolation(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, escapeInterpolation(v)]),
    ) as T;
  }
  return value;
}
