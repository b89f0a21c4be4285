import type { SonarSummary } from '@gatehouse-ci/core';
import { EvidenceError, isObject, parseJson, str, toolOf, type ParsedEvidence } from './types.js';

const STATUSES = new Set(['OK', 'WARN', 'ERROR', 'NONE']);

/**
 * SonarQube evidence, either of:
 * - the quality-gate API response `GET api/qualitygates/project_status?analysisId=…`:
 *   `{ projectStatus: { status, conditions: [{ status, metricKey, comparator, errorThreshold, actualValue }] } }`;
 * - the scanner's `report-task.txt` (`.scannerwork/report-task.txt`: `dashboardUrl=…`,
 *   `ceTaskId=…`): it proves an analysis was submitted, not its outcome, so the status is `NONE`.
 * @see https://next.sonarqube.com/sonarqube/web_api/api/qualitygates/project_status
 */
export function parseSonar(text: string): ParsedEvidence {
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('{')) {
    const data = parseJson(trimmed, 'SonarQube quality gate response');
    if (!isObject(data) || !isObject(data.projectStatus)) {
      throw new EvidenceError(
        'SonarQube response has no "projectStatus" (expected api/qualitygates/project_status)',
      );
    }
    const ps = data.projectStatus;
    const status = str(ps.status);
    if (status === undefined || !STATUSES.has(status))
      throw new EvidenceError(
        `SonarQube projectStatus.status ${JSON.stringify(ps.status)} is not OK/WARN/ERROR/NONE`,
      );
    const conditions: SonarSummary['conditions'] = [];
    for (const c of Array.isArray(ps.conditions) ? ps.conditions : []) {
      if (!isObject(c)) continue;
      const actual = str(c.actualValue);
      const threshold = str(c.errorThreshold) ?? str(c.warningThreshold);
      conditions.push({
        metric: str(c.metricKey) ?? 'unknown',
        status: str(c.status) ?? 'NONE',
        ...(actual !== undefined ? { actual } : {}),
        ...(threshold !== undefined
          ? { threshold: `${str(c.comparator) ?? ''} ${threshold}`.trim() }
          : {}),
      });
    }
    return { sonar: { status: status as SonarSummary['status'], conditions }, findings: [] };
  }
  const props = new Map<string, string>();
  for (const line of trimmed.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1)
      throw new EvidenceError(
        `SonarQube report-task.txt line is not key=value: ${JSON.stringify(line.slice(0, 80))}`,
      );
    props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  if (!props.has('ceTaskId') && !props.has('dashboardUrl')) {
    throw new EvidenceError(
      'SonarQube evidence is neither a quality-gate JSON response nor a report-task.txt (no ceTaskId/dashboardUrl)',
    );
  }
  const dashboardUrl = props.get('dashboardUrl');
  // The scanner records the version of the server that took the analysis.
  const server = toolOf('SonarQube server', props.get('serverVersion'));
  return {
    sonar: { status: 'NONE', ...(dashboardUrl ? { dashboardUrl } : {}), conditions: [] },
    ...(server ? { tools: [server] } : {}),
    findings: [],
  };
}
