/** `init` tells the user how to add the CLI with their own package manager. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectProject, installCommand } from '../src/init/index.js';

const dirs: string[] = [];
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-init-install-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
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

  it('says nothing when the project already has it', async () => {
    const dir = await project({
      'package.json': pkg({ devDependencies: { 'gatehouse-ci': '^0.1.0' } }),
      'package-lock.json': '{}',
    });
    expect(installCommand(await detectProject(dir))).toBeNull();
  });
});
