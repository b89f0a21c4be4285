import type { Command } from '../command.js';
import { affectedSelection, DEFAULT_BASE } from '../affected.js';
import { CONFIG_OPTION, openValidProject } from '../project.js';

export const affected: Command = {
  name: 'affected',
  summary: 'List the workspace packages and gates a change since a base ref can affect',
  usage: 'affected [--config FILE] [--base REF] [--json]',
  details: [
    'Changed files are those since the merge-base of HEAD and REF (committed, staged, unstaged and',
    'untracked), mapped to the packages that own them, plus every package depending on those,',
    'transitively. A changed file outside every package (a root config, the lockfile) affects',
    'every package, except documentation at the top (*.md, LICENSE) and .gatehouse/, .turbo/,',
    '.nx/. Gates not declared for',
    '`packages` are always selected. `gatehouse run --affected` runs exactly these gates.',
    '',
    'Examples:',
    '  gatehouse affected',
    '  gatehouse affected --base origin/main --json',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
    base: {
      type: 'string',
      description: `Compare with the merge-base of HEAD and REF (default ${DEFAULT_BASE})`,
      valueName: 'REF',
    },
    json: { type: 'boolean', description: 'Print the set as JSON' },
  },
  async run({ io, values }) {
    const project = await openValidProject(io, values.config);
    if (typeof project === 'number') return project;
    const base = typeof values.base === 'string' ? values.base : DEFAULT_BASE;
    const s = await affectedSelection(project.pipeline, base);
    if (values.json === true) {
      io.stdout.write(
        `${JSON.stringify({ base: s.base, files: s.files, changed: s.changed, global: s.global, packages: s.affected, gates: s.gates }, null, 2)}\n`,
      );
      return 0;
    }
    io.stdout.write(
      `${s.files.length} file${s.files.length === 1 ? '' : 's'} changed since ${base}; ${s.affected.length} package${s.affected.length === 1 ? '' : 's'} affected${s.global.length > 0 ? ` (every package: ${s.global.slice(0, 3).join(', ')}${s.global.length > 3 ? ', …' : ''} changed outside the packages)` : ''}\n`,
    );
    for (const p of s.affected)
      io.stdout.write(`  ${p}${s.changed.includes(p) ? '' : ' (depends on a changed package)'}\n`);
    io.stdout.write(`gates: ${s.gates.length > 0 ? s.gates.join(', ') : '(none)'}\n`);
    return 0;
  },
};
