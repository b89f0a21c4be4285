import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { didYouMean, isGatehouseError } from '@gatehouse-ci/core';
import type { Command, CommandEntry, Io } from './command.js';
import { commands } from './commands/index.js';

export type { Command, CommandContext, CommandEntry, Io, LazyCommand } from './command.js';

/** The CLI's own version, read from its package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

function defaultIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}

/** The command of an entry, importing its module when it is lazy. */
function loadCommand(entry: CommandEntry): Promise<Command> {
  return 'load' in entry ? entry.load() : Promise.resolve(entry);
}

async function mainHelp(): Promise<string> {
  const all = await Promise.all(commands.map(loadCommand));
  const width = Math.max(...all.map((c) => c.name.length));
  return [
    `gatehouse ${VERSION} — quality gates declared once, compiled to Dockerfile and CI, run anywhere, reported once.`,
    '',
    'Usage: gatehouse <command> [options]',
    '',
    'Commands:',
    ...all.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `gatehouse <command> --help` for the options of a command.',
    'Docs: docs/getting-started.md, docs/config-reference.md',
    '',
  ].join('\n');
}

/** `--help` text of one command. */
export function commandHelp(cmd: Command): string {
  const rows = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
    return [flag, `${o.description}${o.multiple ? ' (repeatable)' : ''}`] as const;
  });
  rows.push(['-h, --help', 'Show this help']);
  const width = Math.max(...rows.map((r) => r[0].length));
  return [
    `Usage: gatehouse ${cmd.usage}`,
    '',
    cmd.summary,
    ...(cmd.details ? ['', cmd.details.trimEnd()] : []),
    '',
    'Options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
    '',
  ].join('\n');
}

/** Run the CLI with arguments (without `node gatehouse`). Returns the exit code. */
export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    if (first === 'help' && rest[0]) return main([rest[0], '--help'], io);
    io.stdout.write(await mainHelp());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v' || first === 'version') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = commands.find((c) => c.name === first);
  if (!entry) {
    io.stderr.write(
      `gatehouse: unknown command \`${first}\`${suggest(
        first,
        commands.map((c) => c.name),
      )}\n`,
    );
    io.stderr.write('Run `gatehouse --help` for the list of commands.\n');
    return 2;
  }
  const cmd = await loadCommand(entry);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(commandHelp(cmd));
    return 0;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = Object.fromEntries(
      Object.entries(cmd.options).map(([k, o]) => {
        const { description: _d, valueName: _v, ...rest } = o;
        return [k, rest];
      }),
    );
    parsed = parseArgs({
      args: rest,
      options,
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true,
    });
  } catch (err) {
    io.stderr.write(`gatehouse ${cmd.name}: ${(err as Error).message}\n`);
    io.stderr.write(`Usage: gatehouse ${cmd.usage}\n`);
    return 2;
  }
  try {
    return await cmd.run({ io, values: parsed.values, positionals: parsed.positionals });
  } catch (err) {
    if (isGatehouseError(err)) {
      io.stderr.write(`gatehouse ${cmd.name}: error ${err.code}: ${err.message}\n`);
      if (err.hint) io.stderr.write(`  hint: ${err.hint}\n`);
      return 1;
    }
    throw err;
  }
}

/** ` — did you mean \`x\`?` for the closest command, or ''. */
function suggest(word: string, candidates: string[]): string {
  const hint = didYouMean(word, candidates);
  return hint ? ` — ${hint}` : '';
}
