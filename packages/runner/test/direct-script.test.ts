import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { directScript } from '../src/direct-script.js';
import { cleanup, project } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

const g = (manager: 'pnpm' | 'npm' | 'yarn' | 'bun' = 'pnpm') => ({
  ...gate('web-lint', { run: `cd packages/web && ${manager} run lint` }),
  package: {
    name: '@acme/web',
    dir: 'packages/web',
    gate: 'lint',
    direct: { script: 'lint', manager },
  },
});

async function ws(files: Record<string, string>) {
  dir = realpathSync(
    await project({
      'packages/web/package.json': JSON.stringify({
        name: '@acme/web',
        version: '2.0.0',
        scripts: { lint: 'eslint . && echo "it\'s done"' },
      }),
      ...files,
    }),
  );
  return dir;
}

describe('directScript', () => {
  it('starts the script in the package directory, every node_modules/.bin above it first on PATH', async () => {
    const root = await ws({});
    const d = directScript(g(), root, { PATH: '/usr/bin', KEEP: '1' });
    if (d === null || typeof d === 'string') throw new Error(`not direct: ${d}`);
    const web = join(root, 'packages/web');
    expect(d.command).toBe(`cd -- ${web} || exit\neslint . && echo "it's done"`);
    const path = d.env.PATH!.split(':');
    expect(path.slice(0, 3)).toEqual([
      join(web, 'node_modules/.bin'),
      join(root, 'packages/node_modules/.bin'),
      join(root, 'node_modules/.bin'),
    ]);
    expect(path.at(-1)).toBe('/usr/bin');
    expect(d.env).toMatchObject({
      KEEP: '1',
      npm_lifecycle_event: 'lint',
      npm_lifecycle_script: 'eslint . && echo "it\'s done"',
      npm_package_name: '@acme/web',
      npm_package_version: '2.0.0',
      npm_package_json: join(web, 'package.json'),
      INIT_CWD: web,
    });
  });

  it('names why the package manager must run it', async () => {
    const root = await ws({ '.yarnrc.yml': 'nodeLinker: node-modules\n' });
    expect(directScript(g('yarn'), root, {})).toBe('yarn 2+ runs scripts in its own shell');
    // pnpm does not read .yarnrc.yml: the same workspace starts it directly.
    expect(typeof directScript(g('pnpm'), root, {})).toBe('object');
    expect(directScript(g(), root, { npm_config_script_shell: '/bin/bash' })).toBe(
      'npm_config_script_shell is set',
    );
    writeFileSync(join(root, '.npmrc'), '# comment\nnode-options = --max-old-space-size=100\n');
    expect(directScript(g(), root, {})).toBe(`${join(root, '.npmrc')} sets node-options`);
    writeFileSync(join(root, '.npmrc'), 'registry=https://registry.example.test/\n');
    expect(typeof directScript(g(), root, {})).toBe('object');
    writeFileSync(
      join(root, 'packages/web/package.json'),
      JSON.stringify({ name: '@acme/web', scripts: { lint: 'x', postlint: 'y' } }),
    );
    expect(directScript(g(), root, {})).toBe('it has a postlint script');
    writeFileSync(join(root, 'packages/web/package.json'), JSON.stringify({ name: '@acme/web' }));
    expect(directScript(g(), root, {})).toBe('its package.json has no script lint');
  });

  it('leaves a gate that does not ask for it alone', async () => {
    const root = await ws({});
    const { package: _p, ...plain } = g();
    expect(directScript(plain, root, {})).toBeNull();
  });
});
