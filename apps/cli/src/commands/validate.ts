import { GatehouseError, configSchema, stringifyYaml, type YamlValue } from '@gatehouse-ci/core';
import type { Command } from '../command.js';
import { CONFIG_OPTION, hasErrors, openProject, printDiagnostics, shown } from '../project.js';

/** Version of the `--format json` output; bumped only on incompatible changes. */
export const VALIDATE_JSON_VERSION = 1;

export const validate: Command = {
  name: 'validate',
  summary: 'Check gatehouse.yml and print every problem with its location and a hint',
  usage: 'validate [--config FILE] [--format text|json] [--print-resolved]',
  details: [
    'Exit status: 0 when the config is valid (warnings allowed), 1 when it has errors.',
    'Also checks `targets:` against the installed target plugins and their options, and the',
    'presets of `extends:`. With --print-resolved, the config merged with its presets is',
    'printed as YAML (the diagnostics then go to stderr), or as `resolved` with --format json.',
    '',
    'Examples:',
    '  gatehouse validate',
    '  gatehouse validate --config ci/gatehouse.yml --format json',
    '  gatehouse validate --print-resolved',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
    'print-resolved': {
      type: 'boolean',
      description: 'Print the config merged with its presets (`extends:`)',
    },
    format: {
      type: 'string',
      description: 'Output format: text (default) or json',
      valueName: 'FORMAT',
    },
  },
  async run({ io, values }) {
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'json') {
      throw new GatehouseError('GH_INVALID_VALUE', `unknown --format \`${String(format)}\``, {
        hint: 'use text or json',
      });
    }
    const project = await openProject(io, values.config);
    const { diagnostics, pipeline } = project;
    const invalid = hasErrors(diagnostics) || !pipeline;
    const printResolved = values['print-resolved'] === true;
    if (format === 'json') {
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const out = {
        version: VALIDATE_JSON_VERSION,
        file: shown(io, project.configPath),
        valid: !invalid,
        errors,
        warnings: diagnostics.length - errors,
        diagnostics,
        gates: pipeline ? pipeline.gates.map((g) => g.id) : null,
        targets: pipeline ? Object.keys(pipeline.targets) : null,
        configSha256: pipeline?.configSha256 ?? null,
        presets: pipeline?.presets?.map(({ name, version, sha256 }) => ({ name, version, sha256 })),
        ...(printResolved ? { resolved: project.resolved ? ordered(project.resolved) : null } : {}),
      };
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return invalid ? 1 : 0;
    }
    if (printResolved) {
      if (project.resolved) io.stdout.write(stringifyYaml(ordered(project.resolved) as YamlValue));
      printDiagnostics(io.stderr, diagnostics);
      return invalid ? 1 : 0;
    }
    if (!invalid) {
      const targets = Object.keys(pipeline.targets);
      io.stdout.write(
        `${shown(io, project.configPath)} is valid: ${pipeline.gates.length} gate${pipeline.gates.length === 1 ? '' : 's'}` +
          `${targets.length ? `, targets: ${targets.join(', ')}` : ', no targets'}\n`,
      );
    }
    printDiagnostics(io.stdout, diagnostics);
    return invalid ? 1 : 0;
  },
};

/** Top-level keys in the order of the config reference (`version`, `name`, … `plugins`). */
function ordered(config: Record<string, unknown>): Record<string, unknown> {
  const order = Object.keys(configSchema.properties ?? {});
  const rank = (k: string): number => (order.includes(k) ? order.indexOf(k) : order.length);
  return Object.fromEntries(Object.entries(config).sort(([a], [b]) => rank(a) - rank(b)));
}
