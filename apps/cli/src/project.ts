/**
 * What the config-reading commands share: finding the config, loading it with the
 * built-in plugins, and printing diagnostics.
 */
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  formatDiagnostic,
  loadProject,
  summarizeDiagnostics,
  withFrames,
  type Diagnostic,
  type Project,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import type { Io, OptionSpec } from './command.js';
import { discoverConfig } from './discover.js';
import { builtinPlugins } from './plugins.js';
import { CLI_VERSION } from './version.js';
import { readProjectWorkspace } from './workspace.js';

export { DEFAULT_CONFIG_NAMES } from './discover.js';

/** The `--config` option of every command that reads the config. */
export const CONFIG_OPTION: OptionSpec = {
  type: 'string',
  short: 'c',
  description:
    'Config file (default: the nearest gatehouse.yml or gatehouse.yaml, from the current directory up)',
  valueName: 'FILE',
};

/**
 * The config path: `--config` (relative to cwd), or the nearest default name from cwd up
 * ({@link discoverConfig}). One found above cwd is named on stderr, so a run from a
 * subdirectory says which project it is running.
 */
export function findConfig(io: Io, given: unknown): string {
  if (typeof given === 'string' && given !== '') return resolve(io.cwd, given);
  const found = discoverConfig(io.cwd);
  if (found.above) io.stderr.write(`gatehouse: using ${found.path}\n`);
  return found.path;
}

/** How a path is shown to the user: relative to cwd when inside it. */
export function shown(io: Io, abs: string): string {
  const rel = relative(io.cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Where `run` and `explain` keep resolved pipelines: `.gatehouse/cache/config/` next to the config. */
export function configCacheDir(configPath: string): string {
  return join(dirname(configPath), '.gatehouse', 'cache', 'config');
}

/**
 * Load the project of `--config` with the built-in plugins; in an nx workspace of
 * `project.json` projects, gates of `packages:` expand over nx's project graph
 * ({@link readProjectWorkspace}). With `cache: true` (commands
 * that only read the config), an unchanged config's pipeline comes from
 * {@link configCacheDir} without parsing; locations then cost a parse on first use.
 */
export async function openProject(
  io: Io,
  given: unknown,
  opts: { cache?: boolean } = {},
): Promise<Project & { configPath: string; configFile: string }> {
  const configPath = findConfig(io, given);
  const project = await loadProject(configPath, builtinPlugins, {
    displayPath: shown(io, configPath),
    readWorkspace: readProjectWorkspace,
    ...(opts.cache ? { cache: { dir: configCacheDir(configPath), version: CLI_VERSION } } : {}),
  });
  return { ...project, configPath, configFile: basename(configPath) };
}

/**
 * {@link openProject} for commands that need a valid pipeline: when the config has errors,
 * its diagnostics go to stderr and the exit code 1 comes back instead of a project.
 */
export async function openValidProject(
  io: Io,
  given: unknown,
  opts: { cache?: boolean } = {},
): Promise<
  (Project & { configPath: string; configFile: string; pipeline: ResolvedPipeline }) | number
> {
  const project = await openProject(io, given, opts);
  const { pipeline } = project;
  if (!pipeline || hasErrors(project.diagnostics)) {
    printDiagnostics(io.stderr, project.diagnostics);
    return 1;
  }
  return { ...project, pipeline };
}

/** Print diagnostics, a blank line between them, then the summary line. */
export function printDiagnostics(stream: NodeJS.WritableStream, diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) stream.write(`${formatDiagnostic(d)}\n\n`);
  stream.write(`${summarizeDiagnostics(diagnostics)}\n`);
}

/**
 * Diagnostics from past the loading (an executor or target refusing a value) with the
 * location of their config path and a code frame. For a project from the cache this
 * parses the config: locations are never cached.
 */
export function locateDiagnostics(
  project: Pick<Project, 'locate' | 'text' | 'displayPath'>,
  diagnostics: Diagnostic[],
): Diagnostic[] {
  const located = diagnostics.map((d) =>
    d.loc || !d.path
      ? d
      : { ...d, loc: project.locate(d.path, d.code === 'GH_UNKNOWN_KEY' ? 'key' : 'value') },
  );
  return withFrames(located, project.text, project.displayPath);
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
