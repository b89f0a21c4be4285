import { checkFiles, shownFilePath, type FileCheck } from '@gatehouse-ci/core';
import type { Command, CommandContext } from '../command.js';
import { CONFIG_OPTION, shown } from '../project.js';
import {
  COMPILE_JSON_VERSION,
  JSON_OPTION,
  compileInMemory,
  compileProject,
  errorDiagnostics,
  jsonFailure,
  printJson,
  type Compiled,
} from './compile.js';

/** The `gatehouse compile …` command that brings the stale files of `targets` up to date. */
function fixCommand(ctx: CommandContext, targets: string[]): string {
  return `gatehouse compile${ctx.values.config ? ` --config ${String(ctx.values.config)}` : ''}${targets.map((t) => ` --target ${t}`).join('')}`;
}

/** Targets of the files that are not up to date. */
function staleTargets(files: Array<{ target: string }>, results: FileCheck[]): string[] {
  return [...new Set(files.filter((_, i) => results[i]!.status !== 'ok').map((f) => f.target))];
}

async function checkJson(ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  let r: Compiled | null = null;
  let results: FileCheck[];
  try {
    r = await compileProject(ctx);
    if (!r.ok) {
      printJson(io, jsonFailure(io, 'check', r.configPath, [...r.warnings, ...r.diagnostics]));
      return 1;
    }
    results = await checkFiles(r.rootDir, r.files, r.checkout.top);
  } catch (err) {
    printJson(io, jsonFailure(io, 'check', r?.configPath ?? null, errorDiagnostics(err)));
    return 1;
  }
  const bad = results.filter((x) => x.status !== 'ok');
  const targets = staleTargets(r.files, results);
  printJson(io, {
    version: COMPILE_JSON_VERSION,
    command: 'check',
    file: shown(io, r.configPath),
    ok: bad.length === 0,
    errors: 0,
    warnings: r.warnings.length,
    diagnostics: r.warnings,
    files: results.map((x, i) => ({
      path: shownFilePath(r.files[i]!, r.checkout.dir),
      target: r.files[i]!.target,
      status: x.status,
      diff: x.status === 'ok' ? null : x.diff,
      ...(x.keys ? { keys: x.keys } : {}),
    })),
    fix: bad.length === 0 ? null : fixCommand(ctx, targets),
  });
  return bad.length === 0 ? 0 : 1;
}

export const check: Command = {
  name: 'check',
  summary: 'Fail when a generated file differs from what `gatehouse compile` would write',
  usage: 'check [--config FILE] [--target NAME ...] [--json]',
  details: [
    'Exit status: 0 when every generated file is up to date, 1 when one is stale or missing',
    '(a unified diff per file shows what `gatehouse compile` would change).',
    '',
    'Examples:',
    '  gatehouse check',
    '  gatehouse check --target github',
    '  gatehouse check --json',
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
    json: JSON_OPTION,
  },
  async run(ctx) {
    if (ctx.values.json === true) return checkJson(ctx);
    const r = await compileInMemory(ctx);
    if (typeof r === 'number') return r;
    const { io } = ctx;
    const results = await checkFiles(r.rootDir, r.files, r.checkout.top);
    const bad = results.filter((x) => x.status !== 'ok');
    for (const [i, x] of results.entries()) {
      if (x.status === 'ok') continue;
      // A merged file (turbo.json, package.json) names the keys Gatehouse owns that drifted.
      const keys = (x.keys ?? []).map((k) => `  ${k}\n`).join('');
      io.stdout.write(
        `${x.status === 'missing' ? 'missing' : 'stale'}: ${shownFilePath(r.files[i]!, r.checkout.dir)}\n${keys}${x.diff}\n`,
      );
    }
    if (bad.length === 0) {
      io.stdout.write(`${results.length} file${results.length === 1 ? '' : 's'} up to date\n`);
      return 0;
    }
    io.stdout.write(
      `${bad.length} of ${results.length} generated file${results.length === 1 ? ' is' : 's are'} stale or missing; ` +
        `run \`${fixCommand(ctx, staleTargets(r.files, results))}\`\n`,
    );
    return 1;
  },
};
