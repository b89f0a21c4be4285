/**
 * The plugins that ship with the CLI. Each `@gatehouse/plugin-*` package default-exports a
 * plugin; a package that exports nothing (yet) is skipped rather than breaking the CLI.
 */
import type { GatehousePlugin } from '@gatehouse/core';
import * as buildkite from '@gatehouse/plugin-buildkite';
import * as docker from '@gatehouse/plugin-docker';
import * as dockerfile from '@gatehouse/plugin-dockerfile';
import * as githubActions from '@gatehouse/plugin-github-actions';
import * as jenkins from '@gatehouse/plugin-jenkins';
import * as runner from '@gatehouse/runner';

function pluginOf(mod: unknown): GatehousePlugin[] {
  const d = (mod as { default?: unknown }).default;
  return d !== null && typeof d === 'object' && typeof (d as { name?: unknown }).name === 'string' ? [d as GatehousePlugin] : [];
}

/** Built-in plugins, in a fixed order. */
export const builtinPlugins: readonly GatehousePlugin[] = [runner, dockerfile, docker, githubActions, jenkins, buildkite].flatMap(pluginOf);
