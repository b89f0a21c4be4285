// Golden files: fixtures/<case>/gatehouse.yml → fixtures/<case>/_expected/<path>.
// Regenerate with `pnpm --filter @gatehouse-ci/plugin-jenkins golden:update`; every expected
// file is then judged by the Groovy parser and the recording harness, never trusted as is.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compileTargets,
  loadPipeline,
  loadPlugins,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import { emitTarget } from '@gatehouse-ci/test-utils';
import plugin, { buildJenkinsPipeline, resolveJenkinsOptions } from '../src/index.js';
import { expectedRecording, groovyAvailable, runHarness, type HarnessResult } from './harness.js';
import { expectJenkinsSemantics } from './semantics.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const UPDATE = process.env.GATEHOUSE_UPDATE_GOLDEN === '1';
const CASES = readdirSync(FIXTURES)
  .filter((d) => existsSync(join(FIXTURES, d, 'gatehouse.yml')))
  .sort();

interface Loaded {
  name: string;
  pipeline: ResolvedPipeline;
  path: string;
  contents: string;
}

async function load(name: string): Promise<Loaded> {
  const pipeline = await loadPipeline(join(FIXTURES, name, 'gatehouse.yml'));
  const [file] = emitTarget(plugin.targets.jenkins, pipeline, pipeline.targets.jenkins);
  if (!file) throw new Error(`${name}: no Jenkinsfile`);
  return { name, pipeline, path: file.path, contents: file.contents };
}

describe('golden Jenkinsfiles', () => {
  let loaded: Loaded[];
  beforeAll(async () => {
    loaded = await Promise.all(CASES.map(load));
    if (UPDATE) {
      for (const l of loaded) {
        const target = join(FIXTURES, l.name, '_expected', l.path);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, l.contents);
      }
    }
  });

  it('has a small, a large (20+ gates), a docker-mode, a monorepo (native and docker) and a remote-cache case', () => {
    expect(CASES).toEqual([
      'docker',
      'large',
      'monorepo',
      'monorepo-docker',
      'remote-cache',
      'small',
    ]);
    for (const name of ['monorepo', 'monorepo-docker'])
      expect(loaded.find((l) => l.name === name)!.pipeline.gates.some((g) => g.package)).toBe(true);
    const large = loaded.find((l) => l.name === 'large')!.pipeline;
    expect(large.gates.length).toBeGreaterThanOrEqual(20);
    expect(large.gates.some((g) => g.mode === 'advisory')).toBe(true);
    expect(large.gates.some((g) => g.secrets.length > 0)).toBe(true);
    expect(large.gates.some((g) => g.needs.length > 1)).toBe(true);
  });

  it.each(CASES)('%s matches _expected', async (name) => {
    const l = loaded.find((x) => x.name === name)!;
    const expected = await readFile(join(FIXTURES, name, '_expected', l.path), 'utf8');
    expect(l.contents).toBe(expected);
  });

  it.each(CASES)('%s: compiling through the plugin registry yields the same file', async (name) => {
    const l = loaded.find((x) => x.name === name)!;
    const registry = await loadPlugins(l.pipeline, [plugin]);
    const files = compileTargets(l.pipeline, registry, {
      targets: ['jenkins'],
      gatehouseVersion: '0.0.0',
      configFile: 'gatehouse.yml',
    });
    expect(files.map((f) => [f.path, f.contents])).toEqual([[l.path, l.contents]]);
  });

  describe.runIf(groovyAvailable())('judged by the Groovy oracle', () => {
    let results: HarnessResult[];
    beforeAll(async () => {
      const texts = await Promise.all(
        CASES.map((name) =>
          readFile(
            join(FIXTURES, name, '_expected', loaded.find((l) => l.name === name)!.path),
            'utf8',
          ),
        ),
      );
      results = await runHarness(texts);
    }, 300_000);

    it.each(CASES.map((c, i) => [c, i] as const))(
      '%s: expected file is a valid declarative pipeline with the gate DAG',
      (name, i) => {
        const l = loaded.find((x) => x.name === name)!;
        const r = results[i]!;
        expect(r.error).toBeUndefined();
        const options = resolveJenkinsOptions(l.pipeline.targets.jenkins ?? {}).value;
        expect(r.pipeline).toEqual(expectedRecording(buildJenkinsPipeline(l.pipeline, options)));
        expectJenkinsSemantics(r.pipeline, l.pipeline, options);
      },
    );
  });
});
