import { GatehouseError } from '@gatehouse-ci/core';
import { explain as explainGates } from '@gatehouse-ci/runner';
import { affectedGatesOf, affectedOptions, affectedSummary } from '../affected.js';
import type { Command } from '../command.js';
import { CONFIG_OPTION, openValidProject } from '../project.js';

const ACTION = { run: 'runs', cached: 'cached', skip: 'skip' } as const;

export const explain: Command = {
  name: 'explain',
  summary: 'Say, for each gate, whether `gatehouse run` would use the cache and why',
  usage: 'explain [GATE] [--config FILE] [--affected [--base REF]] [--json]',
  details: [
    'Computes every cache key from the current files and compares it with the last run, without running anything.',
    'With GATE, explains that gate and the gates it needs.',
    '',
    'Examples:',
    '  gatehouse explain',
    '  gatehouse explain a11y',
    '  gatehouse explain --affected --base origin/main',
  ].join('\n'),
  allowPositionals: true,
  options: {
    config: CONFIG_OPTION,
    ...affectedOptions('Explain'),
    json: { type: 'boolean', description: 'Print JSON' },
  },
  async run({ io, values, positionals }) {
    const project = await openValidProject(io, values.config, { cache: true });
    if (typeof project === 'number') return project;
    const sel = await affectedGatesOf(values, project.pipeline, project.workspace);
    if (sel !== null && positionals.length > 0)
      throw new GatehouseError('GH_USAGE', '--affected cannot be combined with GATE');
    const list =
      sel !== null && sel.gates.length === 0
        ? []
        : await explainGates(project.pipeline, { gates: sel?.gates ?? positionals, env: io.env });
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return 0;
    }
    if (sel !== null) io.stdout.write(affectedSummary(sel));
    const width = Math.max(4, ...list.map((e) => e.id.length));
    for (const e of list) {
      const [first = '', ...rest] = e.reasons;
      io.stdout.write(`${e.id.padEnd(width)}  ${ACTION[e.action].padEnd(6)}  ${first}\n`);
      for (const r of rest) io.stdout.write(`${''.padEnd(width)}          ${r}\n`);
    }
    return 0;
  },
};
