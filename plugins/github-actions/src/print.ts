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

/**
 * The workflow file at the `path` option, with the generated header. A config in a subdirectory
 * without a `path` of its own gets `.github/workflows/gatehouse-<directory>.yml` at the top of
 * the checkout: GitHub reads workflows only there.
 */
export function printWorkflow(
  workflow: Workflow,
  options: GithubOptions,
  ctx: TargetContext,
): EmittedFile {
  const dir = options.checkout_dir ?? '';
  const atTop = dir !== '' && !options.path_given;
  const contents = stringifyYaml(workflow as unknown as YamlValue, {
    // A file at the top names the config by its path from there.
    header: [generatedHeader(atTop ? `${dir}/${ctx.configFile}` : ctx.configFile)],
  });
  return atTop
    ? { path: topWorkflowPath(dir), at: 'checkout', contents }
    : { path: options.path, contents };
}

/** The workflow of a config in directory `dir`, at the checkout's top: `gatehouse-packages-web.yml`. */
export function topWorkflowPath(dir: string): string {
  return `.github/workflows/gatehouse-${dir.replace(/[^A-Za-z0-9_.-]+/g, '-')}.yml`;
}
