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
  type ParseContext,
  type ParsedEvidence,
} from './types.js';

/**
 * ESLint's `-f json` output: an array of `{ filePath, messages: [{ ruleId, severity, message,
 * line, column }] }`. Severity 2 is an error, 1 a warning; a parse error has `ruleId: null`
 * and `fatal: true` and counts as an error.
 * @see https://eslint.org/docs/latest/use/formatters/#json
 */
export function parseEslint(text: string, ctx: ParseContext): ParsedEvidence {
  const data = parseJson(text, 'ESLint report');
  if (!Array.isArray(data))
    throw new EvidenceError('ESLint report must be a JSON array of file results (eslint -f json)');
  const findings: Finding[] = [];
  data.forEach((entry, i) => {
    if (!isObject(entry) || typeof entry.filePath !== 'string' || !Array.isArray(entry.messages)) {
      throw new EvidenceError(`ESLint report entry ${i} has no filePath/messages`);
    }
    const file = relativePath(entry.filePath, ctx);
    for (const m of entry.messages) {
      if (!isObject(m) || typeof m.message !== 'string')
        throw new EvidenceError(`ESLint report entry ${i} has a message without text`);
      const severity = num(m.severity);
      const rule = str(m.ruleId) ?? (m.fatal === true ? 'fatal' : 'eslint');
      const level: Finding['level'] =
        severity === 2 || m.fatal === true ? 'error' : severity === 1 ? 'warning' : 'note';
      findings.push({
        fingerprint: lintFingerprint('eslint', rule, file, m.message),
        tool: 'eslint',
        rule,
        level,
        message: m.message,
        file,
        ...(num(m.line) !== undefined ? { line: num(m.line) } : {}),
        ...(num(m.column) !== undefined ? { column: num(m.column) } : {}),
      });
    }
  });
  // ESLint lists every file it linted, with or without messages.
  return {
    lint: { ...lintSummaryOf(findings), checked: data.length },
    producers: ['eslint'],
    findings,
  };
}
