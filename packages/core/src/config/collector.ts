/**
 * What every pass of config validation shares: the lazily loaded `yaml` package, and the
 * Collector that turns a problem at a source range into a located Diagnostic (with its code
 * frame, secret values masked) and remembers where each config path is written.
 */
import { createRequire } from 'node:module';
import type { Document, Node as YamlNode } from 'yaml';
import { DIAGNOSTIC_CODES, codeFrame, formatPath, type DiagnosticCode } from '../diagnostics.js';
import type { Diagnostic, SourceLocation } from '../errors.js';
import type { Locate } from '../locator.js';

export type YamlLib = typeof import('yaml');
let yamlLib: YamlLib | null = null;
/**
 * The `yaml` package, loaded on the first parse rather than with this module: a run that
 * reuses a cached pipeline never parses, and loading `yaml` costs more than the rest of core.
 * `require` keeps the parse synchronous (the package's Node entry point is CommonJS anyway).
 */
export function yaml(): YamlLib {
  return (yamlLib ??= createRequire(import.meta.url)('yaml') as YamlLib);
}

/** True once the `yaml` package has been loaded by this module (for tests). @internal */
export function yamlLoaded(): boolean {
  return yamlLib !== null;
}

/** A config path as segments: `['gates', 'unit', 'needs', 0]`. */
export type PathSeg = string | number;
/** Character offsets in the config text. */
export type Range = { start: number; end: number };

/** Collects every problem of one config, located. */
export class Collector {
  readonly diagnostics: Diagnostic[] = [];
  readonly lineCounter: InstanceType<YamlLib['LineCounter']> = new (yaml().LineCounter)();
  readonly ranges = new Map<string, { key: Range | null; value: Range | null }>();
  /** Secret values written where names belong: never shown in frames. */
  readonly masks: Range[] = [];
  protected readonly pending: Array<{ d: Diagnostic; range: Range }> = [];

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  loc(range: Range | null): SourceLocation | null {
    if (!range) return null;
    const s = this.lineCounter.linePos(range.start);
    const e = this.lineCounter.linePos(Math.max(range.start, range.end));
    return { file: this.file, line: s.line, column: s.col, endLine: e.line, endColumn: e.col };
  }

  report(
    code: DiagnosticCode,
    path: readonly PathSeg[] | string,
    range: Range | null,
    message: string,
    extra: { hint?: string | undefined; mask?: boolean } = {},
  ): void {
    const loc = this.loc(range);
    const d: Diagnostic = {
      code,
      severity: DIAGNOSTIC_CODES[code].severity,
      message,
      path: typeof path === 'string' ? path : formatPath(path),
      loc,
    };
    if (extra.hint) d.hint = extra.hint;
    if (extra.mask && range) this.masks.push(range);
    if (loc && range) this.pending.push({ d, range });
    this.diagnostics.push(d);
  }

  /** Add code frames once every secret value to hide is known. */
  finish(): Diagnostic[] {
    for (const { d } of this.pending)
      if (d.loc) d.frame = codeFrame(this.text, d.loc, { masks: this.masks });
    this.pending.length = 0;
    return this.diagnostics;
  }

  locate: Locate = (path, at = 'value') => {
    let p = path;
    for (;;) {
      const r = this.ranges.get(p);
      if (r) return this.loc(at === 'key' ? (r.key ?? r.value) : (r.value ?? r.key));
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0)
        return this.ranges.size > 0 || this.text.length > 0
          ? { file: this.file, line: 1, column: 1 }
          : null;
      p = p.slice(0, cut);
    }
  };
}

/** The source range of a YAML node, or null. */
export function rangeOf(
  node: { range?: [number, number, number] | null } | null | undefined,
): Range | null {
  return node?.range ? { start: node.range[0], end: node.range[1] } : null;
}

/** First offset of an invalid UTF-8 sequence, or -1. */

/** A node, or what an alias node stands for. */
export function deref(doc: Document, node: unknown): YamlNode | null {
  if (yaml().isAlias(node)) return (node.resolve(doc) as YamlNode | undefined) ?? null;
  return (node as YamlNode | null) ?? null;
}
