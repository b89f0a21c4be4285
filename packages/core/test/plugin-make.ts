/**
 * @gatehouse-ci/plugin-make — the `make` target: a Makefile with one rule per gate.
 * Each rule calls the CLI, so no command text of the config reaches the file.
 */
import {
  defineTarget,
  definePlugin,
  GatehouseError,
  generatedHeader,
  OptionReader,
  type Diagnostic,
  type ResolvedPipeline,
  type TargetContext,
  type TargetOptions,
} from '../src/index.js';

// options: `targets.make`, resolved once by the driver.
export interface MakeOptions {
  /** How a rule calls the CLI. @default 'npx --no-install gatehouse' */
  cli: string;
}

/** Plain words only: make expands `$`, and a newline would start a new rule. */
const WORDS = /^[A-Za-z0-9_./@:=+-]+(?: [A-Za-z0-9_./@:=+-]+)*$/;

export function resolveMakeOptions(raw: TargetOptions): {
  value: MakeOptions;
  diagnostics: Diagnostic[];
} {
  // Reports unknown keys and wrong values at their path; a wrong value keeps the default.
  const r = new OptionReader(raw, ['cli']);
  const cli = r.string(
    'cli',
    WORDS,
    '`cli` must be plain words',
    'letters, digits, single spaces and `_ . / @ : = + -`',
  );
  return { value: { cli: cli ?? 'npx --no-install gatehouse' }, diagnostics: r.diagnostics };
}

// model: the part of make's syntax this target writes.
export interface MakeRule {
  target: string;
  prerequisites: string[];
  /** Each line is a word list, joined by single spaces. */
  recipe: string[][];
}
export interface Makefile {
  comment: string;
  phony: string[];
  rules: MakeRule[];
}

// build: pipeline → model. Gate ids match ^[a-z][a-z0-9-]{0,62}$ (core validates them).
export function buildMakefile(
  pipeline: ResolvedPipeline,
  options: MakeOptions,
  ctx: TargetContext,
): Makefile {
  const ids = pipeline.gates.map((g) => g.id);
  return {
    comment: generatedHeader(ctx.configFile),
    phony: ['all', ...ids],
    rules: [
      { target: 'all', prerequisites: ids, recipe: [] },
      ...ids.map((id) => ({
        target: id,
        prerequisites: [],
        recipe: [[...options.cli.split(' '), 'run', '--gate', id]],
      })),
    ],
  };
}

// print: model → text; every word is checked again, so no model can write anything else.
function word(text: string): string {
  if (!WORDS.test(text) || text.includes(' '))
    throw new GatehouseError('GH_TARGET_EMIT', `make: \`${text}\` is not a plain word`);
  return text;
}

export function printMakefile(makefile: Makefile): string {
  const lines = [`# ${makefile.comment}`, '', `.PHONY: ${makefile.phony.map(word).join(' ')}`];
  for (const rule of makefile.rules) {
    lines.push(`${word(rule.target)}:${rule.prerequisites.map((p) => ` ${word(p)}`).join('')}`);
    for (const line of rule.recipe) lines.push(`\t${line.map(word).join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

// index: the plugin.
export default definePlugin({
  name: '@gatehouse-ci/plugin-make',
  targets: {
    make: defineTarget({
      description: 'Makefile: one rule per gate, each running `gatehouse run --gate <id>`',
      resolveOptions: resolveMakeOptions,
      emit: (pipeline, options, ctx) => [
        { path: 'Makefile', contents: printMakefile(buildMakefile(pipeline, options, ctx)) },
      ],
    }),
  },
});
