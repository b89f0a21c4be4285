import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { GatehouseError } from '@gatehouse-ci/core';
import type { Command } from '../command.js';
import { initProject, installCommand } from '../init/index.js';

export const init: Command = {
  name: 'init',
  summary: 'Write a starter gatehouse.yml from the tools this Node project already uses',
  usage: 'init [--dir DIR] [--output FILE] [--force] [--dry-run]',
  details: [
    'Reads package.json scripts and dependencies, the lockfile, tool configs (ESLint, Vitest, Jest,',
    'pa11y-ci, @axe-core/cli, sonar-project.properties, turbo.json, nx.json) and CI folders, and',
    'writes a gatehouse.yml with one commented gate per tool it found. It prints what it found and why.',
    '',
    'Examples:',
    '  gatehouse init               # writes ./gatehouse.yml, refuses to overwrite one',
    '  gatehouse init --dry-run     # prints the file instead',
    '  gatehouse init --force       # replaces an existing gatehouse.yml',
  ].join('\n'),
  options: {
    dir: {
      type: 'string',
      description: 'Project directory to read (default: the current directory)',
      valueName: 'DIR',
    },
    output: {
      type: 'string',
      short: 'o',
      description: 'File to write, relative to the project (default: gatehouse.yml)',
      valueName: 'FILE',
    },
    force: { type: 'boolean', description: 'Overwrite an existing config file' },
    'dry-run': { type: 'boolean', description: 'Print the config to stdout instead of writing it' },
  },
  async run({ io, values }) {
    const dir = resolve(io.cwd, typeof values.dir === 'string' ? values.dir : '.');
    const out = resolve(dir, typeof values.output === 'string' ? values.output : 'gatehouse.yml');
    const dryRun = values['dry-run'] === true;
    const { plan, text, facts } = await initProject(dir);
    const report = (stream: NodeJS.WritableStream) => {
      stream.write('Detected:\n');
      for (const line of plan.detected) stream.write(`  ${line}\n`);
    };

    if (dryRun) {
      report(io.stderr);
      io.stdout.write(text);
      return 0;
    }

    const shown = relative(io.cwd, out) || basename(out);
    if (values.force !== true) {
      const existing = [
        out,
        ...(values.output === undefined ? [join(dir, 'gatehouse.yaml')] : []),
      ].find((p) => existsSync(p));
      if (existing) {
        throw new GatehouseError(
          'GH_INIT_EXISTS',
          `${relative(io.cwd, existing) || existing} already exists; not overwriting it`,
          {
            hint: 'use --force to replace it, or --dry-run to print the new config',
          },
        );
      }
    }
    // Temp file, then rename (--force) or link (fails if the file appeared meanwhile):
    // an interrupted init never leaves half a config behind.
    const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      await writeFile(tmp, text, { flag: 'wx' });
      if (values.force === true) await rename(tmp, out);
      else await link(tmp, out);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new GatehouseError('GH_INIT_EXISTS', `${shown} already exists; not overwriting it`, {
          hint: 'use --force to replace it',
        });
      }
      throw new GatehouseError(
        'GH_INIT_WRITE',
        `cannot write ${shown}: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      await rm(tmp, { force: true });
    }
    report(io.stdout);
    const gates = Object.keys(plan.config.gates);
    io.stdout.write(
      `\nWrote ${shown} (${gates.length} gate${gates.length === 1 ? '' : 's'}${gates.length ? `: ${gates.join(', ')}` : ''}).\n`,
    );
    const install = installCommand(facts, plan);
    if (install !== null) {
      io.stdout.write(
        `Add Gatehouse to the project, so the generated CI jobs and Dockerfile find it: ${install}\n`,
      );
    }
    io.stdout.write(
      'Next: review it, then `gatehouse validate`, `gatehouse run`, `gatehouse compile`.\n',
    );
    return 0;
  },
};
