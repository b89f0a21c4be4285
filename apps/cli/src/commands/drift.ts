import {
  DRIFT_CHANGES,
  isGatehouseError,
  presetDrift,
  type DriftEntry,
  type PresetRecord,
} from '@gatehouse-ci/core';
import type { Command } from '../command.js';
import { CONFIG_OPTION, hasErrors, openProject, printDiagnostics, shown } from '../project.js';

/** Version of the `--json` output; bumped only on incompatible changes. */
export const DRIFT_JSON_VERSION = 1;

/** Exit status when the drift cannot be told (invalid config, no presets, unreadable file). */
const CANNOT_TELL = 2;

export const drift: Command = {
  name: 'drift',
  summary: "Show how the config's gates differ from the presets it extends",
  usage: 'drift [--config FILE] [--json]',
  details: [
    'Compares the gates of the config merged with its presets (`extends:`) with the gates of',
    'the presets alone, kind defaults applied: gates removed or added, thresholds loosened or',
    'tightened (`max_*` raised, `min_coverage` lowered, `sonar_quality_gate` off, a',
    '`baseline` added), blocking made advisory, and other keys changed (`run`, `needs`, …).',
    '',
    'Exit status: 0 when nothing was removed, loosened or changed (added gates and tightened',
    'thresholds are listed but are not drift), 1 when something was, 2 when it cannot be',
    'told (the config is invalid or extends no preset).',
    '',
    'Examples:',
    '  gatehouse drift',
    '  gatehouse drift --config services/api/gatehouse.yml --json',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
    json: { type: 'boolean', description: 'Print the differences as JSON' },
  },
  async run({ io, values }) {
    const json = values.json === true;
    let project: Awaited<ReturnType<typeof openProject>>;
    try {
      project = await openProject(io, values.config);
    } catch (err) {
      if (!isGatehouseError(err)) throw err;
      io.stderr.write(`gatehouse drift: error ${err.code}: ${err.message}\n`);
      if (err.hint) io.stderr.write(`  hint: ${err.hint}\n`);
      return CANNOT_TELL;
    }
    const { pipeline } = project;
    if (!pipeline || hasErrors(project.diagnostics)) {
      printDiagnostics(io.stderr, project.diagnostics);
      return CANNOT_TELL;
    }
    const file = shown(io, project.configPath);
    if (!pipeline.presets || !project.presetBase || !project.resolved) {
      io.stderr.write(
        `gatehouse drift: ${file} extends no preset: there is nothing to compare with\n`,
      );
      return CANNOT_TELL;
    }
    const differences = presetDrift(
      project.presetBase,
      project.resolved,
      project.registry.presets(),
    );
    const drifted = differences.some((d) => DRIFT_CHANGES.includes(d.change));
    const presets: PresetRecord[] = pipeline.presets.map(({ name, version, sha256 }) => ({
      name,
      ...(version !== undefined ? { version } : {}),
      sha256,
    }));
    if (json) {
      const counts = Object.fromEntries(
        (['removed', 'added', 'loosened', 'tightened', 'changed'] as const).map((c) => [
          c,
          differences.filter((d) => d.change === c).length,
        ]),
      );
      io.stdout.write(
        `${JSON.stringify({ version: DRIFT_JSON_VERSION, file, presets, drift: drifted, counts, differences }, null, 2)}\n`,
      );
      return drifted ? 1 : 0;
    }
    const names = presets.map((p) => `${p.name}${p.version ? `@${p.version}` : ''}`).join(', ');
    io.stdout.write(`${file} extends ${names}\n`);
    for (const d of differences) io.stdout.write(`  ${line(d)}\n`);
    io.stdout.write(
      differences.length === 0
        ? 'no drift: every gate is as its presets define it\n'
        : drifted
          ? `drift: ${differences.filter((d) => DRIFT_CHANGES.includes(d.change)).length} difference(s) remove, loosen or change what the presets define\n`
          : 'no drift: the config only adds gates or tightens thresholds\n',
    );
    return drifted ? 1 : 0;
  },
};

const show = (v: unknown): string => (v === null ? '(not set)' : JSON.stringify(v));

function line(d: DriftEntry): string {
  if (d.change === 'removed') return `removed    ${d.gate}`;
  if (d.change === 'added') return `added      ${d.gate}`;
  return `${d.change.padEnd(10)} ${d.gate}.${d.key}: ${show(d.preset)} -> ${show(d.config)}`;
}
