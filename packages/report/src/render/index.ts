import type { RunReport } from '@gatehouse-ci/core';
import { renderCodeQuality } from './codequality.js';
import { renderHtml, type HtmlOptions } from './html.js';
import { renderIntoto, type StatementOptions } from './intoto.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown, type MarkdownOptions } from './markdown.js';
import { renderSarif } from './sarif.js';
import { renderStyle } from './style.js';

/** Output formats of {@link render}. */
export const RENDER_FORMATS = [
  'json',
  'html',
  'md',
  'junit',
  'sarif',
  'intoto',
  'codequality',
  'style',
] as const;
export type RenderFormat = (typeof RENDER_FORMATS)[number];

/** Options for every renderer (each reads its own). */
export type RenderOptions = HtmlOptions & MarkdownOptions & StatementOptions;

/** Render a report in one format. Pure: same report, same text. */
export function render(report: RunReport, format: RenderFormat, opts: RenderOptions = {}): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'html':
      return renderHtml(report, opts);
    case 'md':
      return renderMarkdown(report, opts);
    case 'junit':
      return renderJunit(report);
    case 'sarif':
      return renderSarif(report);
    case 'intoto':
      return renderIntoto(report, opts);
    case 'codequality':
      return renderCodeQuality(report);
    case 'style':
      return renderStyle(report);
    default:
      throw new TypeError(`unknown report format ${JSON.stringify(format)}`);
  }
}

export { renderHtml, renderIntoto, renderJson, renderJunit, renderMarkdown, renderSarif };
export {
  toStatement,
  STATEMENT_TYPE,
  TEST_RESULT_PREDICATE,
  type TestResultStatement,
  type StatementOptions,
} from './intoto.js';
export { toCodeQuality, type CodeQualityIssue } from './codequality.js';
export { renderCodeQuality };
export {
  toSarif,
  sarifCategory,
  GITHUB_SARIF_LIMITS,
  SARIF_EMPTY_RUN_TOOL,
  SARIF_SCHEMA_URI,
  type SarifLog,
} from './sarif.js';
export { annotationStyle, renderStyle, type AnnotationStyle } from './style.js';
export { MARKDOWN_MAX_BYTES, type MarkdownOptions } from './markdown.js';
export type { HtmlOptions } from './html.js';
