/** A package's own gatehouse.yml in a pnpm workspace, naming files of the workspace root (`//`). */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requireBwrap } from '@gatehouse-ci/test-utils';
import { runCli, type CliResult } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function cli(argv: string[], cwd: string): Promise<CliResult> {
  return runCli(argv, cwd, { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' });
}

const WEB_CONFIG = `version: 1
name: web
setup: { run: "true", inputs: ["//pnpm-lock.yaml", package.json] }
gates:
  lint:
    run: cat src/a.ts ../../tsconfig.base.json
    inputs: [src/**, //tsconfig.base.json]
`;

/** A git repository holding a pnpm workspace with `packages/web` and its own config. */
async function workspace(config = WEB_CONFIG): Promise<{ root: string; web: string }> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-root-inputs-')));
  dirs.push(root);
  const files: Record<string, string> = {
    'pnpm-workspace.yaml': 'packages: [packages/*]\n',
    'package.json': '{"name":"root","private":true}\n',
    'pnpm-lock.yaml': 'lockfileVersion: 9.0\n',
    'tsconfig.base.json': '{"strict":true}\n',
    '.gitignore': '.gatehouse/\n',
    'packages/web/package.json': '{"name":"web"}\n',
    'packages/web/src/a.ts': 'export const a = 1\n',
    'packages/web/gatehouse.yml': config,
  };
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), c);
  }
  execFileSync('git', ['init', '-q'], { cwd: root });
  return { root, web: join(root, 'packages/web') };
}

const statusOf = (r: CliResult) => /lint (passed|cached|failed|error)/.exec(r.out + r.err)?.[1];

describe('a package config naming files of the workspace root (//)', () => {
  it('runs with --config from the root and from the package, and reruns on an edit of the root file', async () => {
    const { root, web } = await workspace();
    const first = await cli(['run', '--config', 'packages/web/gatehouse.yml'], root);
    expect(first.code, first.err + first.out).toBe(0);
    expect(statusOf(first)).toBe('passed');

    const again = await cli(['run'], web);
    expect(again.code, again.err + again.out).toBe(0);
    expect(statusOf(again)).toBe('cached');

    await writeFile(join(root, 'tsconfig.base.json'), '{"strict":false}\n');
    const why = await cli(['explain'], web);
    expect(why.code, why.err).toBe(0);
    expect(why.out).toMatch(/input \/\/tsconfig\.base\.json changed \(sha /);

    const rerun = await cli(['run', '--config', 'packages/web/gatehouse.yml'], root);
    expect(rerun.code, rerun.err + rerun.out).toBe(0);
    expect(statusOf(rerun)).toBe('passed');
    expect(statusOf(await cli(['run'], web))).toBe('cached');
  });

  it('the config cache sees a new workspace root: // then names the nearer one', async () => {
    const { web } = await workspace();
    expect((await cli(['run'], web)).code).toBe(0);
    expect((await cli(['explain'], web)).out).toMatch(/lint\b.*cached/);
    // The package becomes a workspace of its own: `//tsconfig.base.json` is now its file, absent.
    await writeFile(join(web, 'pnpm-workspace.yaml'), 'packages: []\n');
    const why = await cli(['explain'], web);
    expect(why.out).toMatch(/input \/\/tsconfig\.base\.json removed/);
  });

  it('an edit of the root lockfile named in setup inputs reruns setup', async () => {
    const { root, web } = await workspace();
    expect((await cli(['run'], web)).code).toBe(0);
    await writeFile(join(root, 'pnpm-lock.yaml'), 'lockfileVersion: 9.1\n');
    const why = await cli(['explain'], web);
    expect(why.out).toMatch(/setup changed/);
  });

  it('the dockerfile target refuses a // input at its place in the config', async () => {
    const { web } = await workspace(`${WEB_CONFIG}targets: { dockerfile: {} }\n`);
    const r = await cli(['compile'], web);
    expect(r.code).toBe(1);
    expect(r.err + r.out).toMatch(
      /gatehouse\.yml:7:\d+ .*GH_DOCKERFILE_PATH gates\.lint\.inputs\[1\]: `\/\/tsconfig\.base\.json` is a file of the workspace root, outside the build context/,
    );
  });

  it('outside every workspace and git work tree, validate locates GH_NO_WORKSPACE_ROOT', async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-no-root-')));
    dirs.push(dir);
    await writeFile(join(dir, 'gatehouse.yml'), WEB_CONFIG);
    const r = await cli(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.out + r.err).toMatch(/gatehouse\.yml:3:\d+ .*GH_NO_WORKSPACE_ROOT setup\.inputs\[0\]/);
    expect(r.out + r.err).toMatch(
      /gatehouse\.yml:7:\d+ .*GH_NO_WORKSPACE_ROOT gates\.lint\.inputs\[1\]/,
    );
  });
});

describe('a package config whose gates declare no inputs', () => {
  const NO_INPUTS = `version: 1
name: web
gates:
  lint:
    run: cat src/a.ts ../../tsconfig.base.json
`;

  it('keys them on the root files outside every package too: a root config edit reruns, another package does not', async () => {
    const { root, web } = await workspace(NO_INPUTS);
    await mkdir(join(root, 'packages/api/src'), { recursive: true });
    await writeFile(join(root, 'packages/api/package.json'), '{"name":"api"}\n');
    await writeFile(join(root, 'packages/api/src/b.ts'), 'export const b = 1\n');
    expect(statusOf(await cli(['run'], web))).toBe('passed');
    expect(statusOf(await cli(['run'], web))).toBe('cached');

    // Another package's files are not in the key.
    await writeFile(join(root, 'packages/api/src/b.ts'), 'export const b = 2\n');
    expect(statusOf(await cli(['run'], web))).toBe('cached');

    // The root's shared config is: the edit reruns the gate, and explain names the file.
    await writeFile(join(root, 'tsconfig.base.json'), '{"strict":false}\n');
    const why = await cli(['explain'], web);
    expect(why.out).toMatch(/input \/\/tsconfig\.base\.json changed/);
    expect(statusOf(await cli(['run'], web))).toBe('passed');
    expect(statusOf(await cli(['run'], web))).toBe('cached');
  });

  it('a config in a directory the workspace does not list keeps the key of its own directory', async () => {
    const { root } = await workspace(NO_INPUTS);
    await mkdir(join(root, 'tools/site'), { recursive: true });
    await writeFile(join(root, 'tools/site/gatehouse.yml'), NO_INPUTS.replace('src/a.ts ', ''));
    const site = join(root, 'tools/site');
    expect(statusOf(await cli(['run'], site))).toBe('passed');
    await writeFile(join(root, 'tsconfig.base.json'), '{"strict":false}\n');
    expect(statusOf(await cli(['run'], site))).toBe('cached');
  });
});

describe.skipIf(!requireBwrap('the package config sandbox test'))(
  'a package config whose gates declare no inputs, in the sandbox',
  () => {
    it('shows the root files its key covers, and not the files of another package', async () => {
      const config = `version: 1
name: web
gates:
  lint:
    run: cat src/a.ts ../../tsconfig.base.json
  peek:
    run: cat ../api/src/b.ts
`;
      const { root, web } = await workspace(config);
      await mkdir(join(root, 'packages/api/src'), { recursive: true });
      await writeFile(join(root, 'packages/api/package.json'), '{"name":"api"}\n');
      await writeFile(join(root, 'packages/api/src/b.ts'), 'export const b = 1\n');
      const r = await cli(['run', '--sandbox'], web);
      expect(r.code, r.out + r.err).toBe(1);
      expect(statusOf(r)).toBe('passed');
      expect(r.out).toMatch(/✖ peek error \S+: passes outside the sandbox but not in it/);
    });
  },
);
