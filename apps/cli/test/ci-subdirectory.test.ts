// `compile` and `check` of a config in a subdirectory of a git repository: the CI files are
// written for jobs that start at the checkout's top, GitHub's workflow goes to the top's
// `.github/workflows/` (and is named from the config directory in every message), and nothing
// is written through a link out of the repository.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function cli(argv: string[], cwd: string): Promise<CliResult> {
  return runCli(argv, cwd, { PATH: process.env.PATH, CI: 'true' });
}

const CONFIG = `version: 1
name: shop
gates:
  build: { kind: build, run: mkdir -p dist, outputs: [dist/**] }
targets:
  github: {}
  gitlab: {}
  jenkins: {}
  buildkite: {}
`;

/** A git repository holding `apps/shop/gatehouse.yml`; returns the top. */
async function repository(): Promise<string> {
  const top = await mkdtemp(join(tmpdir(), 'gatehouse-subdir-'));
  dirs.push(top);
  await mkdir(join(top, 'apps/shop'), { recursive: true });
  await writeFile(join(top, 'apps/shop/gatehouse.yml'), CONFIG);
  const r = spawnSync('git', ['init', '-q'], { cwd: top, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return top;
}

describe('compile and check of a config in a subdirectory', () => {
  it('writes the workflow at the top and the other CI files beside the config', async () => {
    const top = await repository();
    const shop = join(top, 'apps/shop');
    const r = await cli(['compile'], shop);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote \.\.\/\.\.\/\.github\/workflows\/gatehouse-apps-shop\.yml \(/m);
    expect(r.out).toMatch(/^wrote \.gitlab-ci\.yml \(/m);
    expect(existsSync(join(top, '.github/workflows/gatehouse-apps-shop.yml'))).toBe(true);
    expect(existsSync(join(shop, '.github'))).toBe(false);
    expect(await readFile(join(shop, 'Jenkinsfile'), 'utf8')).toContain("dir('apps/shop') {");
    // The same from the top, with --config: the config's place decides, not the working directory.
    const fromTop = await cli(['check', '--config', 'apps/shop/gatehouse.yml'], top);
    expect(fromTop.out).toContain('4 files up to date');
    expect(fromTop.code).toBe(0);

    const workflow = join(top, '.github/workflows/gatehouse-apps-shop.yml');
    await writeFile(workflow, `${await readFile(workflow, 'utf8')}# edited\n`);
    const stale = await cli(['check'], shop);
    expect(stale.code).toBe(1);
    expect(stale.out).toContain('stale: ../../.github/workflows/gatehouse-apps-shop.yml');
    expect(stale.out).toContain('run `gatehouse compile --target github`');
    const json = JSON.parse((await cli(['check', '--json'], shop)).out) as {
      files: Array<{ path: string; status: string }>;
    };
    expect(json.files.find((f) => f.status === 'stale')!.path).toBe(
      '../../.github/workflows/gatehouse-apps-shop.yml',
    );
  });

  it('refuses to write the workflow through a link that leaves the repository, writing nothing', async () => {
    const top = await repository();
    const elsewhere = await mkdtemp(join(tmpdir(), 'gatehouse-subdir-elsewhere-'));
    dirs.push(elsewhere);
    await symlink(elsewhere, join(top, '.github'));
    const r = await cli(['compile'], join(top, 'apps/shop'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('GH_TARGET_PATH');
    expect(r.err).toContain('../../.github/workflows/gatehouse-apps-shop.yml');
    expect(existsSync(join(elsewhere, 'workflows'))).toBe(false);
    expect(existsSync(join(top, 'apps/shop/.gitlab-ci.yml'))).toBe(false);
  });

  it('outside git, the config directory is the top: files as before', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-subdir-nogit-'));
    dirs.push(dir);
    await writeFile(join(dir, 'gatehouse.yml'), CONFIG);
    const r = await cli(['compile', '--dry-run'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^would write \.github\/workflows\/gatehouse\.yml /m);
  });
});
