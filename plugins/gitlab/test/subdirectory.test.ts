// A config in a subdirectory of the repository (apps/shop/gatehouse.yml): `gatehouse compile` finds
// where it sits in the git work tree, and the pipeline it writes, included from the top's
// .gitlab-ci.yml, runs for real in gitlab-ci-local: the jobs start at the checkout's top, change
// into the config directory, and pass outputs and results through artifacts named from the top.
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  CLI,
  jobResults,
  makeProject,
  requireGitlabCiLocal,
  runPipeline,
  removeProjects,
  statuses,
} from './oracle.js';
import type { RunReport } from '@gatehouse-ci/core';

function git(dir: string, ...args: string[]): void {
  const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

/**
 * A repository whose only config is apps/shop/gatehouse.yml, compiled there by the CLI (with
 * `gitlab` options `extra`) and included from the top's .gitlab-ci.yml, committed.
 */
async function repository(extra: Record<string, unknown> = {}): Promise<string> {
  const config = {
    version: 1,
    name: 'shop',
    image: 'node:22-bookworm-slim',
    setup: { run: 'echo installed > setup.txt' },
    gates: {
      build: {
        kind: 'build',
        run: 'mkdir -p dist && echo built > dist/app.txt',
        outputs: ['dist/**'],
      },
      // Passes only where build's output arrived: in the config directory of its own job.
      check: { kind: 'custom', needs: ['build'], run: 'test -f dist/app.txt && test -f setup.txt' },
    },
    targets: { gitlab: { cli: `node ${CLI}`, ...extra } },
  };
  const dir = await makeProject({
    'apps/shop/gatehouse.yml': stringify(config),
    '.gitignore': '.gatehouse/\n.gitlab-ci-local/\n',
    'README.md': 'a repository with a project in apps/shop\n',
  });
  const compiled = spawnSync(process.execPath, [CLI, 'compile'], {
    cwd: join(dir, 'apps/shop'),
    encoding: 'utf8',
  });
  if (compiled.status !== 0) throw new Error(`compile: ${compiled.stdout}${compiled.stderr}`);
  await writeFile(join(dir, '.gitlab-ci.yml'), 'include:\n  - local: apps/shop/.gitlab-ci.yml\n');
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'compiled');
  return dir;
}

afterAll(removeProjects);

describe.skipIf(!requireGitlabCiLocal('the subdirectory pipeline test'))(
  'gitlab-ci-local runs the pipeline of a config in a subdirectory',
  () => {
    it('every job runs in the config directory, and outputs and results travel from the top', async () => {
      const dir = await repository();
      const ci = await readFile(join(dir, 'apps/shop/.gitlab-ci.yml'), 'utf8');
      expect(ci).toContain('- "cd apps/shop"');
      const run = await runPipeline(dir);
      expect(run.ok, run.output).toBe(true);
      expect(jobResults(run)).toEqual({
        'gate-build': 'PASS',
        'gate-check': 'PASS',
        'gatehouse-report': 'PASS',
      });
      const report = JSON.parse(
        await readFile(
          join(
            dir,
            '.gitlab-ci-local/artifacts/gatehouse-report/apps/shop/gatehouse-report/report.json',
          ),
          'utf8',
        ),
      ) as RunReport;
      expect(report.verdict.status).toBe('passed');
      expect(statuses(report)).toEqual({ build: 'passed', check: 'passed' });
    }, 180_000);

    it('the same pipeline written for the top of the checkout (`checkout_dir: .`) does not run', async () => {
      // The control: jobs that stay at the top find neither the config nor build's output.
      const dir = await repository({ checkout_dir: '.' });
      const run = await runPipeline(dir);
      expect(run.ok).toBe(false);
      expect(jobResults(run)['gate-build']).toBe('FAIL');
    }, 180_000);
  },
);
