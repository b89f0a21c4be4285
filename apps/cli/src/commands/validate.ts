import { GatehouseError } from '@gatehouse-ci/core';
import type { Command } from '../command.js';
import { CONFIG_OPTION, hasErrors, openProject, printDiagnostics, shown } from '../project.js';

/** Version of the `--format json` output; bumped only on incompatible changes. */
export const VALIDATE_JSON_VERSION = 1;

export const validate: Command = {
  name: 'validate',
  summary: 'Check gatehouse.yml and print every problem with its location and a hint',
  usage: 'validate [--config FILE] [--format text|json]',
  details: [
    'Exit status: 0 when the config is valid (warnings allowed), 1 when it has errors.',
    'Also checks `targets:` against the installed target plugins and their options.',
    '',
    'Examples:',
    '  gatehouse validate',
    '  gatehouse validate --config ci/gatehouse.yml --format json',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
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
      };
      io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
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
