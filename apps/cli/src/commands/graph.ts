import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  GatehouseError,
  criticalPath,
  formatDuration,
  topologicalLayers,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import { affectedGatesOf, affectedOptions, affectedSummary, pipelineOf } from '../affected.js';
import type { Command } from '../command.js';
import { CONFIG_OPTION, openValidProject } from '../project.js';

/** Gate durations (ms) from a `report.json`. */
async function readDurations(file: string): Promise<Record<string, number>> {
  let report: unknown;
  try {
    report = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new GatehouseError(
      'GH_INVALID_VALUE',
      `cannot read durations from ${file}: ${(err as Error).message}`,
      {
        hint: 'pass a report.json written by `gatehouse run` (e.g. .gatehouse/report/report.json)',
      },
    );
  }
  const gates = (report as { gates?: unknown }).gates;
  if (!Array.isArray(gates))
    throw new GatehouseError(
      'GH_INVALID_VALUE',
      `${file} is not a gatehouse report (no \`gates\` list)`,
    );
  const out: Record<string, number> = {};
  for (const g of gates) {
    const { id, durationMs } = (g ?? {}) as { id?: unknown; durationMs?: unknown };
    if (typeof id === 'string' && typeof durationMs === 'number' && Number.isFinite(durationMs))
      out[id] = durationMs;
  }
  return out;
}

/** `1m30s` style, but `0s` for zero and milliseconds under a second. */
function human(ms: number): string {
  return formatDuration(ms < 1000 ? Math.round(ms) : Math.round(ms / 1000) * 1000);
}

/** The text form: layers, then the critical path when durations are known. */
export function graphText(
  pipeline: ResolvedPipeline,
  durations: Record<string, number> | null,
): string {
  const layers = topologicalLayers(pipeline.gates);
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const label = (id: string): string => {
    const g = byId.get(id)!;
    const bits = [
      g.kind,
      g.mode === 'advisory' ? 'advisory' : null,
      durations && id in durations ? human(durations[id]!) : null,
    ];
    return `${id} (${bits.filter(Boolean).join(', ')})`;
  };
  const lines = [
    `${pipeline.name}: ${pipeline.gates.length} gate${pipeline.gates.length === 1 ? '' : 's'} in ${layers.length} layer${layers.length === 1 ? '' : 's'}`,
  ];
  if (pipeline.setup) lines.push('setup: runs first, once');
  layers.forEach((layer, i) => {
    lines.push(`layer ${i + 1}${layer.length > 1 ? ' (parallel)' : ''}: ${layer.join(', ')}`);
    for (const id of layer) {
      const needs = byId.get(id)!.needs;
      lines.push(`  ${label(id)}${needs.length ? ` <- needs ${needs.join(', ')}` : ''}`);
    }
  });
  if (pipeline.release)
    lines.push(`release: from ${pipeline.release.from}, after every blocking gate passed`);
  if (durations) {
    const cp = criticalPath(pipeline.gates, durations);
    lines.push(`critical path: ${cp.path.join(' -> ')} (${human(cp.totalMs)})`);
    const missing = pipeline.gates.filter((g) => !(g.id in durations)).map((g) => g.id);
    if (missing.length) lines.push(`no duration for: ${missing.join(', ')} (counted as 0)`);
  }
  return `${lines.join('\n')}\n`;
}

/** Mermaid flowchart; ids and kinds match strict patterns, so they need no escaping. */
export function graphMermaid(pipeline: ResolvedPipeline): string {
  const lines = ['flowchart LR'];
  for (const g of pipeline.gates) lines.push(`  ${g.id}["${g.id} (${g.kind})"]`);
  for (const g of pipeline.gates) for (const n of g.needs) lines.push(`  ${n} --> ${g.id}`);
  const advisory = pipeline.gates.filter((g) => g.mode === 'advisory').map((g) => g.id);
  if (advisory.length) {
    lines.push('  classDef advisory stroke-dasharray: 5 5');
    lines.push(`  class ${advisory.join(',')} advisory`);
  }
  return `${lines.join('\n')}\n`;
}

function dotString(s: string): string {
  return `"${s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r?\n|\r/g, '\\n')}"`;
}

/** Graphviz DOT. */
export function graphDot(pipeline: ResolvedPipeline): string {
  const lines = [`digraph ${dotString(pipeline.name)} {`, '  rankdir=LR;'];
  for (const g of pipeline.gates) {
    lines.push(
      `  ${dotString(g.id)} [label=${dotString(`${g.id}\n${g.kind}`)}${g.mode === 'advisory' ? ', style=dashed' : ''}];`,
    );
  }
  for (const g of pipeline.gates)
    for (const n of g.needs) lines.push(`  ${dotString(n)} -> ${dotString(g.id)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export const graph: Command = {
  name: 'graph',
  summary: 'Show the gate graph: parallel layers, and the critical path from a report',
  usage:
    'graph [--config FILE] [--format text|mermaid|dot] [--durations report.json] [--affected [--base REF]]',
  details: [
    'Examples:',
    '  gatehouse graph',
    '  gatehouse graph --durations .gatehouse/report/report.json',
    '  gatehouse graph --format dot | dot -Tsvg > gates.svg',
    '  gatehouse graph --affected --base origin/main',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
    format: { type: 'string', description: 'text (default), mermaid or dot', valueName: 'FORMAT' },
    durations: {
      type: 'string',
      description: 'A report.json whose gate durations give the critical path',
      valueName: 'FILE',
    },
    ...affectedOptions('Show'),
  },
  async run({ io, values }) {
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'mermaid' && format !== 'dot') {
      throw new GatehouseError('GH_INVALID_VALUE', `unknown --format \`${String(format)}\``, {
        hint: 'use text, mermaid or dot',
      });
    }
    const project = await openValidProject(io, values.config, { cache: true });
    if (typeof project === 'number') return project;
    const sel = await affectedGatesOf(values, project.pipeline, project.workspace);
    const pipeline = pipelineOf(project.pipeline, sel?.gates ?? null);
    // stdout may be a diagram for another tool: say what was selected on stderr.
    if (sel !== null) io.stderr.write(affectedSummary(sel));
    const durations =
      typeof values.durations === 'string'
        ? await readDurations(resolve(io.cwd, values.durations))
        : null;
    const out =
      format === 'mermaid'
        ? graphMermaid(pipeline)
        : format === 'dot'
          ? graphDot(pipeline)
          : graphText(pipeline, durations);
    io.stdout.write(out);
    return 0;
  },
};
