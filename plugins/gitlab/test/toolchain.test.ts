// The dependency cache follows the package manager the setup runs when the project holds
// lockfiles of several managers (a stale yarn.lock beside package-lock.json): the cache
// directory, its variable and its key are npm's for `npm ci`. gitlab-ci-local validates each
// pipeline against GitLab's schema.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emitTarget, gate, pipeline } from '@gatehouse-ci/test-utils';
import plugin from '../src/index.js';
import { removeProjects, requireGitlabCiLocal, validatePipelines } from './oracle.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await removeProjects();
});

const ctx = { gatehouseVersion: '0.1.0', configFile: 'gatehouse.yml' };

interface Pipeline {
  default: { cache?: { key: { files: string[] }; paths: string[] } };
  variables?: Record<string, string>;
  [job: string]: unknown;
}

async function emitFor(
  files: Record<string, string>,
  setupRun: string,
): Promise<{ text: string; doc: Pipeline }> {
  const rootDir = await mkdtemp(join(tmpdir(), 'gatehouse-gl-toolchain-'));
  dirs.push(rootDir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(rootDir, name), text);
  const p = pipeline([gate('lint')], {
    rootDir,
    configPath: join(rootDir, 'gatehouse.yml'),
    image: 'node:22-bookworm-slim',
    setup: { run: setupRun, inputs: ['package.json'], env: {}, secrets: [], timeoutMs: 600_000 },
  });
  const [file] = emitTarget(plugin.targets.gitlab, p, {}, ctx);
  return { text: file!.contents, doc: parse(file!.contents) as Pipeline };
}

describe('the dependency cache with lockfiles of several managers', () => {
  it('is the cache of the manager the setup runs', async () => {
    const npm = await emitFor(
      { 'package.json': '{}', 'yarn.lock': '', 'package-lock.json': '{}' },
      'npm ci',
    );
    expect(npm.doc.default.cache).toMatchObject({
      key: { files: ['package-lock.json'] },
      paths: ['.npm/'],
    });
    expect(npm.doc.variables).toMatchObject({ npm_config_cache: '$CI_PROJECT_DIR/.npm' });
    expect(npm.text).not.toContain('YARN_CACHE_FOLDER');

    // pnpm-lock.yaml beside package-lock.json and `npm ci`: no corepack for pnpm.
    const noPnpm = await emitFor(
      { 'package.json': '{}', 'pnpm-lock.yaml': '', 'package-lock.json': '{}' },
      'npm ci',
    );
    expect(noPnpm.doc.variables).toMatchObject({ npm_config_cache: '$CI_PROJECT_DIR/.npm' });
    expect((noPnpm.doc['gate-lint'] as { script: string[] }).script[0]).toBe('npm ci');
    expect(noPnpm.text).not.toContain('corepack enable');

    if (!requireGitlabCiLocal('the pipelines of projects with several lockfiles')) return;
    const runs = await validatePipelines([npm.text, noPnpm.text]);
    for (const run of runs) expect(run.ok, run.output).toBe(true);
  }, 60_000);
});
