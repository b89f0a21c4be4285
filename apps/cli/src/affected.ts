/**
 * `--affected`: the files changed since the merge-base of `HEAD` and a base ref, mapped to the
 * workspace packages they can affect, and the gates of those packages.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  affectedPackages,
  discoverWorkspace,
  GatehouseError,
  selectGates,
  type AffectedPackages,
  type ResolvedPipeline,
  type Workspace,
  writtenByGatehouse,
} from '@gatehouse-ci/core';

import type { OptionSpec } from './command.js';

const run = promisify(execFile);

/** The base ref when `--base` is not given (turbo's and nx's default too). */
export const DEFAULT_BASE = 'main';

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

const lines = (s: string): string[] => s.split('\0').filter((x) => x.length > 0);

/**
 * Files (POSIX, relative to `dir`) changed since the merge-base of `HEAD` and `base`:
 * committed, staged and unstaged changes, deletions, and untracked files git does not ignore,
 * except the files Gatehouse writes itself (`.gatehouse/`, the CI results and report), which
 * are no change even where the repository does not ignore them.
 * With `committed`, only what the commits since the merge-base change (in CI, files the job
 * itself made, such as downloaded results or a package store, are not part of the change).
 */
export async function changedFiles(
  dir: string,
  base: string,
  committed = false,
): Promise<string[]> {
  let mergeBase: string;
  try {
    mergeBase = (await git(dir, ['merge-base', 'HEAD', base])).trim();
  } catch (err) {
    throw new GatehouseError(
      'GH_AFFECTED_BASE',
      `cannot find where HEAD left \`${base}\` in ${dir}: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0]}`,
      {
        hint: 'pass --base REF with a branch or commit HEAD descends from (in CI: the target branch, fetched with enough history)',
        cause: err,
      },
    );
  }
  const range = committed ? [mergeBase, 'HEAD'] : [mergeBase];
  const [diff, untracked] = await Promise.all([
    git(dir, ['diff', '--name-only', '--no-renames', '--relative', '-z', ...range, '--']),
    committed ? '' : git(dir, ['ls-files', '--others', '--exclude-standard', '-z']),
  ]);
  return [...new Set([...lines(diff), ...lines(untracked)])]
    .filter((f) => !writtenByGatehouse(f))
    .sort();
}

/** The affected packages and the gates to run for them. */
export interface AffectedSelection extends AffectedPackages {
  base: string;
  files: string[];
  /**
   * Gates of affected packages, plus every gate not declared for packages (they check the
   * whole repository); what they need is added by the run.
   */
  gates: string[];
}

/** A base that names no commit: empty (a manual run) or Git's null id (the first push of a branch). */
export function isUnknownBase(base: string): boolean {
  return base.trim() === '' || /^0+$/.test(base.trim());
}

/** Every package and gate, when there is nothing to compare with. */
function everything(pipeline: ResolvedPipeline, base: string, ws: Workspace): AffectedSelection {
  const all = ws.packages.map((p) => p.name).sort();
  return {
    base,
    files: [],
    changed: [],
    affected: all,
    global: [],
    gates: pipeline.gates.map((g) => g.id),
  };
}

/** How {@link affectedSelection} reads the change. */
export interface AffectedOptions {
  /**
   * A base that names no commit or has no merge-base with `HEAD` (a force push) selects every
   * gate instead of failing: CI then runs everything, never less than it should.
   */
  allWhenUnknown?: boolean;
  /** Only committed changes count (see {@link changedFiles}). */
  committed?: boolean;
  /**
   * The workspace the package gates expanded over (`Project.workspace`: nx's project graph).
   * @default the package-manager workspace of the config directory
   */
  workspace?: Workspace;
}

/** What a change since `base` affects in `pipeline`'s workspace. */
export async function affectedSelection(
  pipeline: ResolvedPipeline,
  base: string,
  { allWhenUnknown = false, committed = false, workspace }: AffectedOptions = {},
): Promise<AffectedSelection & { full: boolean }> {
  const ws = workspace ?? discoverWorkspace(pipeline.rootDir);
  if (allWhenUnknown && isUnknownBase(base))
    return { ...everything(pipeline, base, ws), full: true };
  let files: string[];
  try {
    files = await changedFiles(pipeline.rootDir, base, committed);
  } catch (err) {
    if (allWhenUnknown && (err as { code?: string }).code === 'GH_AFFECTED_BASE')
      return { ...everything(pipeline, base, ws), full: true };
    throw err;
  }
  const set = affectedPackages(ws, files);
  const hit = new Set(set.affected);
  const gates = pipeline.gates
    .filter((g) => !g.package || hit.has(g.package.name))
    .map((g) => g.id);
  return { base, files, ...set, gates, full: false };
}

/** `--affected` and `--base` as `run`, `graph` and `explain` take them; `what` ends the first description. */
export function affectedOptions(what: string): Record<'affected' | 'base', OptionSpec> {
  return {
    affected: {
      type: 'boolean',
      description: `${what} only the gates of workspace packages changed since --base, and of their dependents (with what they need); see \`gatehouse affected\``,
    },
    base: {
      type: 'string',
      description: `With --affected: compare with the merge-base of HEAD and REF (default ${DEFAULT_BASE})`,
      valueName: 'REF',
    },
  };
}

/**
 * The gates `--affected [--base REF]` selects, or null without `--affected`; a `--base` without
 * it is a usage error.
 */
export async function affectedGatesOf(
  values: Record<string, unknown>,
  pipeline: ResolvedPipeline,
  workspace: Workspace | undefined,
): Promise<(AffectedSelection & { full: boolean }) | null> {
  if (values.affected !== true) {
    if (typeof values.base === 'string')
      throw new GatehouseError('GH_USAGE', '--base goes with --affected');
    return null;
  }
  const base = typeof values.base === 'string' ? values.base : DEFAULT_BASE;
  return affectedSelection(pipeline, base, workspace ? { workspace } : {});
}

/** The pipeline cut down to `gates` and what they need (every gate when `gates` is null). */
export function pipelineOf(pipeline: ResolvedPipeline, gates: string[] | null): ResolvedPipeline {
  if (gates === null) return pipeline;
  return gates.length === 0 ? { ...pipeline, gates: [] } : selectGates(pipeline, gates);
}

/** `affected since REF: 2 packages (core, web), 6 gates and what they need`. */
export function affectedSummary(sel: AffectedSelection): string {
  const n = sel.affected.length;
  const pkgs = `${n} package${n === 1 ? '' : 's'}${n ? ` (${sel.affected.join(', ')})` : ''}`;
  return `affected since ${sel.base}: ${pkgs}, ${sel.gates.length} gate${sel.gates.length === 1 ? '' : 's'} and what they need\n`;
}
