import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@gatehouse-ci/core';
import type {
  A11ySummary,
  CoverageSummary,
  Finding,
  LintSummary,
  SonarSummary,
  TestSummary,
} from '@gatehouse-ci/core';

/** What one evidence parser extracts from one file. Every part is optional. */
export interface ParsedEvidence {
  lint?: LintSummary;
  tests?: TestSummary;
  coverage?: CoverageSummary;
  a11y?: A11ySummary;
  sonar?: SonarSummary;
  /** Tools that named their version in the file (axe-core's `testEngine`, a SARIF driver, …). */
  tools?: EvidenceTool[];
  /**
   * npm packages the file shows were its producer, though it carries no version (ESLint's
   * JSON, Vitest's JUnit): an executor that ran the gate here reads their installed version.
   */
  producers?: string[];
  /** Every finding, uncapped: policies count them before the summary caps them. */
  findings: Finding[];
}

/** A tool and the version it wrote into its evidence. */
export interface EvidenceTool {
  name: string;
  version: string;
}

/** Longest tool name or version kept: the file is the gate's output, not a place for essays. */
const TOOL_TEXT_MAX = 100;

/** A tool version as a parser found it, or undefined when either part is missing or unusable. */
export function toolOf(name: unknown, version: unknown): EvidenceTool | undefined {
  if (typeof name !== 'string' || typeof version !== 'string') return undefined;
  const n = name.trim();
  const v = version.trim();
  if (!n || !v || n.length > TOOL_TEXT_MAX || v.length > TOOL_TEXT_MAX) return undefined;
  // One line of printable text: a version is shown in tables and compared between runs.
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(n + v)) return undefined;
  return { name: n, version: v };
}

/** Tools without repeats, sorted by name then version. */
export function uniqueTools(tools: Iterable<EvidenceTool>): EvidenceTool[] {
  const seen = new Map<string, EvidenceTool>();
  for (const t of tools) seen.set(JSON.stringify([t.name, t.version]), t);
  return [...seen.values()].sort((a, b) =>
    a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1,
  );
}

/** Context a parser needs to make findings stable across machines. */
export interface ParseContext {
  /** Absolute directories file paths are made relative to (project root, container workdir). */
  sourceRoots: string[];
}

/** The evidence file exists but is not what its format promises. */
export class EvidenceError extends Error {
  override readonly name = 'EvidenceError';
}

/** Make a tool-reported path relative to the first source root that contains it (POSIX separators). */
export function relativePath(file: string, ctx: ParseContext): string {
  let p = file;
  if (p.startsWith('file://')) {
    try {
      p = fileURLToPath(p);
    } catch {
      return file;
    }
  }
  if (isAbsolute(p)) {
    for (const root of ctx.sourceRoots) {
      const rel = relative(root, p);
      if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return rel.split(sep).join('/');
    }
  }
  return p.split(sep).join('/');
}

/** Lint fingerprint: tool, rule, file and message (not the line: edits above a finding must not make it "new"). */
export function lintFingerprint(
  tool: string,
  rule: string,
  file: string | undefined,
  message: string,
): string {
  return `lint:${sha256(JSON.stringify([tool, rule, file ?? '', message]))}`;
}

/** Accessibility fingerprint: rule, selector and page. */
export function a11yFingerprint(
  rule: string,
  selector: string | undefined,
  page: string | undefined,
): string {
  return `a11y:${sha256(JSON.stringify([rule, selector ?? '', page ?? '']))}`;
}

/** Top rules by count, most frequent first, ties by name; at most `limit`. */
export function topRules(findings: Finding[], limit = 10): Array<{ rule: string; count: number }> {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.rule, (counts.get(f.rule) ?? 0) + 1);
  return [...counts]
    .map(([rule, count]) => ({ rule, count }))
    .sort((a, b) => b.count - a.count || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0))
    .slice(0, limit);
}

/** Lint summary computed from findings (used by ESLint, SARIF and for baselines). */
export function lintSummaryOf(findings: Finding[]): LintSummary {
  const files = new Set<string>();
  let errors = 0;
  let warnings = 0;
  for (const f of findings) {
    if (f.level === 'error') errors++;
    else if (f.level === 'warning') warnings++;
    if (f.file !== undefined) files.add(f.file);
  }
  return { errors, warnings, files: files.size, rules: topRules(findings) };
}

export const IMPACTS = ['critical', 'serious', 'moderate', 'minor'] as const;

/** Accessibility summary from a11y findings that are violations (level `error`). */
export function a11ySummaryOf(findings: Finding[], pages: number): A11ySummary {
  const byImpact = { critical: 0, serious: 0, moderate: 0, minor: 0, unknown: 0 };
  let violations = 0;
  for (const f of findings) {
    if (f.level !== 'error') continue;
    violations++;
    const impact = (IMPACTS as readonly string[]).includes(f.impact ?? '')
      ? (f.impact as (typeof IMPACTS)[number])
      : 'unknown';
    byImpact[impact]++;
  }
  return { pages, violations, byImpact };
}

/** A plain object (core's `isPlainObject`). */
export { isPlainObject as isObject } from '@gatehouse-ci/core';

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Parse JSON or throw an EvidenceError that says where it broke. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new EvidenceError(`${what} is not valid JSON (${(err as Error).message})`);
  }
}
