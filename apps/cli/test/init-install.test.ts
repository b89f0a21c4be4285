/** `init` tells the user how to add the CLI with their own package manager. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectProject, installCommand } from '../src/init/index.js';

const dirs: string[] = [];
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-init-install-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const pkg = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name: 'app', version: '1.0.0', scripts: { test: 'node --test' }, ...extra });

describe('the install command init prints', () => {
  it.each([
    [{ 'package-lock.json': '{}' }, 'npm install --save-dev gatehouse-ci'],
    [{ 'pnpm-lock.yaml': "lockfileVersion: '9.0'\n" }, 'pnpm add --save-dev gatehouse-ci'],
    [{ 'yarn.lock': '# yarn lockfile v1\n' }, 'yarn add --dev gatehouse-ci'],
  ])('uses the project package manager (%o)', async (lock, expected) => {
    const dir = await project({ 'package.json': pkg(), ...lock });
    expect(installCommand(await detectProject(dir))).toBe(expected);
  });

  it('adds to the workspace root of a pnpm workspace', async () => {
    const dir = await project({
      'package.json': pkg(),
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
    });
    expect(installCommand(await detectProject(dir))).toBe(
      'pnpm add --save-dev --workspace-root gatehouse-ci',
    );
  });

  // Checked by hand in real workspaces (npm 11.19, pnpm 10.34, Yarn 1.22 and 4.12, with a small
  // registry package): run in packages/web, each of these adds to the root's package.json only;
  // plain `npm install -D`, `yarn add -D -W` there add to the package's.
  it.each([
    [
      'pnpm',
      {
        'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
        'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      },
      'pnpm add --save-dev --workspace-root gatehouse-ci',
    ],
    ['npm', { 'package-lock.json': '{}' }, 'npm install --save-dev --prefix ../.. gatehouse-ci'],
    [
      'Yarn classic',
      { 'yarn.lock': '# yarn lockfile v1\n' },
      'yarn --cwd ../.. add --dev --ignore-workspace-root-check gatehouse-ci',
    ],
    [
      'Yarn 2+',
      { 'yarn.lock': '', '.yarnrc.yml': 'nodeLinker: node-modules\n' },
      'yarn --cwd ../.. add --dev gatehouse-ci',
    ],
  ])(
    'in a package of a %s workspace, adds to the workspace root',
    async (_, rootFiles, expected) => {
      const workspaces = 'pnpm-workspace.yaml' in rootFiles ? {} : { workspaces: ['packages/*'] };
      const root = await project({
        'package.json': JSON.stringify({ name: 'root', private: true, ...workspaces }),
        ...rootFiles,
        'packages/web/package.json': pkg({ name: 'web' }),
      });
      const web = join(root, 'packages', 'web');
      expect(installCommand(await detectProject(web))).toBe(expected);
      // The root has it already: every package's jobs find it there.
      await writeFile(
        join(root, 'package.json'),
        JSON.stringify({
          name: 'root',
          private: true,
          ...workspaces,
          devDependencies: { 'gatehouse-ci': '^0.1.0' },
        }),
      );
      expect(installCommand(await detectProject(web))).toBeNull();
    },
  );

  it('says nothing when the project already has it', async () => {
    const dir = await project({
      'package.json': pkg({ devDependencies: { 'gatehouse-ci': '^0.1.0' } }),
      'package-lock.json': '{}',
    });
    expect(installCommand(await detectProject(dir))).toBeNull();
  });
});
