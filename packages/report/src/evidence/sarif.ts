import type { Finding } from '@gatehouse-ci/core';
import {
  EvidenceError,
  isObject,
  lintFingerprint,
  lintSummaryOf,
  num,
  parseJson,
  relativePath,
  str,
  toolOf,
  uniqueTools,
  type EvidenceTool,
  type ParseContext,
  type ParsedEvidence,
} from './types.js';

const LEVELS = new Set(['error', 'warning', 'note', 'none']);

/**
 * SARIF 2.1.0 from any tool. Each `runs[].results[]` with `kind` `fail` (the default) and no
 * accepted suppression becomes a finding; its level is the result's `level`, else the rule's
 * `defaultConfiguration.level`, else `warning` (SARIF §3.27.10). `none` counts as a note.
 * @see https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 */
export function parseSarif(text: string, ctx: ParseContext): ParsedEvidence {
  const data = parseJson(text, 'SARIF log');
  if (!isObject(data) || !Array.isArray(data.runs))
    throw new EvidenceError('SARIF log has no "runs" array');
  if (data.version !== '2.1.0')
    throw new EvidenceError(
      `SARIF version ${JSON.stringify(data.version)} is not supported (expected "2.1.0")`,
    );
  const findings: Finding[] = [];
  const tools: EvidenceTool[] = [];
  data.runs.forEach((run, r) => {
    if (!isObject(run) || !isObject(run.tool) || !isObject(run.tool.driver))
      throw new EvidenceError(`SARIF runs[${r}] has no tool.driver`);
    const driver = run.tool.driver;
    // SARIF §3.19.13/§3.19.14: `version` as the tool writes it, else `semanticVersion`.
    const named = toolOf(driver.name, str(driver.version) ?? str(driver.semanticVersion));
    if (named) tools.push(named);
    const tool = str(driver.name) ?? 'sarif';
    const rules = Array.isArray(driver.rules) ? driver.rules : [];
    const results = run.results === undefined || run.results === null ? [] : run.results;
    if (!Array.isArray(results))
      throw new EvidenceError(`SARIF runs[${r}].results is not an array`);
    results.forEach((res, i) => {
      if (!isObject(res))
        throw new EvidenceError(`SARIF runs[${r}].results[${i}] is not an object`);
      if (res.kind !== undefined && res.kind !== 'fail') return;
      if (
        Array.isArray(res.suppressions) &&
        res.suppressions.some(
          (s) => isObject(s) && s.status !== 'rejected' && s.status !== 'underReview',
        )
      )
        return;
      const ruleIndex =
        num(res.ruleIndex) ?? (isObject(res.rule) ? num(res.rule.index) : undefined);
      const ruleObj =
        ruleIndex !== undefined && isObject(rules[ruleIndex])
          ? (rules[ruleIndex] as Record<string, unknown>)
          : undefined;
      const rule =
        str(res.ruleId) ??
        (isObject(res.rule) ? str(res.rule.id) : undefined) ??
        str(ruleObj?.id) ??
        'unknown';
      const defLevel =
        ruleObj ??
        (rules.find((x) => isObject(x) && x.id === rule) as Record<string, unknown> | undefined);
      const configured = isObject(defLevel?.defaultConfiguration)
        ? str(defLevel.defaultConfiguration.level)
        : undefined;
      const rawLevel = str(res.level) ?? configured ?? 'warning';
      if (!LEVELS.has(rawLevel))
        throw new EvidenceError(
          `SARIF runs[${r}].results[${i}] has unknown level ${JSON.stringify(rawLevel)}`,
        );
      const level: Finding['level'] =
        rawLevel === 'error' ? 'error' : rawLevel === 'warning' ? 'warning' : 'note';
      const message = isObject(res.message)
        ? (str(res.message.text) ?? str(res.message.markdown) ?? str(res.message.id))
        : undefined;
      if (message === undefined)
        throw new EvidenceError(`SARIF runs[${r}].results[${i}] has no message text`);
      const loc =
        Array.isArray(res.locations) && isObject(res.locations[0]) ? res.locations[0] : undefined;
      const phys = loc && isObject(loc.physicalLocation) ? loc.physicalLocation : undefined;
      const uri =
        phys && isObject(phys.artifactLocation) ? str(phys.artifactLocation.uri) : undefined;
      const region = phys && isObject(phys.region) ? phys.region : undefined;
      const file = uri === undefined ? undefined : relativePath(safeDecode(uri), ctx);
      findings.push({
        fingerprint: lintFingerprint(tool, rule, file, message),
        tool,
        rule,
        level,
        message,
        ...(file !== undefined ? { file } : {}),
        ...(region && num(region.startLine) !== undefined ? { line: num(region.startLine) } : {}),
        ...(region && num(region.startColumn) !== undefined
          ? { column: num(region.startColumn) }
          : {}),
      });
    });
  });
  return {
    lint: lintSummaryOf(findings),
    ...(tools.length ? { tools: uniqueTools(tools) } : {}),
    findings,
  };
}

function safeDecode(uri: string): string {
  if (uri.startsWith('file://')) return uri;
  try {
    return decodeURIComponent(uri);
  } catch {
    return uri;
  }
}
