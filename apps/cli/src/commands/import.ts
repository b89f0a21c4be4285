import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { GatehouseError } from '@gatehouse-ci/core';
import { importDockerfile } from '@gatehouse-ci/plugin-dockerfile';
import type { Command } from '../command.js';

/** Version of the `--format json` output; bumped only on incompatible changes. */
export const IMPORT_JSON_VERSION = 1;

export const importCommand: Command = {
  name: 'import',
  summary:
    'Turn a hand-written multi-stage "Dockerfile as CI" into gatehouse.yml and list its problems',
  usage: 'import [DOCKERFILE] [--output FILE] [--force] [--name NAME] [--format text|json]',
  details: [
    'Reads DOCKERFILE (default: ./Dockerfile): the first stage other stages build on becomes `setup`,',
    'every other stage a gate, the final stage the `release`. Problems of the original (stages BuildKit',
    'skips, `RUN npm start`, exec form that is not JSON, `npm lint`, unpinned images, tokens in ARG/ENV,',
    'a scanner that never runs) are listed on stderr as FILE:LINE: CODE: message, with what the import did.',
    'Exit status: 0 when the config was produced, whatever the findings; 1 on errors.',
    '',
    'Examples:',
    '  gatehouse import                         # prints gatehouse.yml for ./Dockerfile',
    '  gatehouse import ci/Dockerfile -o gatehouse.yml',
    '  gatehouse import --format json | jq .findings',
  ].join('\n'),
  allowPositionals: true,
  options: {
    output: {
      type: 'string',
      short: 'o',
      description: 'Write the config to FILE instead of stdout',
      valueName: 'FILE',
    },
    force: { type: 'boolean', description: 'Overwrite FILE if it exists' },
    name: {
      type: 'string',
      description: 'Pipeline name (default: the directory name)',
      valueName: 'NAME',
    },
    format: {
      type: 'string',
      description: 'Output format: text (default) or json',
      valueName: 'FORMAT',
    },
  },
  async run({ io, values, positionals }) {
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'json') {
      throw new GatehouseError('GH_INVALID_VALUE', `unknown --format \`${String(format)}\``, {
        hint: 'use text or json',
      });
    }
    if (positionals.length > 1) {
      throw new GatehouseError('GH_INVALID_VALUE', 'import reads one Dockerfile', {
        hint: 'gatehouse import [DOCKERFILE]',
      });
    }
    const path = resolve(io.cwd, positionals[0] ?? 'Dockerfile');
    const shownPath = relative(io.cwd, path) || basename(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new GatehouseError(
        'GH_IMPORT_NOT_FOUND',
        `cannot read ${shownPath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        {
          hint: 'pass the path of the Dockerfile to import',
          cause: err,
        },
      );
    }
    const name =
      typeof values.name === 'string'
        ? values.name
        : basename(dirname(path)).replace(/[^A-Za-z0-9._-]+/g, '-') || 'imported';
    const result = importDockerfile(text, { name, source: shownPath });

    const out = typeof values.output === 'string' ? resolve(io.cwd, values.output) : null;
    if (out !== null) {
      if (existsSync(out) && values.force !== true) {
        throw new GatehouseError(
          'GH_IMPORT_EXISTS',
          `${relative(io.cwd, out) || out} already exists; not overwriting it`,
          {
            hint: 'use --force to replace it, or leave out --output to print the config',
          },
        );
      }
      const tmp = `${out}.${process.pid}.tmp`;
      await writeFile(tmp, result.yaml);
      await rename(tmp, out);
    }

    if (format === 'json') {
      const doc = {
        version: IMPORT_JSON_VERSION,
        file: shownPath,
        findings: result.findings,
        config: result.yaml,
        output: out,
      };
      io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      return 0;
    }
    if (out === null) io.stdout.write(result.yaml);
    for (const f of result.findings) {
      io.stderr.write(`${shownPath}:${f.line}: ${f.code}: ${f.message}\n  import: ${f.fix}\n`);
    }
    const n = result.findings.length;
    io.stderr.write(
      `${n === 0 ? 'no problems found' : `${n} problem${n === 1 ? '' : 's'} found`} in ${shownPath}` +
        `${out !== null ? `; wrote ${relative(io.cwd, out) || out}` : ''}. Next: gatehouse validate, then gatehouse compile\n`,
    );
    return 0;
  },
};
