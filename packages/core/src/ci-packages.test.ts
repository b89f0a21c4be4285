import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  ciHasPackageGates,
  ciPackageJobs,
  ciPackageJobScript,
  type CiPackageJob,
} from './ci-packages.js';
import type { ResolvedGate } from './model.js';

type Node = Pick<ResolvedGate, 'id' | 'needs' | 'package'>;

function pkgGate(pkg: string, gate: string, needs: string[] = []): Node {
  return {
    id: `${pkg}-${gate}`,
    needs,
    package: { name: `@acme/${pkg}`, dir: `packages/${pkg}`, gate },
  };
}

// utils <- core <- web, as `^build` and `test needs build` expand them.
const gates: Node[] = [
  pkgGate('core', 'build', ['utils-build']),
  pkgGate('core', 'lint'),
  pkgGate('core', 'test', ['core-build', 'utils-build']),
  pkgGate('utils', 'build'),
  pkgGate('utils', 'lint'),
  pkgGate('web', 'build', ['core-build', 'utils-build']),
  { id: 'e2e', needs: ['web-build'] },
];
const pipeline = { gates: gates as ResolvedGate[] };

describe('ciPackageJobs', () => {
  it('groups the gates of each package in one job, in an order that respects needs, with what they need from other jobs', () => {
    expect(ciPackageJobs(pipeline)).toEqual<CiPackageJob[]>([
      {
        key: 'core',
        label: '@acme/core',
        gates: ['core-lint', 'core-build', 'core-test'],
        deps: ['utils-build'],
      },
      { key: 'utils', label: '@acme/utils', gates: ['utils-build', 'utils-lint'], deps: [] },
      { key: 'web', label: '@acme/web', gates: ['web-build'], deps: ['utils-build', 'core-build'] },
      // A gate not of a package is a job of its own, which rebuilds everything it needs.
      {
        key: 'e2e',
        label: 'e2e',
        gates: ['e2e'],
        deps: ['utils-build', 'core-build', 'web-build'],
      },
    ]);
  });

  it('keeps the jobs holding a selected gate only', () => {
    expect(ciPackageJobs(pipeline, ['web-build', 'e2e']).map((j) => j.key)).toEqual(['web', 'e2e']);
    expect(ciPackageJobs(pipeline, [])).toEqual([]);
  });

  it('tells a pipeline with package gates from one without', () => {
    expect(ciHasPackageGates(pipeline)).toBe(true);
    expect(
      ciHasPackageGates({ gates: [{ id: 'e2e', needs: [] } as unknown as ResolvedGate] }),
    ).toBe(false);
  });
});

describe('ciPackageJobScript', () => {
  // `echo` stands in for the CLI: the script's calls are what it prints.
  const run = (gatesWord: string, depsWord: string, env: Record<string, string>) =>
    spawnSync(
      'sh',
      ['-c', ciPackageJobScript('echo gatehouse', gatesWord, depsWord, 'out/"$KEY"').join('\n')],
      {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
      },
    ).stdout;

  it('rebuilds the deps, then runs the gates with one report', () => {
    expect(
      run('$GATES', '$DEPS', {
        GATES: 'web-lint web-build',
        DEPS: 'utils-build core-build',
        KEY: 'web',
      }),
    ).toBe(
      'gatehouse run --gate utils-build --gate core-build\ngatehouse run --only web-lint --only web-build --report-dir out/web\n',
    );
  });

  it('skips the rebuild when nothing is needed from other jobs', () => {
    expect(ciPackageJobScript('gatehouse', 'a-lint', '', 'out').join('\n')).not.toContain('--gate');
    expect(run('$GATES', '$DEPS', { GATES: 'utils-build', DEPS: '', KEY: 'utils' })).toBe(
      'gatehouse run --only utils-build --report-dir out/utils\n',
    );
    expect(run('utils-build utils-lint', '', { KEY: 'utils' })).toBe(
      'gatehouse run --only utils-build --only utils-lint --report-dir out/utils\n',
    );
  });
});
