import {
  checkOutputPaths,
  checkoutOf,
  shownFilePath,
  compileTargets,
  isGatehouseError,
  withFrames,
  writeFiles,
  type Checkout,
  type CompiledFile,
  type Diagnostic,
} from '@gatehouse-ci/core';
import type { CommandContext, Command, Io, OptionSpec } from '../command.js';
import { CONFIG_OPTION, hasErrors, openProject, printDiagnostics, shown } from '../project.js';
import { CLI_VERSION } from '../version.js';

/** Version of the `--json` output of `compile` and `check`; bumped only on incompatible changes. */
export const COMPILE_JSON_VERSION = 1;

/** The `--json` option of `compile` and `check`. */
export const JSON_OPTION: OptionSpec = {
  type: 'boolean',
  description:
    'Print one JSON object on stdout (files, diagnostics with file:line:col) instead of text',
};

/**
 * What compiling in memory gives: the files and the config's warnings, or what stopped it:
 * the config's diagnostics (`warnings` empty), or the config's warnings and the diagnostics of
 * the targets that refused it.
 */
export type Compiled =
  | {
      ok: true;
      configPath: string;
      rootDir: string;
      /** Where the config directory sits in the repository CI checks out. */
      checkout: Checkout;
      files: CompiledFile[];
      warnings: Diagnostic[];
    }
  | { ok: false; configPath: string; warnings: Diagnostic[]; diagnostics: Diagnostic[] };

/**
 * Load the project and compile the selected targets in memory, printing nothing. Every
 * diagnostic that stops it carries its config location when it has a config path.
 */
export async function compileProject({ io, values }: CommandContext): Promise<Compiled> {
  const project = await openProject(io, values.config);
  const configPath = project.configPath;
  if (!project.pipeline || hasErrors(project.diagnostics))
    return { ok: false, configPath, warnings: [], diagnostics: project.diagnostics };
  const pipeline = project.pipeline;
  const warnings = project.diagnostics;
  const targets = Array.isArray(values.target)
    ? values.target.filter((t): t is string => typeof t === 'string')
    : [];
  try {
    // Only the selected targets' plugins are imported; unknown names are reported by compileTargets.
    await project.registry.load({
      targets: targets.length > 0 ? targets : Object.keys(pipeline.targets),
    });
    const checkout = checkoutOf(pipeline.rootDir);
    const files = compileTargets(pipeline, project.registry, {
      targets,
      gatehouseVersion: CLI_VERSION,
      configFile: project.configFile,
      checkoutDir: checkout.dir,
    });
    // Where each file lands once links are followed: inside the project, never in `.git/`.
    const misplaced = await checkOutputPaths(pipeline, files, checkout.top);
    if (misplaced.length > 0)
      return {
        ok: false,
        configPath,
        warnings,
        diagnostics: withFrames(misplaced, project.text, project.displayPath),
      };
    return { ok: true, configPath, rootDir: pipeline.rootDir, checkout, files, warnings };
  } catch (err) {
    if (isGatehouseError(err) && err.diagnostics.length > 0)
      return {
        ok: false,
        configPath,
        warnings,
        diagnostics: withFrames(err.diagnostics, project.text, project.displayPath),
      };
    throw err;
  }
}

/** Load the project and compile the selected targets in memory; a number is an exit code. */
export async function compileInMemory(
  ctx: CommandContext,
): Promise<Extract<Compiled, { ok: true }> | number> {
  const { io } = ctx;
  const r = await compileProject(ctx);
  for (const d of r.warnings) io.stderr.write(`${formatWarning(d)}\n`);
  if (!r.ok) {
    printDiagnostics(io.stderr, r.diagnostics);
    return 1;
  }
  return r;
}

/**
 * The `--json` document of `compile` and `check` when it stopped before any file: the
 * diagnostics (each with `loc {file,line,column}` where the config says it), or the error
 * (`GH_CONFIG_NOT_FOUND`, `GH_TARGET_OVERWRITE`, …) as a diagnostic without a location.
 */
export function jsonFailure(
  io: Io,
  command: string,
  configPath: string | null,
  diagnostics: Diagnostic[],
): Record<string, unknown> {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return {
    version: COMPILE_JSON_VERSION,
    command,
    file: configPath === null ? null : shown(io, configPath),
    ok: false,
    errors,
    warnings: diagnostics.length - errors,
    diagnostics,
    files: [],
  };
}

/** A thrown `GatehouseError` as a diagnostic of the `--json` output, or rethrown. */
export function errorDiagnostics(err: unknown): Diagnostic[] {
  if (!isGatehouseError(err)) throw err;
  if (err.diagnostics.length > 0) return err.diagnostics;
  return [
    {
      code: err.code,
      severity: 'error',
      message: err.message,
      path: '',
      loc: null,
      ...(err.hint ? { hint: err.hint } : {}),
    },
  ];
}

/** Print a `--json` document. */
export function printJson(io: Io, doc: unknown): void {
  io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

function formatWarning(d: {
  code: string;
  path: string;
  message: string;
  loc: { file: string; line: number; column: number } | null;
}): string {
  return `${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column} ` : ''}warning ${d.code}${d.path ? ` ${d.path}` : ''}: ${d.message}`;
}

async function compileJson(ctx: CommandContext): Promise<number> {
  const { io, values } = ctx;
  let r: Compiled;
  try {
    r = await compileProject(ctx);
  } catch (err) {
    printJson(io, jsonFailure(io, 'compile', null, errorDiagnostics(err)));
    return 1;
  }
  if (!r.ok) {
    printJson(io, jsonFailure(io, 'compile', r.configPath, [...r.warnings, ...r.diagnostics]));
    return 1;
  }
  const dryRun = values['dry-run'] === true;
  let written: Array<{ path: string; bytes: number }> | null = null;
  if (!dryRun) {
    try {
      written = await writeFiles(r.rootDir, r.files, {
        force: values.force === true,
        checkoutTop: r.checkout.top,
      });
    } catch (err) {
      printJson(
        io,
        jsonFailure(io, 'compile', r.configPath, [...r.warnings, ...errorDiagnostics(err)]),
      );
      return 1;
    }
  }
  printJson(io, {
    version: COMPILE_JSON_VERSION,
    command: 'compile',
    file: shown(io, r.configPath),
    ok: true,
    errors: 0,
    warnings: r.warnings.length,
    diagnostics: r.warnings,
    dryRun,
    files: r.files.map((f, i) => ({
      path: shownFilePath(f, r.checkout.dir),
      target: f.target,
      bytes: written ? written[i]!.bytes : Buffer.byteLength(f.contents, 'utf8'),
      written: written !== null,
    })),
  });
  return 0;
}

export const compile: Command = {
  name: 'compile',
  summary: 'Generate the Dockerfile and CI files of the targets in gatehouse.yml',
  usage: 'compile [--config FILE] [--target NAME ...] [--dry-run] [--force] [--json]',
  details: [
    'Writes each file atomically (temporary file, then rename), creating directories.',
    'Refuses, writing nothing, when a file it would replace was not generated by gatehouse',
    '(a hand-written Dockerfile or workflow): move it away, or pass --force.',
    'Without --target, compiles every target listed under `targets:`.',
    '',
    'Examples:',
    '  gatehouse compile',
    '  gatehouse compile --target dockerfile --target github',
    '  gatehouse compile --dry-run',
    '  gatehouse compile --dry-run --json',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
    target: {
      type: 'string',
      short: 't',
      multiple: true,
      description: 'Target to compile',
      valueName: 'NAME',
    },
    'dry-run': { type: 'boolean', description: 'Print what would be written, write nothing' },
    force: {
      type: 'boolean',
      description: 'Replace files that were not generated by gatehouse',
    },
    json: JSON_OPTION,
  },
  async run(ctx) {
    if (ctx.values.json === true) return compileJson(ctx);
    const r = await compileInMemory(ctx);
    if (typeof r === 'number') return r;
    const { io, values } = ctx;
    if (values['dry-run'] === true) {
      for (const f of r.files)
        io.stdout.write(
          `would write ${shownFilePath(f, r.checkout.dir)} (${Buffer.byteLength(f.contents, 'utf8')} bytes, ${f.target})\n`,
        );
      io.stdout.write(
        `${r.files.length} file${r.files.length === 1 ? '' : 's'} (dry run, nothing written)\n`,
      );
      return 0;
    }
    const written = await writeFiles(r.rootDir, r.files, {
      force: values.force === true,
      checkoutTop: r.checkout.top,
    });
    written.forEach((w, i) =>
      io.stdout.write(
        `wrote ${shownFilePath(r.files[i]!, r.checkout.dir)} (${w.bytes} bytes, ${r.files[i]!.target})\n`,
      ),
    );
    io.stdout.write(`${written.length} file${written.length === 1 ? '' : 's'} written\n`);
    return 0;
  },
};
