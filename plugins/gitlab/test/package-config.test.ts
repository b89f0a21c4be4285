// A package's own config in a pnpm workspace (`packages/web/gatehouse.yml`, no lockfile of its
// own): the pipeline enables pnpm, and keys the dependency cache on the workspace root's
// lockfile, named from the top of the checkout. gitlab-ci-local validates it against GitLab's
// schema.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emitTarget, gate, pipeline } from '@gatehouse-ci/test-utils';
import type { ResolvedPipeline } from '@gatehouse-ci/core';
import plugin from '../src/index.js';
import { removeProjects, requireGitlabCiLocal, validatePipelines } from './oracle.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await removeProjects();
});

const ctx = { gatehouseVersion: '0.1.0', configFile: 'gatehouse.yml', checkoutDir: 'packages/web' };

async function webPackage(): Promise<ResolvedPipeline> {
  const top = await mkdtemp(join(tmpdir(), 'gatehouse-gl-pkg-'));
  dirs.push(top);
  const web = join(top, 'packages/web');
  await mkdir(web, { recursive: true });
  await writeFile(join(top, 'package.json'), '{"private":true,"packageManager":"pnpm@10.34.8"}');
  await writeFile(join(top, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
  await writeFile(join(top, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
  await writeFile(join(web, 'package.json'), '{"name":"web"}');
  const r = spawnSync('git', ['init', '-q'], { cwd: top, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return pipeline([gate('build', { kind: 'build', outputs: ['dist/**'] })], {
    rootDir: web,
    configPath: join(web, 'gatehouse.yml'),
    image: 'node:22-bookworm-slim',
    setup: {
      run: 'pnpm install --frozen-lockfile',
      inputs: ['package.json', '//pnpm-lock.yaml'],
      env: {},
      secrets: [],
      timeoutMs: 600_000,
    } as ResolvedPipeline['setup'],
  });
}

interface Pipeline {
  default: { cache?: { key: { files: string[] }; paths: string[] } };
  variables?: Record<string, string>;
  [job: string]: unknown;
}

describe("the pipeline of a package's own config in a pnpm workspace", () => {
  it("enables pnpm and keys the cache on the root's lockfile, from the top", async () => {
    const [file] = emitTarget(plugin.targets.gitlab, await webPackage(), {}, ctx);
    const doc = parse(file!.contents) as Pipeline;
    expect(doc.default.cache).toMatchObject({
      key: { files: ['pnpm-lock.yaml'] },
      paths: ['.pnpm-store/'],
    });
    expect(doc.variables).toMatchObject({ npm_config_store_dir: '$CI_PROJECT_DIR/.pnpm-store' });
    const job = doc['gate-build'] as { script: string[] };
    expect(job.script.slice(0, 3)).toEqual([
      'cd packages/web',
      'corepack enable',
      'pnpm install --frozen-lockfile',
    ]);
    if (!requireGitlabCiLocal("the package config's pipeline validation")) return;
    const [run] = await validatePipelines([file!.contents]);
    expect(run!.ok, run!.output).toBe(true);
  }, 60_000);

  it('with `checkout_dir: .` reads the package alone: no lockfile there, no cache', async () => {
    const [file] = emitTarget(
      plugin.targets.gitlab,
      await webPackage(),
      { checkout_dir: '.' },
      ctx,
    );
    const doc = parse(file!.contents) as Pipeline;
    expect(doc.default.cache).toBeUndefined();
    expect(file!.contents).not.toContain('corepack enable');
  });
});
