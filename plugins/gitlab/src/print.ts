/** The typed pipeline → `.gitlab-ci.yml`, through core's YAML writer (every string double-quoted). */
import {
  generatedHeader,
  stringifyYaml,
  type EmittedFile,
  type TargetContext,
  type YamlValue,
} from '@gatehouse-ci/core';
import type { GitlabPipeline } from './model.js';
import type { GitlabOptions } from './options.js';

/**
 * Serialise the pipeline at the `path` option: the global keywords first, then the jobs as
 * top-level keys, as GitLab reads them. No escaping of `$` is needed here: `script:` is
 * expanded by the shell only, and user text in `variables:` is marked `expand: false`
 * (`build.ts`, `checks.ts`).
 */
export function printGitlabPipeline(
  model: GitlabPipeline,
  options: GitlabOptions,
  ctx: TargetContext,
): EmittedFile {
  const { jobs, ...globals } = model;
  const document = { ...globals, ...jobs } as unknown as YamlValue;
  const contents = stringifyYaml(document, { header: [generatedHeader(ctx.configFile)] });
  return { path: options.path, contents };
}
