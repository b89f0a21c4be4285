import {
  checkOutputPaths,
  compileTargets,
  isGatehouseError,
  withFrames,
  writeFiles,
  type CompiledFile,
} from '@gatehouse/core';
import type { CommandContext, Command } from '../command.js';
import { CONFIG_OPTION, openValidProject, printDiagnostics } from '../project.js';
import { CLI_VERSION } from '../version.js';

/** Load the project and compile the selected targets in memory; a number is an exit code. */
export async function compileInMemory({
  io,
  values,
}: CommandContext): Promise<{ rootDir: string; files: CompiledFile[] } | number> {
  const project = await openValidProject(io, values.config);
  if (typeof project === 'number') return project;
  for (const d of project.diagnostics) io.stderr.write(`${formatWarning(d)}\n`);
  const targets = Array.isArray(values.target)
    ? values.target.filter((t): t is string => typeof t === 'string')
    : [];
  try {
    // Only the selected targets' plugins are imported; unknown names are reported by compileTargets.
    await project.registry.load({
      targets: targets.length > 0 ? targets : Object.keys(project.pipeline.targets),
    });
    const files = compileTargets(project.pipeline, project.registry, {
      targets,
      gatehouseVersion: CLI_VERSION,
      configFile: project.configFile,
    });
    // Where each file lands once links are followed: inside the project, never in `.git/`.
    const misplaced = await checkOutputPaths(project.pipeline, files);
    if (misplaced.length > 0) {
      printDiagnostics(io.stderr, withFrames(misplaced, project.text));
      return 1;
    }
    return { rootDir: project.pipeline.rootDir, files };
  } catch (err) {
    if (isGatehouseError(err) && err.diagnostics.length > 0) {
      printDiagnostics(io.stderr, withFrames(err.diagnostics, project.text));
      return 1;
    }
    throw err;
  }
}

function formatWarning(d: {
  code: string;
  path: string;
  message: string;
  loc: { file: string; line: number; column: number } | null;
}): string {
  return `${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column} ` : ''}warning ${d.code}${d.path ? ` ${d.path}` : ''}: ${d.message}`;
}

export const compile: Command = {
  name: 'compile',
  summary: 'Generate the Dockerfile and CI files of the targets in gatehouse.yml',
  usage: 'compile [--config FILE] [--target NAME ...] [--dry-run]',
  details: [
    'Writes each file atomically (temporary file, then rename), creating directories.',
    'Without --target, compiles every target listed under `targets:`.',
    '',
    'Examples:',
    '  gatehouse compile',
    '  gatehouse compile --target dockerfile --target github',
    '  gatehouse compile --dry-run',
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
  },
  async run(ctx) {
    const r = await compileInMemory(ctx);
    if (typeof r === 'number') return r;
    const { io, values } = ctx;
    if (values['dry-run'] === true) {
      for (const f of r.files)
        io.stdout.write(
          `would write ${f.path} (${Buffer.byteLength(f.contents, 'utf8')} bytes, ${f.target})\n`,
        );
      io.stdout.write(
        `${r.files.length} file${r.files.length === 1 ? '' : 's'} (dry run, nothing written)\n`,
      );
      return 0;
    }
    const written = await writeFiles(r.rootDir, r.files);
    written.forEach((w, i) =>
      io.stdout.write(`wrote ${w.path} (${w.bytes} bytes, ${r.files[i]!.target})\n`),
    );
    io.stdout.write(`${written.length} file${written.length === 1 ? '' : 's'} written\n`);
    return 0;
  },
};
