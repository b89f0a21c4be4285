import { appendFile } from 'node:fs/promises';
import {
  checkoutOf,
  ciPackageJobs,
  ciWithCheckoutDir,
  GatehouseError,
  withNeeds,
} from '@gatehouse-ci/core';
import type { Command } from '../command.js';
import { affectedSelection, DEFAULT_BASE } from '../affected.js';
import { CONFIG_OPTION, openValidProject } from '../project.js';

export const affected: Command = {
  name: 'affected',
  summary: 'List the workspace packages and gates a change since a base ref can affect',
  usage:
    'affected [--config FILE] [--base REF] [--all-if-no-base] [--committed] [--json | --jobs | --gates | --run-list | --github-output | --buildkite]',
  details: [
    'Changed files are those since the merge-base of HEAD and REF (committed, staged, unstaged and',
    'untracked), mapped to the packages that own them, plus every package depending on those,',
    'transitively. A changed file outside every package (a root config, the lockfile) affects',
    'every package, except documentation at the top (*.md, LICENSE), .turbo/ and .nx/. What',
    'Gatehouse writes itself (.gatehouse/, also in a package, gatehouse-results/ and',
    'gatehouse-report/) is no change. Gates not declared for `packages` are always selected.',
    '`gatehouse run --affected` runs exactly these gates.',
    '',
    'The CI files of `compile` call it to choose their jobs (one per affected package, one per gate',
    'not declared for `packages`): --jobs prints their keys, --gates their gates, --github-output writes them to',
    '$GITHUB_OUTPUT, --buildkite prints the Buildkite steps to upload, --run-list prints the gates',
    'to run in one workspace (the selected gates and every gate they need). In `mode: docker` the',
    'CI jobs are one per gate of --gates (each build runs what its gate needs), and --buildkite',
    'prints their docker steps.',
    '',
    'Examples:',
    '  gatehouse affected',
    '  gatehouse affected --base origin/main --json',
    '  gatehouse affected --base "$BEFORE" --all-if-no-base --committed --github-output',
  ].join('\n'),
  options: {
    config: CONFIG_OPTION,
    base: {
      type: 'string',
      description: `Compare with the merge-base of HEAD and REF (default ${DEFAULT_BASE})`,
      valueName: 'REF',
    },
    'all-if-no-base': {
      type: 'boolean',
      description:
        'Select every gate when REF is empty, all zeros (a first push) or has no merge-base with HEAD',
    },
    committed: {
      type: 'boolean',
      description:
        'Only committed changes count, not the working tree (in CI: files a job made are no change)',
    },
    json: { type: 'boolean', description: 'Print the set as JSON' },
    jobs: { type: 'boolean', description: 'Print the keys of the CI jobs to run, one per line' },
    gates: {
      type: 'boolean',
      description: 'Print the gates of the CI jobs to run (each a job reports), one per line',
    },
    'run-list': {
      type: 'boolean',
      description: 'Print the selected gates and every gate they need, one per line',
    },
    'github-output': {
      type: 'boolean',
      description: 'Append `jobs`, `gates` and `count` to the file $GITHUB_OUTPUT names',
    },
    buildkite: {
      type: 'boolean',
      description:
        'Print the Buildkite steps of the affected jobs, for `buildkite-agent pipeline upload`',
    },
  },
  async run({ io, values }) {
    const project = await openValidProject(io, values.config, { cache: true });
    if (typeof project === 'number') return project;
    const pipeline = project.pipeline;
    const base = typeof values.base === 'string' ? values.base : DEFAULT_BASE;
    const s = await affectedSelection(pipeline, base, {
      allWhenUnknown: values['all-if-no-base'] === true,
      committed: values.committed === true,
      ...(project.workspace ? { workspace: project.workspace } : {}),
    });
    const jobs = ciPackageJobs(pipeline, s.gates);
    // Every gate of a selected job runs, so the gates reported are those of the jobs.
    const gates = jobs.flatMap((j) => j.gates);
    if (values.json === true) {
      io.stdout.write(
        `${JSON.stringify({ base: s.base, full: s.full, files: s.files, changed: s.changed, global: s.global, packages: s.affected, gates: s.gates, jobs }, null, 2)}\n`,
      );
      return 0;
    }
    if (values.jobs === true) {
      io.stdout.write(jobs.map((j) => `${j.key}\n`).join(''));
      return 0;
    }
    if (values.gates === true) {
      io.stdout.write(gates.map((g) => `${g}\n`).join(''));
      return 0;
    }
    if (values['run-list'] === true) {
      const run = withNeeds(pipeline.gates, s.gates);
      io.stdout.write(
        pipeline.gates
          .filter((g) => run.has(g.id))
          .map((g) => `${g.id}\n`)
          .join(''),
      );
      return 0;
    }
    if (values['github-output'] === true) {
      const file = io.env.GITHUB_OUTPUT;
      if (!file)
        throw new GatehouseError(
          'GH_USAGE',
          '--github-output writes to the file $GITHUB_OUTPUT names, and it is not set',
          { hint: 'run it in a GitHub Actions step, or set GITHUB_OUTPUT to a file' },
        );
      const matrix = jobs.map((j) => ({
        key: j.key,
        label: j.label,
        gates: j.gates.join(' '),
        deps: j.deps.join(' '),
      }));
      await appendFile(
        file,
        `jobs=${JSON.stringify(matrix)}\ngates=${gates.join(' ')}\ncount=${jobs.length}\n`,
      );
      io.stdout.write(
        `${s.full ? `no commit to compare with (${base || 'empty base'}): every job` : `${s.affected.length} package${s.affected.length === 1 ? '' : 's'} affected since ${base}`}; ${jobs.length} job${jobs.length === 1 ? '' : 's'}: ${jobs.map((j) => j.key).join(', ') || '(none)'}\n`,
      );
      return 0;
    }
    if (values.buildkite === true) {
      const { buildAffectedSteps, resolveBuildkiteOptions } =
        await import('@gatehouse-ci/plugin-buildkite');
      // The steps run where the compiled pipeline's do: in the config directory of the checkout.
      const options = ciWithCheckoutDir(
        resolveBuildkiteOptions(pipeline.targets.buildkite ?? {}).value,
        { checkoutDir: checkoutOf(pipeline.rootDir).dir },
        'buildkite',
      );
      io.stdout.write(buildAffectedSteps(pipeline, options, jobs));
      return 0;
    }
    io.stdout.write(
      `${s.full ? `no commit to compare with (${base || 'empty base'}): every package\n` : `${s.files.length} file${s.files.length === 1 ? '' : 's'} changed since ${base}; ${s.affected.length} package${s.affected.length === 1 ? '' : 's'} affected${s.global.length > 0 ? ` (every package: ${s.global.slice(0, 3).join(', ')}${s.global.length > 3 ? ', …' : ''} changed outside the packages)` : ''}\n`}`,
    );
    for (const p of s.affected)
      io.stdout.write(
        `  ${p}${s.full || s.changed.includes(p) ? '' : ' (depends on a changed package)'}\n`,
      );
    io.stdout.write(`gates: ${s.gates.length > 0 ? s.gates.join(', ') : '(none)'}\n`);
    return 0;
  },
};
