import type { Finding } from '@gatehouse-ci/core';
import {
  a11yFingerprint,
  a11ySummaryOf,
  EvidenceError,
  isObject,
  parseJson,
  relativePath,
  str,
  toolOf,
  uniqueTools,
  type EvidenceTool,
  type ParseContext,
  type ParsedEvidence,
} from './types.js';

function pageOf(url: string | undefined, ctx: ParseContext): string | undefined {
  if (url === undefined) return undefined;
  return url.startsWith('file://') ? relativePath(url, ctx) : url;
}

/**
 * pa11y's `--reporter json` (an array of issues for one page, or `{ documentTitle, pageUrl,
 * issues }`) and pa11y-ci's `--json` (`{ total, passes, errors, results: { <url>: [issue…] } }`).
 * Issues of `type` `error` are violations; warnings and notices are kept as findings but do
 * not count. A pa11y-ci page that could not be tested (an entry with only `message`) makes the
 * evidence unusable: the page was not checked, so it cannot pass.
 * @see https://github.com/pa11y/pa11y#json-reporter https://github.com/pa11y/pa11y-ci#json
 */
export function parsePa11y(text: string, ctx: ParseContext): ParsedEvidence {
  const data = parseJson(text, 'pa11y report');
  const findings: Finding[] = [];
  let pages = 0;
  const addIssues = (issues: unknown[], page: string | undefined, where: string): void => {
    pages++;
    issues.forEach((issue, i) => {
      if (!isObject(issue)) throw new EvidenceError(`pa11y ${where}[${i}] is not an object`);
      const code = str(issue.code);
      const message = str(issue.message);
      if (code === undefined) {
        if (message !== undefined)
          throw new EvidenceError(`pa11y could not test ${page ?? 'a page'}: ${message}`);
        throw new EvidenceError(`pa11y ${where}[${i}] has no "code"`);
      }
      const type = str(issue.type) ?? 'error';
      const extras = isObject(issue.runnerExtras) ? issue.runnerExtras : {};
      const impact = str(extras.impact);
      const selector = str(issue.selector);
      findings.push({
        fingerprint: a11yFingerprint(code, selector, page),
        tool: `pa11y${str(issue.runner) ? `/${str(issue.runner)}` : ''}`,
        rule: code,
        level: type === 'error' ? 'error' : type === 'warning' ? 'warning' : 'note',
        message: message ?? code,
        ...(page !== undefined ? { page } : {}),
        ...(selector !== undefined ? { selector } : {}),
        ...(impact !== undefined ? { impact } : {}),
      });
    });
  };
  if (Array.isArray(data)) {
    addIssues(data, undefined, 'issues');
  } else if (isObject(data) && isObject(data.results)) {
    for (const [url, issues] of Object.entries(data.results)) {
      if (!Array.isArray(issues))
        throw new EvidenceError(`pa11y-ci results[${JSON.stringify(url)}] is not an array`);
      addIssues(issues, pageOf(url, ctx), `results[${JSON.stringify(url)}]`);
    }
  } else if (isObject(data) && Array.isArray(data.issues)) {
    addIssues(data.issues, pageOf(str(data.pageUrl), ctx), 'issues');
  } else {
    throw new EvidenceError(
      'pa11y report is neither an issue array, a pa11y page result nor a pa11y-ci "results" object',
    );
  }
  return { a11y: a11ySummaryOf(findings, pages), findings };
}

/**
 * axe-core results (`axe.run()` output, or `@axe-core/cli --save`: an array of them). Each
 * node of each `violations[]` entry is one violation, with the node's impact (or the rule's).
 * `incomplete` entries need a human and are kept as warnings that do not count.
 * @see https://github.com/dequelabs/axe-core/blob/develop/doc/API.md#results-object
 */
export function parseAxe(text: string, ctx: ParseContext): ParsedEvidence {
  const data = parseJson(text, 'axe results');
  const runs = Array.isArray(data) ? data : [data];
  if (runs.length === 0) throw new EvidenceError('axe results array is empty: no page was tested');
  const findings: Finding[] = [];
  const tools: EvidenceTool[] = [];
  runs.forEach((run, r) => {
    if (!isObject(run) || !Array.isArray(run.violations))
      throw new EvidenceError(`axe results[${r}] has no "violations" array`);
    const engine = isObject(run.testEngine)
      ? toolOf(run.testEngine.name, run.testEngine.version)
      : undefined;
    if (engine) tools.push(engine);
    const page = pageOf(str(run.url), ctx);
    const add = (list: unknown[], level: Finding['level'], what: string): void => {
      list.forEach((rule, i) => {
        if (!isObject(rule) || typeof rule.id !== 'string' || !Array.isArray(rule.nodes)) {
          throw new EvidenceError(`axe results[${r}].${what}[${i}] has no id/nodes`);
        }
        const ruleImpact = str(rule.impact);
        const message = str(rule.help) ?? str(rule.description) ?? rule.id;
        for (const node of rule.nodes) {
          if (!isObject(node)) continue;
          const target = Array.isArray(node.target)
            ? node.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : String(t))).join(' ')
            : undefined;
          const impact = str(node.impact) ?? ruleImpact;
          findings.push({
            fingerprint: a11yFingerprint(rule.id, target, page),
            tool: 'axe-core',
            rule: rule.id,
            level,
            message,
            ...(page !== undefined ? { page } : {}),
            ...(target !== undefined ? { selector: target } : {}),
            ...(impact !== undefined ? { impact } : {}),
          });
        }
      });
    };
    add(run.violations, 'error', 'violations');
    if (Array.isArray(run.incomplete)) add(run.incomplete, 'warning', 'incomplete');
  });
  return {
    a11y: a11ySummaryOf(findings, runs.length),
    ...(tools.length ? { tools: uniqueTools(tools) } : {}),
    findings,
  };
}
