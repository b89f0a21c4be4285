import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../src/index.js';
import { builtinPlugins } from '../src/plugins.js';
import { openProject } from '../src/project.js';

const descriptions = (
  defs: Record<string, { description: string }> | undefined,
): Record<string, string> =>
  Object.fromEntries(Object.entries(defs ?? {}).map(([k, v]) => [k, v.description]));

describe('built-in plugin list', () => {
  it.each(builtinPlugins.map((p) => [p.name, p] as const))(
    '%s: the declared names and descriptions are those of the package',
    async (_name, entry) => {
      const plugin = await entry.load();
      expect(plugin.name).toBe(entry.name);
      expect(descriptions(plugin.targets)).toEqual(descriptions(entry.targets));
      expect(descriptions(plugin.executors)).toEqual(descriptions(entry.executors));
      expect(Object.keys(plugin.gateKinds ?? {})).toEqual(entry.gateKinds ?? []);
    },
  );
});

describe('commands import only the plugins they use', () => {
  let dir: string;
  const io = (): Io => ({
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    cwd: dir,
    env: {},
  });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-lazy-cli-'));
    await writeFile(
      join(dir, 'gatehouse.yml'),
      'version: 1\nname: app\nimage: node:22-bookworm-slim\ngates:\n  unit: { run: "true" }\ntargets:\n  dockerfile: {}\n  github: {}\n',
    );
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('loading the project imports the named targets, no executor', async () => {
    const p = await openProject(io(), undefined);
    expect(p.diagnostics).toEqual([]);
    expect(p.registry.plugins.map((x) => x.name)).toEqual([
      '@gatehouse-ci/plugin-dockerfile',
      '@gatehouse-ci/plugin-github-actions',
    ]);
    // Every built-in name is still known (unknown-target hints, `--executor` checks).
    expect(p.registry.targetNames()).toEqual([
      'buildkite',
      'dockerfile',
      'github',
      'gitlab',
      'jenkins',
      'turbo',
    ]);
    expect(p.registry.executorNames()).toEqual(['docker', 'local']);
    await p.registry.loadExecutor('local');
    expect(p.registry.plugins.map((x) => x.name)).toContain('@gatehouse-ci/runner');
    expect(p.registry.plugins.map((x) => x.name)).not.toContain('@gatehouse-ci/plugin-docker');
  });
});
