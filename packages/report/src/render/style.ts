import type { RunReport } from '@gatehouse-ci/core';
import { effectiveStatus } from '../build.js';

/** How a CI annotation of the run looks, in the words Buildkite's `annotate --style` takes. */
export type AnnotationStyle = 'success' | 'warning' | 'error';

/**
 * The annotation style a verdict calls for: `error` when the verdict failed, `warning` when it
 * passed with a gate that did not pass (an advisory gate that failed, a skipped gate), else
 * `success`.
 * @see https://buildkite.com/docs/agent/v3/cli-annotate
 */
export function annotationStyle(report: RunReport): AnnotationStyle {
  if (report.verdict.status !== 'passed') return 'error';
  return report.gates.some((g) => effectiveStatus(g) !== 'passed') ? 'warning' : 'success';
}

/** `style` format: the annotation style and a line break, for `--style "$(…)"` in a CI step. */
export function renderStyle(report: RunReport): string {
  return `${annotationStyle(report)}\n`;
}
