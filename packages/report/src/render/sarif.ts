import type { Finding, RunReport } from '@gatehouse-ci/core';

/** SARIF 2.1.0 log (only the members Gatehouse writes). */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: Array<Record<string, unknown>>;
}

export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/**
 * SARIF 2.1.0 of every lint and accessibility finding in the report (code-scanning upload,
 * IDE viewers): one run per tool, rules listed once, locations as file/line/column or, for
 * accessibility, the page with the CSS selector as a logical location. The Gatehouse
 * fingerprint is kept in `partialFingerprints` so baselines and SARIF agree.
 */
export function renderSarif(report: RunReport): string {
  return `${JSON.stringify(toSarif(report), null, 2)}\n`;
}

export function toSarif(report: RunReport): SarifLog {
  const byTool = new Map<string, Array<{ gate: string; f: Finding }>>();
  for (const g of report.gates) {
    for (const f of g.evidence.findings) {
      const list = byTool.get(f.tool) ?? [];
      list.push({ gate: g.id, f });
      byTool.set(f.tool, list);
    }
  }
  const runs = [...byTool.keys()].sort().map((tool) => {
    const items = byTool.get(tool)!;
    const ruleIds = [...new Set(items.map((i) => i.f.rule))].sort();
    const index = new Map(ruleIds.map((r, i) => [r, i]));
    return {
      tool: {
        driver: {
          name: tool,
          informationUri: 'https://github.com/gatehouse',
          rules: ruleIds.map((id) => ({ id })),
        },
      },
      automationDetails: { id: `gatehouse/${report.pipeline}/${report.runId}/${tool}` },
      ...(report.git.commit
        ? {
            versionControlProvenance: [
              {
                repositoryUri: 'file:///',
                revisionId: report.git.commit,
                ...(report.git.branch ? { branch: report.git.branch } : {}),
              },
            ],
          }
        : {}),
      results: items.map(({ gate, f }) => ({
        ruleId: f.rule,
        ruleIndex: index.get(f.rule)!,
        level: f.level,
        message: { text: f.message },
        locations: [location(f)],
        partialFingerprints: { 'gatehouse/v1': f.fingerprint },
        properties: {
          gate,
          ...(f.impact ? { impact: f.impact } : {}),
          ...(f.selector ? { selector: f.selector } : {}),
        },
      })),
    };
  });
  return { $schema: SARIF_SCHEMA_URI, version: '2.1.0', runs };
}

function location(f: Finding): Record<string, unknown> {
  const uri = f.file ?? f.page;
  const physical = uri
    ? {
        physicalLocation: {
          artifactLocation: { uri: encodeURI(wellFormed(uri)) },
          ...(f.line
            ? { region: { startLine: f.line, ...(f.column ? { startColumn: f.column } : {}) } }
            : {}),
        },
      }
    : {};
  const logical = f.selector
    ? { logicalLocations: [{ fullyQualifiedName: f.selector, kind: 'element' }] }
    : {};
  return { ...physical, ...logical };
}

/** Lone surrogates cannot be percent-encoded; a URI gets U+FFFD in their place. */
function wellFormed(s: string): string {
  return s.replace(
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    '\uFFFD',
  );
}
