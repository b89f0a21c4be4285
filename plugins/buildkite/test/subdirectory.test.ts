/**
 * A config in a subdirectory of the repository (`apps/shop/gatehouse.yml`): every step changes
 * into the config directory first, its `artifact_paths` (which the agent reads at the checkout's
 * top) name the files from there, and downloads, named the same way, land back in the config
 * directory. Buildkite's schema judges each pipeline.
 */
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ciPackageJobs, type ResolvedPipeline } from '@gatehouse-ci/core';
import { emitTarget, gate, pipeline } from '@gatehouse-ci/test-utils';
import plugin, {
  buildAffectedSteps,
  resolveBuildkiteOptions,
  type BuildkitePipeline,
} from '../src/index.js';
import { interpolateAll, judgePipeline } from './oracle.js';

const ctx = { gatehouseVersion: '0.1.0', configFile: 'gatehouse.yml', checkoutDir: 'apps/shop' };

const plain = pipeline(
  [gate('build', { kind: 'build', outputs: ['dist/**'] }), gate('test', { needs: ['build'] })],
  {
    setup: { run: 'npm ci', inputs: [], env: {}, secrets: [], timeoutMs: 600_000 },
    targets: { dockerfile: {} },
  },
);
const monorepo = pipeline([
  gate('web-build', {
    outputs: ['packages/web/dist/**'],
    package: { name: '@acme/web', dir: 'packages/web', gate: 'build' },
  }),
  gate('web-test', {
    needs: ['web-build'],
    package: { name: '@acme/web', dir: 'packages/web', gate: 'test' },
  }),
]);

function steps(text: string): BuildkitePipeline['steps'] {
  expect(judgePipeline(text)).toEqual([]);
  return interpolateAll(parseDocument(text).toJS() as BuildkitePipeline).steps;
}

function emitted(p: ResolvedPipeline, options: Record<string, unknown> = {}): string {
  return emitTarget(plugin.targets.buildkite, p, options, ctx)[0]!.contents;
}

describe('a config in a subdirectory of the repository', () => {
  it('every step starts in the config directory; artifacts are named from the top', () => {
    for (const mode of ['native', 'docker']) {
      const all = steps(emitted(plain, { mode }));
      for (const s of all) {
        expect(s.commands[0], s.key).toBe('cd apps/shop');
        for (const a of [s.artifact_paths ?? []].flat()) expect(a).toMatch(/^apps\/shop\//);
      }
      if (mode === 'native') {
        const test = all.find((s) => s.key === 'gate-test')!;
        expect(test.commands).toContain(
          "buildkite-agent artifact download 'apps/shop/dist/**' ../.. --step gate-build",
        );
        expect(all.find((s) => s.key === 'gate-build')!.artifact_paths).toEqual([
          'apps/shop/gatehouse-results/build.json',
          'apps/shop/dist/**',
        ]);
      }
    }
  });

  it('the plan step and the steps `gatehouse affected` uploads run in the config directory too', () => {
    const [plan] = steps(emitted(monorepo));
    expect(plan!.commands[0]).toBe('cd apps/shop');
    const options = { ...resolveBuildkiteOptions({}).value, checkout_dir: 'apps/shop' };
    const uploaded = steps(buildAffectedSteps(monorepo, options, ciPackageJobs(monorepo)));
    expect(uploaded.map((s) => s.commands[0])).toEqual(['cd apps/shop', 'cd apps/shop']);
    expect(uploaded.at(-1)!.commands.join('\n')).toContain(
      "buildkite-agent artifact download 'apps/shop/gatehouse-results/*/report.json' ../..",
    );
    expect(uploaded[0]!.artifact_paths).toEqual(['apps/shop/gatehouse-results/web/report.json']);
  });

  it('with `checkout_dir: .` the steps stay at the top', () => {
    for (const s of steps(emitted(plain, { checkout_dir: '.' })))
      expect(s.commands[0]).not.toMatch(/^cd /);
  });
});
