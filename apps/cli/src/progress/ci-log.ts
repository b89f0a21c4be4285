/**
 * How `gatehouse run` writes its closing output where a CI system reads the log: GitHub Actions
 * workflow commands (a collapsed group per gate log, findings as annotations) and Buildkite log
 * sections. Everything a gate produced is printed only while GitHub's command processing is
 * stopped with a token the gate cannot guess, and the commands Gatehouse writes itself carry
 * only escaped text, so no gate output can become a workflow command.
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Finding, GateResult } from '@gatehouse-ci/core';

/** The CI log conventions the CLI follows: detected from the environment each CI sets. */
export type CiLog = 'github' | 'buildkite' | null;

/**
 * `github` under GitHub Actions (`GITHUB_ACTIONS=true`), `buildkite` under Buildkite
 * (`BUILDKITE=true`), else null.
 * @see https://docs.github.com/en/actions/reference/workflows-and-actions/variables
 * @see https://buildkite.com/docs/pipelines/configure/environment-variables
 */
export function ciLogOf(env: Record<string, string | undefined>): CiLog {
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  if (env.BUILDKITE === 'true') return 'buildkite';
  return null;
}

/**
 * Workflow-command data (the message after `::`): `%`, CR and LF are percent-encoded, as the
 * runner decodes them, so the text stays on one line.
 * @see https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
 */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A workflow-command property value: data escaping, plus `:` and `,`, which end a property. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Annotations GitHub shows per step for each of error, warning and notice. */
export const ANNOTATIONS_PER_LEVEL = 10;

/** A GitHub annotation (`::error`, `::warning`, `::notice`). */
export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  title: string;
  message: string;
  file?: string;
  line?: number;
  col?: number;
}

/** One workflow command line: `::name k=v,k=v::data`, every value escaped. */
export function workflowCommand(
  name: string,
  props: Record<string, string | number | undefined>,
  data: string,
): string {
  const list = Object.entries(props)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`);
  return `::${name}${list.length ? ` ${list.join(',')}` : ''}::${escapeData(data)}`;
}

/** The annotation as a workflow command line. */
export function annotationLine(a: Annotation): string {
  return workflowCommand(
    a.level,
    { file: a.file, line: a.line, col: a.col, title: a.title },
    a.message,
  );
}

const LEVEL_OF: Record<Finding['level'], Annotation['level']> = {
  error: 'error',
  warning: 'warning',
  note: 'notice',
};

/**
 * The annotations of a run: one for each gate that did not pass (its reason), then one per
 * finding. At most {@link ANNOTATIONS_PER_LEVEL} of each level, as GitHub shows no more: when
 * a level has more, its last one says how many were left out and where to read them.
 * File paths are made relative to `workspace` (the repository checkout), where GitHub looks.
 */
export function annotationsOf(
  results: readonly GateResult[],
  opts: { rootDir: string; workspace: string | undefined },
): Annotation[] {
  const all: Annotation[] = [];
  for (const g of results) {
    const status = g.status === 'cached' ? (g.cached?.status ?? 'error') : g.status;
    if (status === 'failed' || status === 'error' || status === 'timeout')
      all.push({
        level: g.mode === 'blocking' ? 'error' : 'warning',
        title: `gate ${g.id} ${status}`,
        message: `${g.mode} gate ${g.id} ${status}${g.reason ? `: ${g.reason}` : ''}`,
      });
  }
  for (const g of results)
    for (const f of g.evidence.findings) {
      const file = f.file !== undefined ? repoPath(f.file, opts) : undefined;
      all.push({
        level: LEVEL_OF[f.level],
        title: `${f.tool}: ${f.rule}`,
        message: `${f.message}${f.file === undefined && f.page ? ` (${f.page}${f.selector ? ` ${f.selector}` : ''})` : ''} [gate ${g.id}]`,
        ...(file !== undefined ? { file } : {}),
        ...(file !== undefined && f.line ? { line: f.line } : {}),
        ...(file !== undefined && f.line && f.column ? { col: f.column } : {}),
      });
    }
  const out: Annotation[] = [];
  for (const level of ['error', 'warning', 'notice'] as const) {
    const list = all.filter((a) => a.level === level);
    if (list.length <= ANNOTATIONS_PER_LEVEL) {
      out.push(...list);
      continue;
    }
    const shown = list.slice(0, ANNOTATIONS_PER_LEVEL - 1);
    out.push(...shown, {
      level,
      title: `${list.length - shown.length} more`,
      message: `${list.length - shown.length} more ${level}s not annotated (GitHub shows ${ANNOTATIONS_PER_LEVEL} per step): see the report`,
    });
  }
  return out;
}

/** A finding's file (relative to the project) as a path from the repository checkout. */
function repoPath(file: string, opts: { rootDir: string; workspace: string | undefined }): string {
  if (!opts.workspace) return file;
  const rel = relative(resolve(opts.workspace), resolve(opts.rootDir, file));
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel.split('\\').join('/');
}

/** A fresh token for `::stop-commands::`, which a gate that has finished cannot guess. */
export function stopToken(): string {
  return randomBytes(16).toString('hex');
}

/** Lines that stop GitHub's command processing, then resume it: untrusted text goes between. */
export function githubFenced(lines: readonly string[], token = stopToken()): string[] {
  return [`::stop-commands::${token}`, ...lines, `::${token}::`];
}

/** A collapsed group titled `title` holding `lines`, which cannot run a command. */
export function githubGroup(title: string, lines: readonly string[]): string[] {
  return [workflowCommand('group', {}, title), ...githubFenced(lines), '::endgroup::'];
}

/**
 * A Buildkite log section: `+++` opens expanded (a gate that failed), `---` collapsed. Log lines
 * are indented, so a line of the gate's own that starts with a section marker starts none.
 * @see https://buildkite.com/docs/pipelines/configure/managing-log-output
 */
export function buildkiteSection(
  title: string,
  expanded: boolean,
  lines: readonly string[],
): string[] {
  return [`${expanded ? '+++' : '---'} ${oneLine(title)}`, ...lines.map((l) => `   ${l}`)];
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');
}

/** Bytes of a gate's log shown in a CI log section: its end, where a failure shows. */
export const CI_LOG_SECTION_BYTES = 512 * 1024;

/**
 * The lines of the last `maxBytes` of a log file (a partial first line is dropped), whether it
 * was cut, or null when the file cannot be read.
 */
export async function readLogEnd(
  path: string,
  maxBytes = CI_LOG_SECTION_BYTES,
): Promise<{ lines: string[]; cut: boolean } | null> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const cut = size > len;
    if (cut) lines.shift();
    return { lines, cut };
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}
