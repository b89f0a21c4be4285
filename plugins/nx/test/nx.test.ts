/** The nx plugin and the project graph, with the real nx (devDependency) in a generated workspace. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverWorkspace } from '@gatehouse-ci/core';
import { makeWorkspace } from '@gatehouse-ci/test-utils';
import { readNxProjectGraph, readNxWorkspace } from '../src/index.js';

const run = promisify(execFile);
const here = dirname(new URL(import.meta.url).pathname);
const NX = join(dirname(createRequire(import.meta.url).resolve('nx/package.json')), 'bin/nx.js');
// nx loads the plugin as nx.json names it: the built package, as a user installs it.
const PLUGIN = join(here, '../dist/index.js');
const CLI = join(here, '../../../apps/cli/bin/gatehouse.js');
const ENV = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };

let root = '';
beforeAll(async () => {
  // The CLI and this plugin run from dist/: build them as a user's install would have them.
  await run('pnpm', ['--filter', '@gatehouse-ci/nx', '--filter', 'gatehouse...', 'build'], {
    cwd: join(here, '../../..'),
  });
  root = mkdtempSync(join(tmpdir(), 'gh-nx-'));
  makeWorkspace(
    root,
    [
      { dir: 'packages/utils', name: '@acme/utils' },
      { dir: 'packages/core', name: '@acme/core', deps: ['@acme/utils'] },
      { dir: 'apps/web', name: 'web', deps: ['@acme/core'], scripts: { build: 'node -e 0' } },
    ],
    {
      globs: ['packages/*', 'apps/*'],
      git: true,
      files: {
        'nx.json': JSON.stringify({
          targetDefaults: { build: { dependsOn: ['^build'] } },
          pluginsConfig: { '@nx/js': { analyzeLockfile: false } },
          plugins: [{ plugin: PLUGIN, options: { cli: `node ${CLI}` } }],
        }),
        'gatehouse.yml': [
          'version: 1',
          'name: acme',
          'gates:',
          '  build: { kind: build, packages: { script: build }, needs: [^build] }',
          '  lint: { kind: lint, packages: { script: lint } }',
          '',
        ].join('\n'),
      },
    },
  );
  writeFileSync(join(root, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
}, 300_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const nx = (...args: string[]) =>
  run(process.execPath, [NX, ...args], { cwd: root, env: ENV, maxBuffer: 16 * 1024 * 1024 });

describe('@gatehouse-ci/nx', () => {
  it('infers a gatehouse target and one per gate for each project', async () => {
    const { stdout } = await nx('show', 'project', 'web', '--json');
    const project = JSON.parse(stdout) as {
      targets: Record<string, { options: { command?: string } }>;
    };
    expect(Object.keys(project.targets)).toEqual(
      expect.arrayContaining(['gatehouse', 'gatehouse-build']),
    );
    expect(project.targets.gatehouse!.options.command).toBe(
      `node ${CLI} run --config gatehouse.yml --wait 3600 --gate web-build`,
    );
    const core = JSON.parse((await nx('show', 'project', '@acme/core', '--json')).stdout) as {
      targets: Record<string, unknown>;
    };
    expect(Object.keys(core.targets)).toEqual(
      expect.arrayContaining(['gatehouse', 'gatehouse-build', 'gatehouse-lint']),
    );
  }, 120_000);

  it('nx run-many -t gatehouse runs every gate through Gatehouse', async () => {
    const { stdout } = await nx('run-many', '-t', 'gatehouse', '--parallel=3');
    expect(stdout).toContain('Successfully ran target gatehouse for 3 projects');
  }, 300_000);

  it('a failing gate fails the nx target', async () => {
    writeFileSync(
      join(root, 'packages/utils/package.json'),
      JSON.stringify({ name: '@acme/utils', scripts: { lint: 'exit 3', build: 'node -e 0' } }),
    );
    try {
      await expect(nx('run', '@acme/utils:gatehouse-lint')).rejects.toThrow(/utils-lint/);
    } finally {
      writeFileSync(
        join(root, 'packages/utils/package.json'),
        JSON.stringify({
          name: '@acme/utils',
          scripts: { lint: 'node -e 0', test: 'node -e 0', build: 'node -e 0' },
        }),
      );
    }
  }, 120_000);

  it("reads nx's project graph: the same packages and dependencies as the workspace files", async () => {
    const graph = await readNxProjectGraph(root);
    expect(graph.projects.find((p) => p.name === 'web')!.targets).toContain('gatehouse');
    const fromNx = await readNxWorkspace(root);
    const fromFiles = discoverWorkspace(root);
    const shape = (ws: typeof fromFiles) =>
      ws.packages.map((p) => ({ name: p.name, dir: p.dir, deps: p.deps }));
    expect(shape(fromNx)).toEqual(shape(fromFiles));
  }, 120_000);

  it("gives each target's dependsOn as nx merged it: the project's own over targetDefaults", async () => {
    const file = join(root, 'packages/core/package.json');
    const before = readFileSync(file, 'utf8');
    const pkg = JSON.parse(before) as Record<string, unknown>;
    writeFileSync(
      file,
      JSON.stringify({ ...pkg, nx: { targets: { build: { dependsOn: ['lint'] } } } }),
    );
    try {
      const graph = await readNxProjectGraph(root);
      const of = (name: string) => graph.projects.find((p) => p.name === name)!.dependsOn;
      expect(of('web').build).toEqual(['^build']);
      expect(of('@acme/core').build).toEqual(['lint']);
      expect(of('@acme/core').lint).toBeUndefined();
    } finally {
      writeFileSync(file, before);
    }
  }, 120_000);
});
