/** The turbo target's tasks and scripts, from resolved pipelines. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isGatehouseError, type ResolvedGate } from '@gatehouse-ci/core';
import { emitTarget, gate, hostileString, pipeline } from '@gatehouse-ci/test-utils';
import plugin, { buildTurboPlan, turboGlobs, type TurboTask } from '../src/index.js';

const target = plugin.targets.turbo;

/** What an emitted file holds: `tasks` in turbo.json, `scripts` in a package.json. */
interface Emitted {
  tasks: Record<string, TurboTask>;
  scripts: Record<string, string>;
}

const pkgGate = (
  pkg: { name: string; dir: string },
  name: string,
  over: Partial<ResolvedGate> = {},
): ResolvedGate =>
  gate(`${pkg.dir.split('/').pop()}-${name}`, {
    package: { ...pkg, gate: name },
    inputs: ['*', `${pkg.dir}/**`, `!${pkg.dir}/node_modules/**`, `!${pkg.dir}/dist/**`],
    ...over,
  });

const utils = { name: '@acme/utils', dir: 'packages/utils' };
const web = { name: 'web', dir: 'apps/web' };
const p = pipeline([
  pkgGate(utils, 'build', { outputs: ['packages/utils/dist/**'] }),
  gate('audit', { secrets: ['NPM_TOKEN'], when: { env: ['NPM_TOKEN', 'AUDIT'] } }),
  pkgGate(web, 'build', { needs: ['utils-build'], outputs: ['apps/web/dist'] }),
  pkgGate(web, 'lint', { needs: ['audit', 'utils-build', 'web-build'], secrets: ['SONAR_TOKEN'] }),
]);

function emitted(raw: Record<string, unknown> = {}) {
  const files = emitTarget(target, p, raw);
  const byPath = new Map(files.map((f) => [f.path, JSON.parse(f.contents) as Emitted]));
  return { files, byPath };
}

describe('turbo target', () => {
  it('writes one task per gate, named for the package, with needs as dependsOn', () => {
    const tasks = emitted().byPath.get('turbo.json')!.tasks;
    expect(Object.keys(tasks)).toEqual([
      '//#gatehouse:audit',
      '@acme/utils#gatehouse:build',
      'web#gatehouse:build',
      'web#gatehouse:lint',
    ]);
    // The same package's gate by task name, another package's and a root gate by task id.
    expect(tasks['web#gatehouse:lint']!.dependsOn).toEqual([
      '//#gatehouse:audit',
      '@acme/utils#gatehouse:build',
      'gatehouse:build',
    ]);
    expect(tasks['web#gatehouse:build']!.outputs).toEqual([
      '$TURBO_ROOT$/apps/web/dist',
      '$TURBO_ROOT$/apps/web/dist/**',
      '$TURBO_ROOT$/.gatehouse/turbo/web-build.json',
    ]);
    expect(tasks['web#gatehouse:lint']!.cache).toBe(true);
  });

  it('hashes the config, the lockfiles and the gate inputs, never .git, .gatehouse, node_modules or turbo logs', () => {
    const lint = emitted().byPath.get('turbo.json')!.tasks['web#gatehouse:lint']!;
    expect(lint.inputs).toEqual(
      expect.arrayContaining([
        '$TURBO_ROOT$/gatehouse.yml',
        '$TURBO_ROOT$/pnpm-lock.yaml',
        '$TURBO_ROOT$/*',
        '$TURBO_ROOT$/apps/web/**',
        '!$TURBO_ROOT$/apps/web/dist/**',
        '!$TURBO_ROOT$/.git/**',
        '!$TURBO_ROOT$/.gatehouse/**',
        '!$TURBO_ROOT$/**/node_modules/**',
        '!$TURBO_ROOT$/**/.turbo/**',
      ]),
    );
    // A gate without inputs is keyed on the whole project, as Gatehouse keys it.
    const audit = emitted().byPath.get('turbo.json')!.tasks['//#gatehouse:audit']!;
    expect(audit.inputs).toContain('$TURBO_ROOT$/**');
  });

  it('passes secrets through without hashing them; conditions on other variables are hashed', () => {
    const tasks = emitted().byPath.get('turbo.json')!.tasks;
    expect(tasks['//#gatehouse:audit']!.env).toEqual(['AUDIT']);
    expect(tasks['//#gatehouse:audit']!.passThroughEnv).toEqual(['NPM_TOKEN', 'XDG_STATE_HOME']);
    expect(tasks['web#gatehouse:lint']!.env).toEqual([]);
    expect(tasks['web#gatehouse:lint']!.passThroughEnv).toEqual(['SONAR_TOKEN', 'XDG_STATE_HOME']);
  });

  it('writes a gatehouse:<gate> script per package and one per root gate, calling the `cli` option', () => {
    const { files, byPath } = emitted({ cli: 'pnpm exec gatehouse' });
    expect(files.map((f) => f.path)).toEqual([
      'turbo.json',
      'package.json',
      'packages/utils/package.json',
      'apps/web/package.json',
    ]);
    expect(byPath.get('apps/web/package.json')).toEqual({
      scripts: {
        'gatehouse:build':
          'pnpm exec gatehouse run --config ../../gatehouse.yml --only web-build --result-file ../../.gatehouse/turbo/web-build.json',
        'gatehouse:lint':
          'pnpm exec gatehouse run --config ../../gatehouse.yml --only web-lint --result-file ../../.gatehouse/turbo/web-lint.json',
      },
    });
    expect(byPath.get('package.json')!.scripts['gatehouse:audit']).toBe(
      'pnpm exec gatehouse run --config gatehouse.yml --only audit --result-file .gatehouse/turbo/audit.json',
    );
    for (const f of files) expect(f.merge?.format).toBe('json');
    expect(files.find((f) => f.path === 'turbo.json')!.merge!.ifMissing).toBe('create');
    expect(files.find((f) => f.path === 'package.json')!.merge!.ifMissing).toBe('error');
  });

  it('refuses a `cli` that is not a plain command prefix', () => {
    const r = target.resolveOptions({ cli: 'gatehouse; rm -rf /', other: 1 });
    expect(r.diagnostics.map((d) => d.path)).toEqual(['other', 'cli']);
  });

  it('refuses a package name turbo would misread, located at the gate', () => {
    const bad = pipeline([pkgGate({ name: 'evil#gatehouse:x', dir: 'packages/evil' }, 'lint')]);
    try {
      emitTarget(target, bad);
      expect.unreachable();
    } catch (err) {
      expect(isGatehouseError(err) && err.diagnostics[0]!.path).toBe('gates.lint');
    }
  });

  it('refuses inputs of a workspace root above the config directory (//), located at the input', () => {
    const below = pipeline([gate('lint', { inputs: ['src/**', '//tsconfig.base.json'] })], {
      workspaceRoot: '/repo',
    });
    try {
      emitTarget(target, below);
      expect.unreachable();
    } catch (err) {
      expect(isGatehouseError(err) && err.diagnostics.map((d) => d.path)).toEqual([
        'gates.lint.inputs[1]',
      ]);
    }
  });
});

describe('turboGlobs', () => {
  it('keeps an exclusion only where no later pattern could bring its files back', () => {
    expect(turboGlobs(['src', '!src/gen/**', 'src/gen/keep.ts', 'lib/**', '!lib/x'])).toEqual([
      '$TURBO_ROOT$/src',
      '$TURBO_ROOT$/src/**',
      '$TURBO_ROOT$/src/gen/keep.ts',
      '$TURBO_ROOT$/src/gen/keep.ts/**',
      '$TURBO_ROOT$/lib/**',
      '!$TURBO_ROOT$/lib/x',
      '!$TURBO_ROOT$/lib/x/**',
    ]);
    expect(turboGlobs(['./a/', '!b/**', 'c/**'])).toEqual([
      '$TURBO_ROOT$/a',
      '$TURBO_ROOT$/a/**',
      '!$TURBO_ROOT$/b/**',
      '$TURBO_ROOT$/c/**',
    ]);
  });
});

describe('package scripts under a real sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-turbo-argv-'));
  const argv = join(dir, 'argv.cjs');
  writeFileSync(argv, 'process.stdout.write(JSON.stringify(process.argv.slice(2)))');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('give gatehouse the config file name exactly, whatever it holds', () => {
    const one = pipeline([pkgGate(web, 'lint')]);
    fc.assert(
      fc.property(
        hostileString({ minLength: 1 }).filter((s) => !s.includes('/') && !s.includes('\0')),
        (name) => {
          const plan = buildTurboPlan(
            one,
            { cli: `${process.execPath} ${argv}` },
            { configFile: name },
          );
          const script = plan.scripts.get('apps/web')!['gatehouse:lint']!;
          const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
          expect(JSON.parse(out)).toEqual([
            'run',
            '--config',
            `../../${name}`,
            '--only',
            'web-lint',
            '--result-file',
            '../../.gatehouse/turbo/web-lint.json',
          ]);
        },
      ),
      { numRuns: 30 },
    );
  });
});
