import type { EvidenceFormat, Finding, GateResult, RunReport } from '@gatehouse-ci/core';

/** SARIF 2.1.0 log (only the members Gatehouse writes). */
export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: Array<Record<string, unknown>>;
}

export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/**
 * GitHub code scanning's hard limits on an uploaded SARIF file (a file over them is rejected).
 * @see https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
 */
export const GITHUB_SARIF_LIMITS = {
  runsPerFile: 20,
  resultsPerRun: 25_000,
  rulesPerRun: 25_000,
  locationsPerResult: 1000,
  tagsPerRule: 20,
} as const;

/** Driver name of the run written when no tool that reports findings ran. */
export const SARIF_EMPTY_RUN_TOOL = 'gatehouse';

/** Where each tool that Gatehouse reads findings from is described. */
const TOOL_URI: Record<string, string> = {
  eslint: 'https://eslint.org',
  'axe-core': 'https://github.com/dequelabs/axe-core',
  pa11y: 'https://pa11y.org',
};

/** The tool an evidence format names when its file held no finding (SARIF names its own). */
const FORMAT_TOOL: Partial<Record<EvidenceFormat, string>> = {
  eslint: 'eslint',
  axe: 'axe-core',
  pa11y: 'pa11y',
};

/**
 * SARIF 2.1.0 of every lint and accessibility finding in the report (code-scanning upload,
 * IDE viewers): one run per tool that ran, with or without findings, so an upload also closes
 * the alerts a fix removed. Each run's `automationDetails.id` is `gatehouse/<pipeline>/<tool>/`:
 * GitHub takes the part up to the last `/` as the analysis category, so the category is the
 * same in every run of the pipeline. Rules are listed once per run with their descriptions;
 * locations are file/line/column or, for accessibility, the page with the CSS selector as a
 * logical location. The Gatehouse fingerprint is kept in `partialFingerprints` so baselines and
 * SARIF agree.
 */
export function renderSarif(report: RunReport): string {
  return `${JSON.stringify(toSarif(report), null, 2)}\n`;
}

interface Item {
  gate: string;
  f: Finding;
}

export function toSarif(report: RunReport): SarifLog {
  const byTool = new Map<string, Item[]>();
  const versions = new Map<string, string>();
  const add = (tool: string): Item[] => {
    let list = byTool.get(tool);
    if (!list) byTool.set(tool, (list = []));
    return list;
  };
  for (const g of report.gates) {
    for (const tool of toolsThatRan(g)) add(tool);
    for (const t of g.tools ?? []) if (!versions.has(t.name)) versions.set(t.name, t.version);
    for (const f of g.evidence.findings) add(runTool(f.tool)).push({ gate: g.id, f });
  }
  if (byTool.size === 0) add(SARIF_EMPTY_RUN_TOOL);
  const tools = [...byTool.keys()].sort().slice(0, GITHUB_SARIF_LIMITS.runsPerFile);
  const runs = tools.map((tool) => {
    // Errors first, so a cap keeps what matters most.
    const items = byTool
      .get(tool)!
      .slice()
      .sort((a, b) => LEVEL_RANK[a.f.level] - LEVEL_RANK[b.f.level])
      .slice(0, GITHUB_SARIF_LIMITS.resultsPerRun);
    const ruleIds = [...new Set(items.map((i) => i.f.rule))].sort();
    const index = new Map(ruleIds.map((r, i) => [r, i]));
    const gatesOf = (rule: string): string[] =>
      [...new Set(items.filter((i) => i.f.rule === rule).map((i) => i.gate))].sort();
    const version = versions.get(tool);
    const informationUri = TOOL_URI[tool];
    return {
      tool: {
        driver: {
          name: tool,
          ...(version ? { version } : {}),
          ...(informationUri ? { informationUri } : {}),
          rules: ruleIds.map((id) => rule(tool, id, gatesOf(id), items)),
        },
      },
      automationDetails: { id: sarifCategory(report.pipeline, tool) },
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
        message: { text: f.message || f.rule },
        locations: [location(f)],
        partialFingerprints: { 'gatehouse/v1': f.fingerprint },
        properties: {
          gate,
          ...(f.tool !== tool ? { tool: f.tool } : {}),
          ...(f.impact ? { impact: f.impact } : {}),
          ...(f.selector ? { selector: f.selector } : {}),
        },
      })),
    };
  });
  return { $schema: SARIF_SCHEMA_URI, version: '2.1.0', runs };
}

/**
 * `automationDetails.id` of a tool's run: the same in every run of a pipeline (no run id), and
 * ending in `/` so that GitHub takes all of it as the category. Each part is percent-encoded,
 * so a `/` in a name cannot move the boundary.
 */
export function sarifCategory(pipeline: string, tool: string): string {
  return `gatehouse/${encodeURIComponent(wellFormed(pipeline))}/${encodeURIComponent(wellFormed(tool))}/`;
}

const LEVEL_RANK: Record<Finding['level'], number> = { error: 0, warning: 1, note: 2 };

/** The tools a gate's evidence shows it ran, even when they found nothing. */
function toolsThatRan(g: GateResult): string[] {
  const out = new Set<string>();
  for (const file of g.evidence.files ?? []) {
    const tool = FORMAT_TOOL[file.format];
    if (tool) out.add(tool);
    // A SARIF file names its tools; their versions are kept as evidence tools.
    if (file.format === 'sarif')
      for (const t of g.tools ?? []) if (t.source === 'evidence') out.add(t.name);
  }
  return [...out].map(runTool);
}

/**
 * The run a tool's findings go to: pa11y names its runner (`pa11y/axe`), which is the same
 * tool for the category, whether or not a run found anything.
 */
function runTool(tool: string): string {
  return tool.split('/')[0] || tool;
}

/** A rule's descriptor: what GitHub shows at the top of an alert. */
function rule(tool: string, id: string, gates: string[], items: Item[]): Record<string, unknown> {
  const sample = items.find((i) => i.f.rule === id)?.f;
  const level = items.some((i) => i.f.rule === id && i.f.level === 'error')
    ? 'error'
    : sample?.level;
  const uri = ruleUri(tool, id);
  const where = gates.length
    ? ` in the ${gates.join(', ')} gate${gates.length > 1 ? 's' : ''}`
    : '';
  const short = `${tool}: ${id}`;
  const full = `Rule ${id} of ${tool}, reported${where} of a Gatehouse run.`;
  const helpText = uri
    ? `See the ${tool} documentation of ${id}: ${uri}`
    : `${id} is a rule of ${tool}; its documentation is that tool's.`;
  return {
    id,
    shortDescription: { text: short },
    fullDescription: { text: full },
    help: {
      text: helpText,
      markdown: uri
        ? `See the ${tool} documentation of [${mdText(id)}](${uri}).`
        : `${mdText(id)} is a rule of ${mdText(tool)}; its documentation is that tool's.`,
    },
    ...(uri ? { helpUri: uri } : {}),
    ...(level ? { defaultConfiguration: { level } } : {}),
  };
}

/** A rule's own page, for the tools that publish one per rule. */
function ruleUri(tool: string, id: string): string | undefined {
  // ESLint's core rules have one-word names; plugin rules (`plugin/rule`) are documented by the plugin.
  if (tool === 'eslint' && /^[a-z][a-z0-9-]*$/.test(id))
    return `https://eslint.org/docs/latest/rules/${id}`;
  return undefined;
}

/** Text in Markdown with its markup characters escaped. */
function mdText(s: string): string {
  return s.replace(/[\\`*_{}[\]()<>#+\-.!|~]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ');
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
