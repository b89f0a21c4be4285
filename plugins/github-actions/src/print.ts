/** The typed workflow → the workflow file, through core's YAML writer. */
import {
  generatedHeader,
  stringifyYaml,
  type EmittedFile,
  type TargetContext,
  type YamlValue,
} from '@gatehouse-ci/core';
import type { Workflow } from './model.js';
import type { GithubOptions } from './options.js';

/** The workflow file at the `path` option, with the generated header. */
export function printWorkflow(
  workflow: Workflow,
  options: GithubOptions,
  ctx: TargetContext,
): EmittedFile {
  const contents = stringifyYaml(workflow as unknown as YamlValue, {
    header: [generatedHeader(ctx.configFile)],
  });
  return { path: options.path, contents };
}
