import { spawnSync } from 'node:child_process';
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gate } from '@gatehouse-ci/test-utils';
import { describe, expect, it } from 'vitest';
import { evaluateGate } from './evaluate.js';
import { outcome } from './outcome.js';
import { installedVersion, runtimeTools } from './toolchain.js';
import { BIN, PKG_DIR, run, tempDir, writeFiles } from '../test/helpers.js';

const REPO = join(PKG_DIR, '..', '..');
/** A PATH whose `node` is this process's, and whose npm is the one installed beside it. */
const PATH = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');

/** What a program prints for `--version`, trimmed: the oracle the recorded versions must match. */
function versionOf(cmd: string, args: string[] = ['--version']): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, PATH } });
  if (r.status !== 0) throw new Error(`${cmd} --version failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** A project whose node_modules holds the repository's real ESLint and Vitest (as links, like pnpm). */
async function project(): Promise<string> {
  const root = await tempDir('gh-toolchain-');
  await writeFiles(root, {
    'package.json': '{"type":"module","name":"p","version":"1.0.0"}',
    'package-lock.json': '{"lockfileVersion":3}',
    'eslint.config.js': 'export default [{ rules: { eqeqeq: "warn" } }];\n',
    'src/a.js': 'export const f = (x) => x == 1;\n',
    'a.test.js': 'import { it } from "vitest";\nit("works", () => {});\n',
  });
  await mkdir(join(root, 'node_modules'));
  await symlink(
    await realpath(join(PKG_DIR, 'node_modules', 'eslint')),
    join(root, 'node_modules', 'eslint'),
  );
  await symlink(
    await realpath(join(REPO, 'node_modules', 'vitest')),
    join(root, 'node_modules', 'vitest'),
  );
  return root;
}

describe('the tools a gate ran with', () => {
  it('ESLint JSON and Vitest JUnit: versions from node_modules, equal to what the tools print; node and npm from PATH', async () => {
    const root = await project();
    const out = join(root, '.out');
    await mkdir(out);
    const lint = await run(BIN('eslint'), ['-f', 'json', '-o', join(out, 'eslint.json'), 'src'], {
      cwd: root,
    });
    expect(lint.code, lint.stderr).toBe(0);
    const unit = await run(
      join(REPO, 'node_modules', '.bin', 'vitest'),
      ['run', '--reporter=junit', `--outputFile=${join(out, 'junit.xml')}`, '--root', root],
      { cwd: root, env: { CI: 'true' } },
    );
    expect(unit.code, unit.stderr).toBe(0);

    const g = gate('check', {
      kind: 'lint',
      evidence: [
        { format: 'eslint', path: 'eslint.json' },
        { format: 'junit', path: 'junit.xml' },
      ],
    });
    const r = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), {
      rootDir: root,
      toolchain: { cwd: root, env: { PATH } },
    });
    expect(r.status).toBe('passed');
    const eslintVersion = versionOf(BIN('eslint')).replace(/^v/, '');
    const vitestVersion = /^vitest\/(\S+)/.exec(
      versionOf(join(REPO, 'node_modules', '.bin', 'vitest')),
    )![1];
    expect(r.tools).toEqual([
      { name: 'node', version: versionOf(process.execPath), source: 'runtime' },
      { name: 'npm', version: versionOf('npm'), source: 'runtime' },
      { name: 'eslint', version: eslintVersion, source: 'installed' },
      { name: 'vitest', version: vitestVersion, source: 'installed' },
    ]);

    // Without a toolchain (a gate that ran in an image), this machine says nothing about them.
    const elsewhere = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), {
      rootDir: root,
    });
    expect(elsewhere.tools).toBeUndefined();
  });

  it("the package manager's version: its binary on PATH, else the declared one, else none", async () => {
    const root = await tempDir('gh-toolchain-pm-');
    await writeFiles(root, {
      'package.json': '{"packageManager":"pnpm@9.15.0"}',
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    });
    // A pnpm whose package says 10.1.0, as a global npm install lays it out.
    const prefix = await tempDir('gh-toolchain-bin-');
    await writeFiles(prefix, {
      'lib/node_modules/pnpm/package.json': '{"name":"pnpm","version":"10.1.0"}',
      'lib/node_modules/pnpm/bin/pnpm.cjs': '#!/usr/bin/env node\n',
    });
    await mkdir(join(prefix, 'bin'));
    await symlink('../lib/node_modules/pnpm/bin/pnpm.cjs', join(prefix, 'bin', 'pnpm'));
    spawnSync('chmod', ['+x', join(prefix, 'lib/node_modules/pnpm/bin/pnpm.cjs')]);
    const pm = (path: string) =>
      runtimeTools({ cwd: root, env: { PATH: path } }).find((t) => t.name === 'pnpm');
    expect(pm(`${join(prefix, 'bin')}:${dirname(process.execPath)}`)).toEqual({
      name: 'pnpm',
      version: '10.1.0',
      source: 'runtime',
    });
    // No pnpm on PATH (a Corepack shim resolves to Corepack's package, not pnpm's): the declared version.
    expect(pm(await tempDir('gh-toolchain-empty-'))?.version).toBe('9.15.0');
    // Nothing declared, nothing on PATH, no invoking manager: no version, so no entry.
    const bare = await tempDir('gh-toolchain-bare-');
    await writeFiles(bare, { 'package.json': '{}', 'package-lock.json': '{}' });
    const none = runtimeTools({ cwd: bare, env: { PATH: await tempDir('gh-toolchain-empty-') } });
    expect(none).toEqual([]);
    const announced = runtimeTools({
      cwd: bare,
      env: {
        PATH: await tempDir('gh-toolchain-empty-'),
        npm_config_user_agent: 'npm/10.8.2 node/v22.0.0',
      },
    });
    expect(announced).toEqual([{ name: 'npm', version: '10.8.2', source: 'runtime' }]);
  });

  it('beside lockfiles of several managers, records the one the setup runs, with its version on PATH', async () => {
    const root = await tempDir('gh-toolchain-locks-');
    await writeFiles(root, {
      'package.json': '{"name":"p"}',
      'package-lock.json': '{"lockfileVersion":3}',
      'yarn.lock': '# yarn lockfile v1\n',
    });
    // an npm and a yarn on PATH, each with its own package version
    const prefix = await tempDir('gh-toolchain-two-');
    for (const [name, version] of [
      ['npm', '10.9.9'],
      ['yarn', '1.22.99'],
    ] as const) {
      await writeFiles(prefix, {
        [`lib/node_modules/${name}/package.json`]: JSON.stringify({ name, version }),
        [`lib/node_modules/${name}/bin/cli.js`]: '#!/usr/bin/env node\n',
      });
      await mkdir(join(prefix, 'bin'), { recursive: true });
      await symlink(`../lib/node_modules/${name}/bin/cli.js`, join(prefix, 'bin', name));
    }
    spawnSync('chmod', [
      '+x',
      ...['npm', 'yarn'].map((n) => join(prefix, `lib/node_modules/${n}/bin/cli.js`)),
    ]);
    const env = { PATH: join(prefix, 'bin') };
    const pm = (setupRun?: string | null) =>
      runtimeTools({ cwd: root, env, ...(setupRun === undefined ? {} : { setupRun }) });
    expect(pm('npm ci')).toEqual([{ name: 'npm', version: '10.9.9', source: 'runtime' }]);
    expect(pm('yarn install --frozen-lockfile')).toEqual([
      { name: 'yarn', version: '1.22.99', source: 'runtime' },
    ]);
    // without a setup, the first lockfile found, as before
    expect(pm()).toEqual([{ name: 'yarn', version: '1.22.99', source: 'runtime' }]);
  });

  it('ignores a package.json that is a FIFO, too large, not JSON or of another package, without waiting', async () => {
    const root = await tempDir('gh-toolchain-bad-');
    await mkdir(join(root, 'node_modules', 'eslint'), { recursive: true });
    const fifo = join(root, 'node_modules', 'eslint', 'package.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const t0 = Date.now();
    expect(installedVersion(root, 'eslint')).toBeNull();
    expect(Date.now() - t0).toBeLessThan(2000);
    await writeFiles(root, {
      'node_modules/vitest/package.json': `{"name":"vitest","version":"1.0.0","x":"${'a'.repeat(1024 * 1024)}"}`,
      'node_modules/jest/package.json': '{ not json',
      'node_modules/eslint-x/package.json': '{"name":"other","version":"1.0.0"}',
      'sub/dir/.keep': '',
    });
    expect(installedVersion(root, 'vitest')).toBeNull();
    expect(installedVersion(root, 'jest')).toBeNull();
    expect(installedVersion(root, 'eslint-x')).toBeNull();
    // Found from a subdirectory, as Node looks it up.
    await writeFile(
      join(root, 'node_modules', 'eslint-x', 'package.json'),
      '{"name":"eslint-x","version":"2.3.4"}',
    );
    expect(installedVersion(join(root, 'sub', 'dir'), 'eslint-x')).toBe('2.3.4');
    // A version with a control character is not one line of text: refused.
    await writeFile(
      join(root, 'node_modules', 'eslint-x', 'package.json'),
      '{"name":"eslint-x","version":"1.0\\n0"}',
    );
    expect(installedVersion(root, 'eslint-x')).toBeNull();
  });
});
