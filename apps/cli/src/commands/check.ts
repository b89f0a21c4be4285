import { checkFiles } from '@gatehouse-ci/core';
import type { Command } from '../command.js';
import { CONFIG_OPTION } from '../project.js';
import { compileInMemory } from './compile.js';

export const check: Command = {
  name: 'check',
  summary: 'Fail when a generated file differs from what `gatehouse compile` would write',
  usage: 'check [--config FILE] [--target NAME ...]',
  details: [
    'Exit status: 0 when every generated file is up to date, 1 when one is stale or missing',
    '(a unified diff per file shows what `gatehouse compile` would change).',
    '',
    'Examples:',
    '  gatehouse check',
    '  gatehouse check --target github',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
    target: {
      type: 'string',
      short: 't',
      multiple: true,
      description: 'Target to check',
      valueName: 'NAME',
    },
  },
  async run(ctx) {
    const r = await compileInMemory(ctx);
    if (typeof r === 'number') return r;
    const { io } = ctx;
    const results = await checkFiles(r.rootDir, r.files);
    const bad = results.filter((x) => x.status !== 'ok');
    for (const x of bad) {
      io.stdout.write(`${x.status === 'missing' ? 'missing' : 'stale'}: ${x.path}\n${x.diff}\n`);
    }
    if (bad.length === 0) {
      io.stdout.write(`${results.length} file${results.length === 1 ? '' : 's'} up to date\n`);
      return 0;
    }
    const targets = [
      ...new Set(r.files.filter((f) => bad.some((b) => b.path === f.path)).map((f) => f.target)),
    ];
    io.stdout.write(
      `${bad.length} of ${results.length} generated file${results.length === 1 ? ' is' : 's are'} stale or missing; ` +
        `run \`gatehouse compile${ctx.values.config ? ` --config ${String(ctx.values.config)}` : ''}${targets.map((t) => ` --target ${t}`).join('')}\`\n`,
    );
    return 1;
  },
};
