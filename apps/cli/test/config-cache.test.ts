/**
 * `run` and `explain` reuse the resolved pipeline of an unchanged config from
 * `.gatehouse/cache/config/`; these tests pin what that may and may not change.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function cli(argv: string[], cwd: string): Promise<CliResult> {
  return runCli(argv, cwd, { PATH: process.env.PATH, CI: 'true' });
}

const CONFIG = `version: 1
name: cached
plugins: [gatehouse-plugin-refuse]
gates:
  one:
    run: echo one
  two:
    needs: [one]
    run: echo two # the refusing executor names this value
`;

/**
 * A project with a plugin whose executor `refuse` rejects the pipeline with a diagnostic at
 * `gates.two.run` and no location, as an emitter does for a value it cannot write.
 */
async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-config-cache-'));
  dirs.push(dir);
  await writeFile(join(dir, 'gatehouse.yml'), CONFIG);
  const pkg = join(dir, 'node_modules', 'gatehouse-plugin-refuse');
  await mkdir(pkg, { recursive: true });
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'gatehouse-plugin-refuse',
      version: '1.0.0',
      type: 'module',
      main: 'index.js',
    }),
  );
  await writeFile(
    join(pkg, 'index.js'),
    `class Refused extends Error {
  name = 'GatehouseError';
  code = 'GH_REFUSED';
  diagnostics = [{ code: 'GH_REFUSED', severity: 'error', message: 'this command cannot be carried', path: 'gates.two.run', loc: null }];
}
export default {
  name: 'gatehouse-plugin-refuse',
  executors: { refuse: { description: 'refuses', async execute() { throw new Refused('the pipeline cannot be run here'); } } },
};
`,
  );
  return dir;
}

const cacheDir = (dir: string) => join(dir, '.gatehouse', 'cache', 'config');
const entries = async (dir: string) =>
  (await readdir(cacheDir(dir)).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));

describe('the config cache of run and explain', () => {
  it('stores one entry per config content; --no-cache neither reads nor writes it', async () => {
    const dir = await project();
    expect((await cli(['run'], dir)).code).toBe(0);
    expect(await entries(dir)).toHaveLength(1);
    expect((await cli(['explain'], dir)).code).toBe(0);
    expect(await entries(dir)).toHaveLength(1);
    await writeFile(join(dir, 'gatehouse.yml'), `${CONFIG}# edited\n`);
    expect((await cli(['run', '--no-cache'], dir)).code).toBe(0);
    expect(await entries(dir)).toHaveLength(1);
    expect((await cli(['run'], dir)).code).toBe(0);
    expect(await entries(dir)).toHaveLength(2);
  });

  it('a forged entry does not change what run executes or grants', async () => {
    const dir = await project();
    expect((await cli(['run'], dir)).code).toBe(0);
    const [name] = await entries(dir);
    const file = join(cacheDir(dir), name!);
    const entry = JSON.parse(await readFile(file, 'utf8')) as {
      sha256?: string;
      body: { pipeline: { gates: Array<{ id: string; run: string; secrets: string[] }> } };
    };
    const one = entry.body.pipeline.gates.find((g) => g.id === 'one')!;
    one.run = 'echo "$PWNED_SECRET" > pwned.txt';
    one.secrets = ['PWNED_SECRET'];
    // Every digest an editor can recompute without a key.
    if ('sha256' in entry)
      entry.sha256 = createHash('sha256').update(JSON.stringify(entry.body)).digest('hex');
    await writeFile(file, JSON.stringify(entry));

    const r = await runCli(['run', '--json'], dir, {
      PATH: process.env.PATH,
      CI: 'true',
      PWNED_SECRET: 'leaked',
    });
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(dir, 'pwned.txt'))).toBe(false);
    const logs = join(dir, '.gatehouse', 'report');
    const report = JSON.parse(await readFile(join(logs, 'report.json'), 'utf8')) as {
      gates: Array<{ id: string; status: string }>;
    };
    expect(report.gates.map((g) => [g.id, g.status])).toEqual([
      ['one', 'passed'],
      ['two', 'passed'],
    ]);
    expect(await readFile(file, 'utf8')).not.toContain('PWNED');
  });

  it('an executor error is located and framed the same from the cache as from a parse', async () => {
    const dir = await project();
    const first = await cli(['run', '--executor', 'refuse'], dir);
    expect(await entries(dir)).toHaveLength(1);
    const second = await cli(['run', '--executor', 'refuse'], dir);
    for (const r of [first, second]) {
      expect(r.code).toBe(1);
      expect(r.err).toContain('error GH_REFUSED: the pipeline cannot be run here');
      expect(r.err).toContain('gatehouse.yml:9:10');
      expect(r.err).toContain('run: echo two # the refusing executor names this value');
    }
    expect(second.err).toBe(first.err);
  });

  // Only the built binary is a fresh process whose loaded modules can be listed.
  const bin = join(repoRoot, 'apps/cli/bin/gatehouse.js');
  const built = existsSync(join(repoRoot, 'apps/cli/dist/commands/run.js'));
  it.skipIf(!built && process.env.CI !== 'true')(
    'a hit does not load the yaml package (built binary)',
    async () => {
      expect(built, 'apps/cli is not built: run `pnpm build`').toBe(true);
      const dir = await project();
      const probe = join(dir, 'probe.cjs');
      await writeFile(
        probe,
        `process.on('exit', () => process.stderr.write('yaml modules: ' + Object.keys(require.cache).filter((k) => /[\\\\/]node_modules[\\\\/]yaml[\\\\/]/.test(k)).length + '\\n'));\n`,
      );
      const yamlModules = (args: string[]): number => {
        const r = spawnSync(process.execPath, ['--require', probe, bin, ...args], {
          cwd: dir,
          encoding: 'utf8',
          env: { PATH: process.env.PATH, CI: 'true' },
        });
        expect(r.status, r.stderr).toBe(0);
        return Number(/yaml modules: (\d+)/.exec(r.stderr)?.[1]);
      };
      expect(yamlModules(['run'])).toBeGreaterThan(0);
      expect(yamlModules(['run'])).toBe(0);
      expect(yamlModules(['explain'])).toBe(0);
      expect(yamlModules(['run', '--no-cache'])).toBeGreaterThan(0);
      expect(yamlModules(['validate'])).toBeGreaterThan(0);
    },
  );
});
