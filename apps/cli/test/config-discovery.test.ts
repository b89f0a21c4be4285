import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverConfig } from '../src/discover.js';
import { runCli, type CliResult } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function cli(argv: string[], cwd: string): Promise<CliResult> {
  return runCli(argv, cwd, { PATH: process.env.PATH, CI: 'true' });
}

const CONFIG = `version: 1
name: walk
gates:
  build:
    kind: build
    run: pwd > where.txt
  unit:
    needs: [build]
    run: "true"
targets:
  github: {}
`;

/** A project with its config at the top and `src/deep/` below it; returns [root, deep]. */
async function project(): Promise<[string, string]> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-walk-')));
  dirs.push(root);
  await writeFile(join(root, 'gatehouse.yml'), CONFIG);
  const deep = join(root, 'src', 'deep');
  await mkdir(deep, { recursive: true });
  return [root, deep];
}

describe('finding gatehouse.yml from a subdirectory', () => {
  it('validate, graph, compile and run from two levels down use the config above, and say so', async () => {
    const [root, deep] = await project();
    const using = `gatehouse: using ${join(root, 'gatehouse.yml')}\n`;

    const v = await cli(['validate', '--format', 'json'], deep);
    expect(v.code, v.err).toBe(0);
    expect(v.err).toBe(using);
    expect((JSON.parse(v.out) as { file: string; gates: string[] }).gates).toEqual([
      'build',
      'unit',
    ]);

    const g = await cli(['graph'], deep);
    expect(g.code, g.err).toBe(0);
    expect(g.err).toBe(using);
    expect(g.out).toContain('build');
    expect(g.out).toContain('unit');

    // Generated files land next to the config, not in the directory the command ran in.
    const c = await cli(['compile'], deep);
    expect(c.code, c.err).toBe(0);
    expect(c.err).toBe(using);
    expect(existsSync(join(root, '.github', 'workflows', 'gatehouse.yml'))).toBe(true);
    expect(existsSync(join(deep, '.github'))).toBe(false);
    const ch = await cli(['check'], deep);
    expect(ch.code, ch.out + ch.err).toBe(0);

    // Gates run in the config's directory, and the state lives next to the config.
    const r = await cli(['run'], deep);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.err).toBe(using);
    expect(readFileSync(join(root, 'where.txt'), 'utf8').trim()).toBe(root);
    expect(existsSync(join(root, '.gatehouse', 'report', 'report.json'))).toBe(true);
    expect(existsSync(join(deep, '.gatehouse'))).toBe(false);
  });

  it('says nothing extra when the config is in the current directory', async () => {
    const [root] = await project();
    const v = await cli(['validate'], root);
    expect(v.code).toBe(0);
    expect(v.err).toBe('');
  });

  it('takes the nearest config: gatehouse.yaml in a subproject before gatehouse.yml above it', async () => {
    const [root, deep] = await project();
    await writeFile(join(root, 'src', 'gatehouse.yaml'), CONFIG.replace('name: walk', 'name: sub'));
    expect(discoverConfig(deep)).toEqual({
      path: join(root, 'src', 'gatehouse.yaml'),
      above: true,
    });
    expect(discoverConfig(root)).toEqual({ path: join(root, 'gatehouse.yml'), above: false });
    const v = await cli(['validate'], deep);
    expect(v.err).toBe(`gatehouse: using ${join(root, 'src', 'gatehouse.yaml')}\n`);
  });

  it('--config is relative to the current directory and is not searched for', async () => {
    const [, deep] = await project();
    const v = await cli(['validate', '--config', 'gatehouse.yml'], deep);
    expect(v.code).toBe(1);
    expect(v.err).toContain('GH_CONFIG_NOT_FOUND');
  });

  it('without a config up to the filesystem root: an error naming the start directory', async () => {
    const start = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-none-')));
    dirs.push(start);
    // The test means something only when no ancestor of the temporary directory has a config.
    for (let d = dirname(start); ; d = dirname(d)) {
      expect(existsSync(join(d, 'gatehouse.yml')) || existsSync(join(d, 'gatehouse.yaml'))).toBe(
        false,
      );
      if (d === parse(d).root) break;
    }
    for (const command of ['validate', 'compile', 'run', 'graph']) {
      const r = await cli([command], join(start));
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        `error GH_CONFIG_NOT_FOUND: no gatehouse.yml or gatehouse.yaml in ${start} or any directory above it`,
      );
      expect(r.err).toContain('gatehouse init');
    }
  });

  it("refuses a config above the current directory that belongs to another user, and uses one's own", async () => {
    const [root, deep] = await project();
    const owner = statSync(join(root, 'gatehouse.yml')).uid;
    expect(() => discoverConfig(deep, owner + 1)).toThrow(
      `the nearest, ${join(root, 'gatehouse.yml')}, belongs to another user (uid ${owner}) and is not used`,
    );
    expect(discoverConfig(deep, owner).path).toBe(join(root, 'gatehouse.yml'));
    // In the current directory, the file is the user's choice, as with --config.
    expect(discoverConfig(root, owner + 1).path).toBe(join(root, 'gatehouse.yml'));
  });
});
