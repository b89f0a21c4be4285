import type { CommandEntry } from '../command.js';

/**
 * Every command, in the order `gatehouse --help` lists them. Prefer the lazy form
 * `{ name, load: async () => (await import('./x.js')).x }`: a command's module (and what it
 * imports: plugins, dockerode, the runner) is then loaded only when that command runs.
 */
export const commands: CommandEntry[] = [
  { name: 'init', load: async () => (await import('./init.js')).init },
  { name: 'validate', load: async () => (await import('./validate.js')).validate },
  { name: 'graph', load: async () => (await import('./graph.js')).graph },
  { name: 'compile', load: async () => (await import('./compile.js')).compile },
  { name: 'check', load: async () => (await import('./check.js')).check },
  { name: 'drift', load: async () => (await import('./drift.js')).drift },
  { name: 'affected', load: async () => (await import('./affected.js')).affected },
  { name: 'run', load: async () => (await import('./run.js')).run },
  { name: 'explain', load: async () => (await import('./explain.js')).explain },
  { name: 'report', load: async () => (await import('./report.js')).report },
  { name: 'import', load: async () => (await import('./import.js')).importCommand },
];
