/**
 * What the config-reading commands share: finding the config, loading it with the
 * built-in plugins, and printing diagnostics.
 */
import { existsSync } from 'node:fs';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import {
  GatehouseError,
  formatDiagnostic,
  loadProject,
  summarizeDiagnostics,
  type Diagnostic,
  type Project,
} from '@gatehouse/core';
import type { Io } from './command.js';
import { builtinPlugins } from './plugins.js';

/** Config file names tried, in order, when `--config` is not given. */
export const DEFAULT_CONFIG_NAMES = ['gatehouse.yml', 'gatehouse.yaml'] as const;

/** The config path: `--config` (relative to cwd) or the first default name that exists. */
export function findConfig(io: Io, given: unknown): string {
  if (typeof given === 'string' && given !== '') return resolve(io.cwd, given);
  for (const name of DEFAULT_CONFIG_NAMES) {
    const p = resolve(io.cwd, name);
    if (existsSync(p)) return p;
  }
  throw new GatehouseError(
    'GH_CONFIG_NOT_FOUND',
    `no gatehouse.yml or gatehouse.yaml in ${io.cwd}`,
    {
      hint: 'pass --config FILE, or run `gatehouse init` to create one',
    },
  );
}

/** How a path is shown to the user: relative to cwd when inside it. */
export function shown(io: Io, abs: string): string {
  const rel = relative(io.cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Load the project of `--config` with the built-in plugins. */
export async function openProject(
  io: Io,
  given: unknown,
): Promise<Project & { configPath: string; configFile: string }> {
  const configPath = findConfig(io, given);
  const project = await loadProject(configPath, builtinPlugins, {
    displayPath: shown(io, configPath),
  });
  return { ...project, configPath, configFile: basename(configPath) };
}

/** Print diagnostics, a blank line between them, then the summary line. */
export function printDiagnostics(stream: NodeJS.WritableStream, diagnostics: Diagnostic[]): void {
  for (const d of diagnostics) stream.write(`${formatDiagnostic(d)}\n\n`);
  stream.write(`${summarizeDiagnostics(diagnostics)}\n`);
}

/** True when any diagnostic is an error. */
export function hasErrors(diagnostics: Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
