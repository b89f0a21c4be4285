/**
 * What every proposer of `gatehouse init` reads: the project's facts, how its package manager
 * runs things, and its monorepo tool; and what a proposer gives back.
 */
import type { UserGate } from '@gatehouse-ci/core';
import type { MonorepoFacts, ProjectFacts } from '../detect.js';

/** One gate a proposer writes: its id, its config and the comment above it. */
export interface ProposedGate {
  id: string;
  gate: UserGate;
  /** Comment lines (without `# `). */
  comment: string[];
}

/** What a proposer found: a gate or none, and the lines that say so. */
export interface Proposal {
  gate: ProposedGate | null;
  /** Printed by the command, one finding a line ("lint: ESLint (eslint.config.js)"). */
  detected: string[];
}

/** How the project's package manager runs things. */
export interface PmCommands {
  /** Runs a dependency's binary: `npx`, `pnpm exec`, `yarn`. */
  exec: string;
  /** Runs a package.json script with extra arguments. */
  runScript(name: string, args?: string): string;
  install: string;
  test: string;
}

export interface InitContext {
  f: ProjectFacts;
  pm: PmCommands;
  mono: MonorepoFacts | null;
  /** Whether the monorepo tool has this task. */
  monoHas(task: string): boolean;
}

export function initContext(f: ProjectFacts): InitContext {
  const mono = f.monorepo;
  return { f, pm: pmCommands(f), mono, monoHas: (task) => mono !== null && mono.tasks.has(task) };
}

function pmCommands(f: ProjectFacts): PmCommands {
  const pm = f.packageManager;
  const exec = pm.name === 'npm' ? 'npx' : pm.name === 'pnpm' ? 'pnpm exec' : 'yarn';
  // npm passes what follows `--` to the script; pnpm and yarn pass what follows the name
  // (pnpm would pass a `--` on too, and ESLint would then read the flags as file names).
  const runScript = (name: string, args = '') =>
    `${pm.name} run ${name}${args ? (pm.name === 'npm' ? ` -- ${args}` : ` ${args}`) : ''}`;
  let install: string;
  if (pm.name === 'npm') install = pm.lockfile ? 'npm ci' : 'npm install';
  else if (pm.name === 'pnpm')
    install = pm.lockfile ? 'pnpm install --frozen-lockfile' : 'pnpm install';
  else if (!pm.lockfile) install = 'yarn install';
  else install = pm.yarnBerry ? 'yarn install --immutable' : 'yarn install --frozen-lockfile';
  return { exec, runScript, install, test: `${pm.name} test` };
}

/** Longest script body quoted in a comment. */
const QUOTE_MAX = 60;

export function quoteScript(body: string): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > QUOTE_MAX ? `${one.slice(0, QUOTE_MAX - 1)}…` : one;
}

/** Shell syntax after which appended flags would not reach the tool the script starts. */
const COMPOUND_SCRIPT = /&&|\|\||[;|<>`&]|\$\(|\n/;

/**
 * Whether a script body is one call of `tool` (`eslint --ext js,jsx src --max-warnings 0`),
 * so flags appended through the package manager reach that tool, and none of `taken` is set
 * already.
 */
export function scriptCallsTool(body: string | undefined, tool: string, taken: RegExp): boolean {
  if (body === undefined) return false;
  const text = body.trim();
  return (
    new RegExp(`^${tool}(\\s|$)`).test(text) && !COMPOUND_SCRIPT.test(text) && !taken.test(text)
  );
}

export function firstPresent(f: ProjectFacts, files: readonly string[]): string | undefined {
  return files.find((p) => f.present.has(p));
}

export function monorepoCommand(m: MonorepoFacts, exec: string, task: string): string {
  return m.tool === 'turbo' ? `${exec} turbo run ${task}` : `${exec} nx run-many -t ${task}`;
}

export function monorepoComment(m: MonorepoFacts, task: string): string {
  return `Runs the \`${task}\` task of every package through ${m.tool === 'turbo' ? 'Turborepo' : 'Nx'} (found ${m.file}).`;
}

/** A relative path that stays inside the project, or null. */
export function safeRelative(p: string): string | null {
  const clean = p.replace(/^\.\//, '').replace(/\/+$/, '');
  if (clean === '' || clean.startsWith('/') || clean.split('/').includes('..')) return null;
  return clean;
}
