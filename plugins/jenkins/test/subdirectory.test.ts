/**
 * A config in a subdirectory of the repository (`apps/shop/gatehouse.yml`): every step of every
 * stage and of `post` runs in `dir('apps/shop')`, where the config's paths hold, and a monorepo
 * stage's `fileExists` condition, evaluated at the workspace's top, names its file from there.
 * The Groovy harness runs each Jenkinsfile and records what the steps receive.
 */
import { describe, expect, it } from 'vitest';
import { emitTarget, gate, pipeline } from '@gatehouse-ci/test-utils';
import type { ResolvedPipeline } from '@gatehouse-ci/core';
import plugin, { buildJenkinsPipeline, inConfigDir, resolveJenkinsOptions } from '../src/index.js';
import { expectedRecording, groovyAvailable, runHarness } from './harness.js';

const ctx = { gatehouseVersion: '0.1.0', configFile: 'gatehouse.yml', checkoutDir: 'apps/shop' };

const plain = pipeline([
  gate('build', { kind: 'build', outputs: ['dist/**'] }),
  gate('test', { needs: ['build'], evidence: [{ format: 'junit', path: 'junit.xml' }] }),
]);
const monorepo = pipeline([
  gate('web-build', { package: { name: '@acme/web', dir: 'packages/web', gate: 'build' } }),
  gate('web-test', {
    needs: ['web-build'],
    package: { name: '@acme/web', dir: 'packages/web', gate: 'test' },
  }),
]);

/**
 * The steps of a recording that run outside a `dir('apps/shop')` block (`deleteDir`, which
 * cleans the whole workspace, is meant to), with where they are.
 */
function outsideDir(node: unknown, where = '', inside = false): string[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => outsideDir(n, `${where}[${i}]`, inside));
  if (node === null || typeof node !== 'object') return [];
  const rec = node as Record<string, unknown>;
  const step = typeof rec.step === 'string' ? rec.step : null;
  if (step === 'dir') {
    expect(rec.path).toBe('apps/shop');
    return outsideDir(rec.steps, `${where} > dir`, true);
  }
  const own = step && step !== 'deleteDir' && !inside ? [`${where} ${step}`] : [];
  return [
    ...own,
    ...Object.entries(rec).flatMap(([k, v]) => outsideDir(v, `${where}.${k}`, inside)),
  ];
}

function emitted(p: ResolvedPipeline): string {
  return emitTarget(plugin.targets.jenkins, p, {}, ctx)[0]!.contents;
}

describe.runIf(groovyAvailable())('a config in a subdirectory of the repository', () => {
  it('runs every step in the config directory; monorepo conditions name their file from the top', async () => {
    const texts = [emitted(plain), emitted(monorepo)];
    const [a, b] = await runHarness(texts);
    for (const [r, p] of [
      [a!, plain],
      [b!, monorepo],
    ] as const) {
      expect(r.error).toBeUndefined();
      const options = { ...resolveJenkinsOptions({}).value, checkout_dir: 'apps/shop' };
      expect(r.pipeline).toEqual(
        expectedRecording(inConfigDir(buildJenkinsPipeline(p, options), 'apps/shop')),
      );
      expect(outsideDir(r.pipeline)).toEqual([]);
    }
    // The `Affected` stage writes its files from inside the directory; the conditions find them.
    const whens = [...JSON.stringify(b!.pipeline).matchAll(/"fileExists":"([^"]*)"/g)].map(
      (m) => m[1],
    );
    expect(whens).toEqual([
      'apps/shop/.gatehouse/ci-affected/web-build',
      'apps/shop/.gatehouse/ci-affected/web-test',
    ]);
  }, 120_000);
});
