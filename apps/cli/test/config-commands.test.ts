import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as run } from './helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * A project with a third-party target plugin installed in its node_modules: the target
 * `notes` writes `gates.txt` listing the gates, and rejects an unknown option `styl`.
 */
async function project(config: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
  dirs.push(dir);
  await writeFile(join(dir, 'gatehouse.yml'), config);
  const pkg = join(dir, 'node_modules', 'gatehouse-plugin-notes');
  await mkdir(pkg, { recursive: true });
  await writeFile(
    join(pkg, 'package.json'),
    JSON.stringify({ name: 'gatehouse-plugin-notes', type: 'module', main: 'index.js' }),
  );
  await writeFile(
    join(pkg, 'index.js'),
    `export default {
  name: 'gatehouse-plugin-notes',
  targets: {
    notes: {
      description: 'gate list',
      resolveOptions(o) {
        return { value: o, diagnostics: Object.keys(o).filter((k) => k !== 'style').map((k) => ({ code: 'GH_TARGET_OPTIONS', severity: 'error', message: 'unknown option ' + k, path: k, loc: null })) };
      },
      emit(p, o, ctx) {
        return [{ path: 'out/gates.txt', contents: '# ' + ctx.configFile + '\\n' + p.gates.map((g) => g.id).join('\\n') + '\\n' }];
      },
    },
  },
};
`,
  );
  return dir;
}

const VALID = `version: 1
name: shop
image: node:22-bookworm-slim
plugins: [gatehouse-plugin-notes]
gates:
  lint: { kind: lint, run: npm run lint }
  unit: { kind: unit-test, run: npm test }
  build: { kind: build, run: npm run build }
  a11y:
    kind: a11y-test
    needs: [build]
    run: npx pa11y-ci
targets:
  notes: {}
`;

describe('gatehouse validate', () => {
  it('accepts a valid config and exits 0', async () => {
    const dir = await project(VALID);
    const r = await run(['validate'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('gatehouse.yml is valid: 4 gates, targets: notes');
    expect(r.out).toContain('0 errors, 0 warnings');
  });

  it('prints every problem located, with frame, hint and summary, and exits 1', async () => {
    const dir = await project(
      VALID.replace('needs: [build]', 'needs: [biuld]').replace(
        'image: node:22-bookworm-slim',
        'image: node:latest',
      ),
    );
    const r = await run(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'gatehouse.yml:11:13 error GH_UNKNOWN_GATE gates.a11y.needs[0]: unknown gate `biuld`',
    );
    expect(r.out).toContain('> 11 |     needs: [biuld]');
    expect(r.out).toContain('hint: did you mean `build`?');
    expect(r.out).toContain('gatehouse.yml:3:8 warning GH_IMAGE_UNPINNED');
    expect(r.out.trimEnd().split('\n').pop()).toBe('1 error, 1 warning');
  });

  it('locates an unknown target and target option problems', async () => {
    const dir = await project(VALID.replace('  notes: {}', '  notse: {}\n  notes: { styl: x }'));
    const r = await run(['validate', '--format', 'json'], dir);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.out) as {
      valid: boolean;
      diagnostics: Array<{
        code: string;
        path: string;
        loc: { line: number; column: number };
        hint?: string;
      }>;
    };
    expect(out.valid).toBe(false);
    const unknown = out.diagnostics.find((d) => d.code === 'GH_UNKNOWN_TARGET')!;
    expect(unknown).toMatchObject({
      path: 'targets.notse',
      loc: { line: 14, column: 3 },
      hint: 'did you mean `notes`?',
    });
    const opt = out.diagnostics.find((d) => d.code === 'GH_TARGET_OPTIONS')!;
    expect(opt).toMatchObject({ path: 'targets.notes.styl', loc: { line: 15, column: 18 } });
  });

  it('reports a missing config with a hint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
    dirs.push(dir);
    const r = await run(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('GH_CONFIG_NOT_FOUND');
    expect(r.err).toContain('gatehouse init');
  });

  it('refuses a FIFO, a device and a config over 1 MiB at once, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
    dirs.push(dir);
    const fifo = join(dir, 'pipe.yml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const big = join(dir, 'big.yml');
    await writeFile(big, `${VALID}${'#'.repeat(2 * 1024 * 1024)}\n`);
    for (const [command, file, code, says] of [
      ['validate', fifo, 'GH_CONFIG_NOT_FILE', 'FIFO'],
      ['compile', '/dev/zero', 'GH_CONFIG_NOT_FILE', 'character device'],
      ['run', big, 'GH_CONFIG_TOO_LARGE', 'at most 1 MiB'],
    ] as const) {
      const r = await run([command, '--config', file], dir);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toContain(`gatehouse ${command}: error ${code}: config file ${file}`);
      expect(r.err).toContain(says);
    }
  });

  it('locates a dockerfile `ca` outside the project: by value in validate, through a link in run', async () => {
    const dir = await project(VALID);
    const plain = VALID.replace('plugins: [gatehouse-plugin-notes]\n', '').replace(
      '  notes: {}\n',
      '',
    );
    for (const ca of ['../corp.pem', '/home/me/.ssh/id_ed25519']) {
      await writeFile(join(dir, 'gatehouse.yml'), `${plain}  dockerfile: { ca: "${ca}" }\n`);
      const r = await run(['validate'], dir);
      expect(r.code, r.err).toBe(1);
      expect(r.out + r.err).toMatch(
        /gatehouse\.yml:13:21 error GH_CA_PATH targets\.dockerfile\.ca: /,
      );
    }
    const outside = await mkdtemp(join(tmpdir(), 'gatehouse-outside-'));
    dirs.push(outside);
    await writeFile(join(outside, 'id_ed25519'), 'PRIVATE KEY\n');
    await mkdir(join(dir, 'certs'));
    await symlink(join(outside, 'id_ed25519'), join(dir, 'certs', 'corp.pem'));
    await writeFile(join(dir, 'gatehouse.yml'), `${plain}  dockerfile: { ca: certs/corp.pem }\n`);
    expect((await run(['validate'], dir)).code).toBe(0);
    const r = await run(['run', '--executor', 'docker', '--no-cache'], dir, {
      DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}`,
    });
    expect(r.code, r.err).toBe(1);
    expect(r.err).toMatch(
      /gatehouse\.yml:13:21 error GH_CA_PATH targets\.dockerfile\.ca: .*outside the project/,
    );
    expect(r.out + r.err).not.toContain('PRIVATE KEY');
  });

  it('finds gatehouse.yaml when there is no gatehouse.yml', async () => {
    const dir = await project(VALID);
    await writeFile(join(dir, 'gatehouse.yaml'), await readFile(join(dir, 'gatehouse.yml')));
    await rm(join(dir, 'gatehouse.yml'));
    const r = await run(['validate'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('gatehouse.yaml is valid');
  });

  it('names a plugin that is not installed', async () => {
    const dir = await project(
      VALID.replace('gatehouse-plugin-notes]', 'gatehouse-plugin-notes, gatehouse-plugin-nope]'),
    );
    const r = await run(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    // Located like every other config problem: file:line:col, path, code frame, hint.
    expect(r.out).toMatch(
      /^gatehouse\.yml:4:35 error GH_PLUGIN_NOT_FOUND plugins\[1\]: plugin `gatehouse-plugin-nope` is not installed/m,
    );
    expect(r.out).toContain('> 4 | plugins: [gatehouse-plugin-notes, gatehouse-plugin-nope]');
    expect(r.out).toContain(`      | ${' '.repeat(34)}${'^'.repeat(21)}\n`);
    expect(r.out).toContain('hint: npm i -D gatehouse-plugin-nope');
    expect(r.out).toContain('1 error, 0 warnings');
    // The plugin that did load still provides its target: no unknown-target noise.
    expect(r.out).not.toContain('GH_UNKNOWN_TARGET');
  });

  it('locates a plugin that is not a plugin, and one that clashes with a built-in, in plugins:', async () => {
    const dir = await project(
      VALID.replace(
        'plugins: [gatehouse-plugin-notes]',
        'plugins:\n  - gatehouse-plugin-notes\n  - not-a-plugin\n  - clash\n',
      ).replace('kind: unit-test', 'kind: perf'),
    );
    for (const [name, body] of [
      ['not-a-plugin', 'export default { hello: 1 };\n'],
      [
        'clash',
        "export default { name: 'clash', gateKinds: { perf: { description: 'x', defaults: {} } }, targets: { dockerfile: { description: 'x', resolveOptions: (value) => ({ value, diagnostics: [] }), emit: () => [] } } };\n",
      ],
    ] as const) {
      await mkdir(join(dir, 'node_modules', name), { recursive: true });
      await writeFile(
        join(dir, 'node_modules', name, 'package.json'),
        JSON.stringify({ name, type: 'module', main: 'index.js' }),
      );
      await writeFile(join(dir, 'node_modules', name, 'index.js'), body);
    }
    const r = await run(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    expect(r.out).toMatch(
      /^gatehouse\.yml:6:5 error GH_PLUGIN_INVALID plugins\[1\]: plugin `not-a-plugin` is invalid/m,
    );
    expect(r.out).toMatch(/^gatehouse\.yml:7:5 error GH_PLUGIN_DUPLICATE plugins\[2\]: /m);
    expect(r.out).toContain('> 7 |   - clash');
    // `perf` would have come from the plugin that was left out: not reported as a second problem.
    expect(r.out).not.toContain('GH_UNKNOWN_KIND');
    expect(r.out).toContain('2 errors, 0 warnings');
  });
});

describe('gatehouse graph', () => {
  it('prints layers, and the critical path from a report', async () => {
    const dir = await project(VALID);
    const report = {
      gates: [
        { id: 'build', durationMs: 60_000 },
        { id: 'a11y', durationMs: 30_000 },
        { id: 'lint', durationMs: 80_000 },
        { id: 'unit', durationMs: 5_000 },
      ],
    };
    await writeFile(join(dir, 'report.json'), JSON.stringify(report));
    const r = await run(['graph', '--durations', 'report.json'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('layer 1 (parallel): build, lint, unit');
    expect(r.out).toContain('layer 2: a11y');
    expect(r.out).toContain('a11y (a11y-test, 30s) <- needs build');
    expect(r.out).toContain('critical path: build -> a11y (1m30s)');
  });

  it('prints mermaid and dot', async () => {
    const dir = await project(VALID);
    const m = await run(['graph', '--format', 'mermaid'], dir);
    expect(m.out).toContain('flowchart LR');
    expect(m.out).toContain('  build --> a11y');
    const d = await run(['graph', '--format', 'dot'], dir);
    expect(d.out).toContain('digraph "shop" {');
    expect(d.out).toContain('"build" -> "a11y";');
  });
});

describe('gatehouse compile and check', () => {
  it('writes files, then check passes; an edit makes check fail with a diff', async () => {
    const dir = await project(VALID);
    const before = await run(['check'], dir);
    expect(before.code).toBe(1);
    expect(before.out).toContain('missing: out/gates.txt');

    const c = await run(['compile'], dir);
    expect(c.code).toBe(0);
    expect(c.out).toContain('wrote out/gates.txt (37 bytes, notes)');
    expect(await readFile(join(dir, 'out/gates.txt'), 'utf8')).toBe(
      '# gatehouse.yml\nbuild\nlint\nunit\na11y\n',
    );

    const ok = await run(['check'], dir);
    expect(ok.code).toBe(0);
    expect(ok.out).toBe('1 file up to date\n');

    await writeFile(join(dir, 'out/gates.txt'), '# gatehouse.yml\nbuild\nlint\na11y\n');
    const stale = await run(['check'], dir);
    expect(stale.code).toBe(1);
    expect(stale.out).toContain(
      'stale: out/gates.txt\n--- a/out/gates.txt\n+++ b/out/gates.txt\n@@ -1,4 +1,5 @@\n # gatehouse.yml\n build\n lint\n+unit\n a11y\n',
    );
    expect(stale.out).toContain('run `gatehouse compile --target notes`');
  });

  it('never replaces a file it did not generate without --force, and writes nothing then', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
    dirs.push(dir);
    await writeFile(
      join(dir, 'gatehouse.yml'),
      'version: 1\nname: shop\ngates:\n  lint: { kind: lint, run: npm run lint }\ntargets: { dockerfile: {}, github: {} }\n',
    );
    const mine = 'FROM node:20\nCOPY . .\nRUN npm ci && npm run lint\n';
    await writeFile(join(dir, 'Dockerfile'), mine);
    const refused = await run(['compile'], dir);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('GH_TARGET_OVERWRITE');
    expect(refused.err).toContain('`Dockerfile`');
    expect(refused.err).toContain('--force');
    // Nothing at all was written: not the Dockerfile, nor the other files.
    expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).toBe(mine);
    expect(existsSync(join(dir, '.dockerignore'))).toBe(false);
    expect(existsSync(join(dir, '.github'))).toBe(false);

    const forced = await run(['compile', '--force'], dir);
    expect(forced.code, forced.err).toBe(0);
    expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).toMatch(/^# generated by gatehouse/);
    // Generated now: later compiles replace it without --force.
    await writeFile(
      join(dir, 'gatehouse.yml'),
      'version: 1\nname: shop\ngates:\n  lint: { kind: lint, run: npm run lint -- --max-warnings 0 }\ntargets: { dockerfile: {}, github: {} }\n',
    );
    const again = await run(['compile'], dir);
    expect(again.code, again.err).toBe(0);
    expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).toContain('--max-warnings 0');
  });

  it('--dry-run writes nothing', async () => {
    const dir = await project(VALID);
    const r = await run(['compile', '--dry-run'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('would write out/gates.txt');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('an unknown --target is an error with a suggestion', async () => {
    const dir = await project(VALID);
    const r = await run(['compile', '--target', 'note'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error GH_UNKNOWN_TARGET: unknown target `note`');
    expect(r.err).toContain('hint: did you mean `notes`?');
  });

  it('refuses output paths that lead out of the project or into .git/, located, writing nothing', async () => {
    const dir = await project(VALID);
    const outside = await mkdtemp(join(tmpdir(), 'gatehouse-outside-'));
    dirs.push(outside);
    await writeFile(join(outside, 'gates.txt'), 'text that must stay private\n');
    await symlink(outside, join(dir, 'out'));
    for (const command of ['compile', 'check']) {
      const r = await run([command], dir);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(/^gatehouse\.yml:\d+:\d+ error GH_TARGET_PATH targets\.notes: /m);
      expect(r.err).toContain('outside the project');
      expect(r.out + r.err).not.toContain('must stay private');
    }
    expect(await readdir(outside)).toEqual(['gates.txt']);

    // The Jenkinsfile as a git hook: refused at its `path` option, directly or through a link.
    await rm(join(dir, 'out'));
    await mkdir(join(dir, '.git', 'hooks'), { recursive: true });
    await symlink(join(dir, '.git', 'hooks'), join(dir, 'ci'));
    for (const path of ['.git/hooks/pre-commit', 'ci/pre-commit']) {
      await writeFile(
        join(dir, 'gatehouse.yml'),
        `${VALID.replace('plugins: [gatehouse-plugin-notes]\n', '').replace(/targets:[\s\S]*$/, '')}targets:\n  jenkins: { path: ${path} }\n`,
      );
      const r = await run(['compile'], dir);
      expect(r.code, r.err).toBe(1);
      expect(r.err).toMatch(
        /^gatehouse\.yml:\d+:\d+ error GH_TARGET_PATH targets\.jenkins\.path: .*\.git\//m,
      );
      expect(r.err).toContain(`> `);
    }
    expect(await readdir(join(dir, '.git', 'hooks'))).toEqual([]);
  });

  it('an invalid config is not compiled', async () => {
    const dir = await project(VALID.replace('run: npm test', 'run: npm test, mode: blocker'));
    const r = await run(['compile'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('GH_INVALID_MODE');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

describe('the built binary', () => {
  const bin = join(repoRoot, 'apps/cli/bin/gatehouse.js');
  const built = existsSync(join(repoRoot, 'apps/cli/dist/commands/validate.js'));
  it.skipIf(!built && process.env.CI !== 'true')(
    'validates a config end to end (exit codes and output)',
    async () => {
      expect(built, 'apps/cli is not built: run `pnpm build`').toBe(true);
      const dir = await project(VALID);
      const ok = spawnSync(process.execPath, [bin, 'validate'], { cwd: dir, encoding: 'utf8' });
      expect(ok.stderr).toBe('');
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain('is valid: 4 gates');
      await writeFile(join(dir, 'gatehouse.yml'), VALID.replace('version: 1', 'version: 2'));
      const bad = spawnSync(process.execPath, [bin, 'validate'], { cwd: dir, encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stdout).toContain('gatehouse.yml:1:10 error GH_UNKNOWN_VERSION version');
    },
  );
});
