import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadProject,
  presetDrift,
  sha256,
  validateConfig,
  type ConfigValidation,
  type Diagnostic,
} from '../src/index.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A project of `files` (path -> text) in a new temporary directory. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-extends-'));
  dirs.push(dir);
  for (const [p, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), text);
  }
  return dir;
}

async function validate(files: Record<string, string>): Promise<ConfigValidation> {
  const dir = await project(files);
  return validateConfig(join(dir, 'gatehouse.yml'), { displayPath: 'gatehouse.yml' });
}

/** `CODE file:line:col path` of every error. */
function errors(ds: Diagnostic[]): string[] {
  return ds
    .filter((d) => d.severity === 'error')
    .map(
      (d) => `${d.code} ${d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column}` : '-'} ${d.path}`,
    );
}

const WEB = `version: 1
name: web standard
gates:
  lint:
    kind: lint
    run: npx eslint .
    policy: { max_errors: 0, max_warnings: 10 }
  unit:
    kind: unit-test
    run: npm test
    needs: [lint]
    inputs: [src/**]
    policy: { min_coverage: { lines: 80 } }
  sonar:
    kind: sonarqube
    run: sonar-scanner
    mode: blocking
`;

describe('extends: invalid chains', () => {
  const cases: Array<{
    name: string;
    files: Record<string, string>;
    error: string;
    message?: RegExp;
  }> = [
    {
      name: 'a cycle through two presets',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./a.yml]\n',
        'a.yml': 'version: 1\nextends: [./b.yml]\n',
        'b.yml': 'version: 1\nextends: [./a.yml]\n',
      },
      error: 'GH_PRESET_CYCLE b.yml:2:11 extends[0]',
      message:
        /loop: a\.yml -> b\.yml -> a\.yml \(via a\.yml:2:11 extends\[0\], gatehouse\.yml:3:11 extends\[0\]\)$/,
    },
    {
      name: 'a preset extending the config itself',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./a.yml]\n',
        'a.yml': 'version: 1\nextends: [./gatehouse.yml]\n',
      },
      error: 'GH_PRESET_CYCLE a.yml:2:11 extends[0]',
    },
    {
      name: 'a missing preset file',
      files: { 'gatehouse.yml': 'version: 1\nname: shop\nextends:\n  - ./presets/nope.yml\n' },
      error: 'GH_PRESET_NOT_FOUND gatehouse.yml:4:5 extends[0]',
      message: /cannot read preset presets\/nope\.yml: ENOENT/,
    },
    {
      name: 'an npm preset that is not installed',
      files: { 'gatehouse.yml': 'version: 1\nname: shop\nextends: ["@acme/web"]\n' },
      error: 'GH_PRESET_NOT_FOUND gatehouse.yml:3:11 extends[0]',
      message: /npm package `@acme\/web` is not installed/,
    },
    {
      name: 'neither a path nor a package name',
      files: { 'gatehouse.yml': 'version: 1\nname: shop\nextends: ["presets/web.yml"]\n' },
      error: 'GH_PRESET_NOT_FOUND gatehouse.yml:3:11 extends[0]',
      message: /neither a relative path nor an npm package name/,
    },
    {
      name: 'a structural error inside a nested preset',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./presets/web.yml]\n',
        'presets/web.yml': 'version: 1\nextends: [./base.yml]\n',
        'presets/base.yml': 'version: 1\ngates:\n  lint:\n    run: eslint\n    mode: blockin\n',
      },
      error: 'GH_INVALID_MODE presets/base.yml:5:11 gates.lint.mode',
      message: /\(via presets\/web\.yml:2:11 extends\[0\], gatehouse\.yml:3:11 extends\[0\]\)$/,
    },
    {
      name: 'a semantic error written in a preset',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\n',
        'web.yml': 'version: 1\ngates:\n  unit:\n    run: npm test\n    needs: [lnt]\n',
      },
      error: 'GH_UNKNOWN_GATE web.yml:5:13 gates.unit.needs[0]',
      message: /unknown gate `lnt` \(via gatehouse\.yml:3:11 extends\[0\]\)/,
    },
    {
      name: 'a semantic error written in the config about an inherited gate',
      files: {
        'gatehouse.yml':
          'version: 1\nname: shop\nextends: [./web.yml]\ngates:\n  unit:\n    needs+: [e2e]\n',
        'web.yml': 'version: 1\ngates:\n  unit:\n    run: npm test\n',
      },
      error: 'GH_UNKNOWN_GATE gatehouse.yml:6:14 gates.unit.needs[0]',
    },
    {
      name: 'a preset of another version',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\n',
        'web.yml': 'version: 2\ngates:\n  unit: { run: npm test }\n',
      },
      error: 'GH_PRESET_VERSION web.yml:1:1 version',
    },
    {
      name: 'a preset without a version',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\n',
        'web.yml': 'gates:\n  unit: { run: npm test }\n',
      },
      error: 'GH_MISSING_FIELD web.yml:1:1 version',
    },
    {
      name: 'YAML that does not parse, in a preset',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\n',
        'web.yml': 'version: 1\ngates: [\n',
      },
      error: 'GH_YAML_SYNTAX web.yml:',
    },
    {
      name: 'removing a gate no preset has',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\ngates:\n  sonr: null\n',
        'web.yml': WEB,
      },
      error: 'GH_PRESET_UNKNOWN_GATE gatehouse.yml:5:3 gates.sonr',
    },
    {
      name: 'a preset that loads plugins',
      files: {
        'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\n',
        'web.yml': `${WEB}plugins: [gatehouse-plugin-x]\n`,
      },
      error: 'GH_PRESET_PLUGINS web.yml:18:1 plugins',
    },
    {
      name: 'no name anywhere in the chain',
      files: {
        'gatehouse.yml': 'version: 1\nextends: [./web.yml]\n',
        'web.yml': 'version: 1\ngates:\n  unit: { run: npm test }\n',
      },
      error: 'GH_MISSING_FIELD gatehouse.yml:2:1 name',
    },
    {
      name: 'a gate without run in the config and in its preset',
      files: {
        'gatehouse.yml':
          'version: 1\nname: shop\nextends: [./web.yml]\ngates:\n  e2e: { needs: [unit] }\n',
        'web.yml': 'version: 1\ngates:\n  unit: { run: npm test }\n',
      },
      error: 'GH_MISSING_FIELD gatehouse.yml:5:3 gates.e2e.run',
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const v = await validate(c.files);
      expect(v.pipeline).toBeNull();
      const errs = errors(v.diagnostics);
      expect(
        errs.some((e) => e.startsWith(c.error)),
        errs.join('\n'),
      ).toBe(true);
      if (c.message) {
        const d = v.diagnostics.find((x) => errors([x])[0]!.startsWith(c.error))!;
        expect(d.message).toMatch(c.message);
      }
    });
  }

  it('frames an error in a preset with the lines of the preset', async () => {
    const v = await validate({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\n',
      'web.yml': 'version: 1\ngates:\n  unit:\n    run: npm test\n    needs: [lnt]\n',
    });
    const d = v.diagnostics.find((x) => x.code === 'GH_UNKNOWN_GATE')!;
    expect(d.frame).toContain('> 5 |     needs: [lnt]');
  });

  it('reports problems of every preset at once', async () => {
    const v = await validate({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [./a.yml, ./b.yml, ./missing.yml]\n',
      'a.yml': 'version: 1\nimage: 5\n',
      'b.yml': 'version: 1\nwat: 1\n',
    });
    expect(errors(v.diagnostics)).toEqual([
      'GH_WRONG_TYPE a.yml:2:8 image',
      'GH_UNKNOWN_KEY b.yml:2:1 wat',
      'GH_PRESET_NOT_FOUND gatehouse.yml:3:29 extends[2]',
    ]);
  });
});

describe('extends: merge rules', () => {
  it('merges gates by id, each written key replacing the inherited one whole', async () => {
    const v = await validate({
      'gatehouse.yml': [
        'version: 1',
        'name: shop',
        'extends: [./presets/web.yml]',
        'gates:',
        '  lint:',
        '    policy: { max_errors: 3 }',
        '  unit:',
        '    mode: advisory',
        '  e2e:',
        '    run: ./e2e.sh',
        '    needs: [unit]',
        '',
      ].join('\n'),
      'presets/web.yml': WEB,
    });
    expect(errors(v.diagnostics)).toEqual([]);
    const gates = v.resolved!.gates as Record<string, Record<string, unknown>>;
    expect(Object.keys(gates)).toEqual(['lint', 'unit', 'sonar', 'e2e']);
    // `policy` is replaced whole: max_warnings is gone.
    expect(gates.lint).toEqual({ kind: 'lint', run: 'npx eslint .', policy: { max_errors: 3 } });
    expect(gates.unit!.mode).toBe('advisory');
    expect(gates.unit!.run).toBe('npm test');
    expect(v.resolved!.name).toBe('shop');
    expect(v.pipeline!.gates.map((g) => g.id)).toEqual(['lint', 'sonar', 'unit', 'e2e']);
  });

  it('removes a gate written as null, and appends to lists written `<key>+`', async () => {
    const v = await validate({
      'gatehouse.yml': [
        'version: 1',
        'name: shop',
        'extends: [./web.yml]',
        'gates:',
        '  sonar: null',
        '  unit:',
        '    inputs+: [test/**]',
        '    needs: []',
        '',
      ].join('\n'),
      'web.yml': WEB,
    });
    expect(errors(v.diagnostics)).toEqual([]);
    const gates = v.resolved!.gates as Record<string, Record<string, unknown>>;
    expect(Object.keys(gates)).toEqual(['lint', 'unit']);
    expect(gates.unit!.inputs).toEqual(['src/**', 'test/**']);
    expect(gates.unit!.needs).toEqual([]);
  });

  it('replaces a list without `+`, and applies `<key>` before `<key>+`', async () => {
    const v = await validate({
      'gatehouse.yml': [
        'version: 1',
        'extends: [./web.yml]',
        'gates:',
        '  unit:',
        '    inputs+: [c]',
        '    inputs: [b]',
        '',
      ].join('\n'),
      'web.yml': WEB,
    });
    const gates = v.resolved!.gates as Record<string, Record<string, unknown>>;
    expect(gates.unit!.inputs).toEqual(['b', 'c']);
  });

  it('applies presets in order (a later one wins) and nested presets before their preset', async () => {
    const v = await validate({
      'gatehouse.yml': 'version: 1\nextends: [./a.yml, ./b.yml]\n',
      'a.yml': 'version: 1\nname: a\nextends: [./base.yml]\nimage: node:20.1-slim\n',
      'base.yml':
        'version: 1\nname: base\nimage: node:18.1-slim\nworkdir: /srv\ngates:\n  unit: { run: npm test, timeout: 5m }\n',
      'b.yml': 'version: 1\nname: b\ngates:\n  unit: { timeout: 7m }\n',
    });
    expect(errors(v.diagnostics)).toEqual([]);
    expect(v.resolved).toMatchObject({
      name: 'b',
      image: 'node:20.1-slim',
      workdir: '/srv',
      gates: { unit: { run: 'npm test', timeout: '7m' } },
    });
    expect(v.pipeline!.presets!.map((p) => p.name)).toEqual(['a.yml', 'base.yml', 'b.yml']);
  });

  it("resolves each preset with its own chain: a preset cannot remove a sibling's gate", async () => {
    const v = await validate({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [./a.yml, ./b.yml]\n',
      'a.yml': 'version: 1\ngates:\n  lint: { run: eslint, inputs: [src/**] }\n',
      'b.yml': 'version: 1\ngates:\n  lint: null\n',
    });
    expect(errors(v.diagnostics)).toEqual(['GH_PRESET_UNKNOWN_GATE b.yml:3:3 gates.lint']);
    const w = await validate({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [./a.yml, ./b.yml]\n',
      'a.yml': 'version: 1\ngates:\n  lint: { run: eslint, inputs: [src/**] }\n',
      'b.yml': 'version: 1\ngates:\n  lint:\n    inputs+: [lib/**]\n',
    });
    expect((w.resolved!.gates as Record<string, { inputs: string[] }>).lint!.inputs).toEqual([
      'lib/**',
    ]);
  });

  it('merges setup and release key by key and targets by name', async () => {
    const v = await validate({
      'gatehouse.yml': [
        'version: 1',
        'name: shop',
        'extends: [./web.yml]',
        'setup: { run: pnpm install }',
        'release: { expose: [8080] }',
        'targets: { github: { mode: docker } }',
        '',
      ].join('\n'),
      'web.yml': [
        'version: 1',
        'setup: { run: npm ci, inputs: [package.json] }',
        'gates:',
        '  build: { kind: build, run: npm run build, outputs: [dist/**] }',
        'release: { from: build, copy: [dist], cmd: [node, dist/server.js] }',
        'targets: { github: {}, dockerfile: {} }',
        '',
      ].join('\n'),
    });
    expect(errors(v.diagnostics)).toEqual([]);
    expect(v.resolved!.setup).toEqual({ run: 'pnpm install', inputs: ['package.json'] });
    expect(v.resolved!.release).toEqual({
      from: 'build',
      copy: ['dist'],
      cmd: ['node', 'dist/server.js'],
      expose: [8080],
    });
    expect(v.resolved!.targets).toEqual({ github: { mode: 'docker' }, dockerfile: {} });
  });

  it('keeps a config without extends exactly as before (null gate, `+` keys refused)', async () => {
    const v = await validate({
      'gatehouse.yml':
        'version: 1\nname: shop\ngates:\n  unit:\n    run: x\n    needs+: []\n  e2e:\n',
    });
    expect(errors(v.diagnostics)).toEqual([
      'GH_UNKNOWN_KEY gatehouse.yml:6:5 gates.unit["needs+"]',
      'GH_EMPTY_VALUE gatehouse.yml:7:3 gates.e2e',
    ]);
    expect(v.pipeline?.presets).toBeUndefined();
  });
});

/** Writes the files of an npm package, packs them as `npm pack` does and unpacks the tarball into node_modules. */
async function installPacked(
  dir: string,
  name: string,
  files: Record<string, string>,
): Promise<void> {
  const src = await mkdtemp(join(tmpdir(), 'gatehouse-preset-pkg-'));
  dirs.push(src);
  for (const [p, text] of Object.entries(files)) {
    await mkdir(dirname(join(src, 'package', p)), { recursive: true });
    await writeFile(join(src, 'package', p), text);
  }
  const tgz = join(src, 'preset.tgz');
  execFileSync('tar', ['-czf', tgz, '-C', src, 'package']);
  const dest = join(dir, 'node_modules', name);
  await mkdir(dest, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1']);
}

describe('extends: npm presets', () => {
  it('reads the file named by `gatehousePreset`, resolved from the config directory upwards', async () => {
    const dir = await project({
      'apps/shop/gatehouse.yml':
        'version: 1\nname: shop\nextends: ["@acme/gatehouse-preset-web"]\ngates:\n  sonar: null\n',
    });
    await installPacked(dir, '@acme/gatehouse-preset-web', {
      'package.json': JSON.stringify({
        name: '@acme/gatehouse-preset-web',
        version: '2.1.0',
        gatehousePreset: 'presets/web.yml',
      }),
      'presets/web.yml': WEB,
    });
    const v = await validateConfig(join(dir, 'apps/shop/gatehouse.yml'));
    expect(errors(v.diagnostics)).toEqual([]);
    expect(v.pipeline!.gates.map((g) => g.id)).toEqual(['lint', 'unit']);
    const [p] = v.pipeline!.presets!;
    expect(p).toMatchObject({
      name: '@acme/gatehouse-preset-web',
      version: '2.1.0',
      sha256: sha256(Buffer.from(WEB)),
    });
    expect(p!.file.endsWith(join('@acme', 'gatehouse-preset-web', 'presets', 'web.yml'))).toBe(
      true,
    );
  });

  it('falls back to gatehouse.yml at the package root, and locates errors there', async () => {
    const dir = await project({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [gatehouse-preset-strict]\n',
    });
    await installPacked(dir, 'gatehouse-preset-strict', {
      'package.json': JSON.stringify({ name: 'gatehouse-preset-strict', version: '0.3.0' }),
      'gatehouse.yml': 'version: 1\ngates:\n  lint: { run: eslint, kind: lnt }\n',
    });
    const v = await validateConfig(join(dir, 'gatehouse.yml'), { displayPath: 'gatehouse.yml' });
    expect(errors(v.diagnostics)).toEqual([
      'GH_UNKNOWN_KIND node_modules/gatehouse-preset-strict/gatehouse.yml:3:30 gates.lint.kind',
    ]);
    expect(v.diagnostics[0]!.message).toContain('(via gatehouse.yml:3:11 extends[0])');
  });

  it('refuses a preset file outside the package', async () => {
    const dir = await project({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [evil-preset]\n',
      'secret.yml': WEB,
    });
    await installPacked(dir, 'evil-preset', {
      'package.json': JSON.stringify({ name: 'evil-preset', gatehousePreset: '../../secret.yml' }),
    });
    const v = await validateConfig(join(dir, 'gatehouse.yml'), { displayPath: 'gatehouse.yml' });
    expect(errors(v.diagnostics)).toEqual(['GH_PRESET_NOT_FOUND gatehouse.yml:3:11 extends[0]']);
  });
});

describe('extends: a package preset linking out of its package', () => {
  it('is refused', async () => {
    const dir = await project({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [linked-preset]\n',
      'secret.yml': WEB,
    });
    await installPacked(dir, 'linked-preset', {
      'package.json': JSON.stringify({ name: 'linked-preset' }),
    });
    await symlink(
      join(dir, 'secret.yml'),
      join(dir, 'node_modules', 'linked-preset', 'gatehouse.yml'),
    );
    const v = await validateConfig(join(dir, 'gatehouse.yml'), { displayPath: 'gatehouse.yml' });
    expect(errors(v.diagnostics)).toEqual(['GH_PRESET_NOT_FOUND gatehouse.yml:3:11 extends[0]']);
    expect(v.diagnostics[0]!.message).toContain('links outside the package');
  });
});

describe('extends: the config cache', () => {
  it('sees an edited preset at once, and reuses the entry while nothing changed', async () => {
    const dir = await project({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\n',
      'web.yml': WEB,
    });
    const keyDir = await mkdtemp(join(tmpdir(), 'gatehouse-extends-key-'));
    dirs.push(keyDir);
    const cache = { dir: join(dir, '.gatehouse', 'cache', 'config'), version: '1.0.0', keyDir };
    const open = () => loadProject(join(dir, 'gatehouse.yml'), [], { cache });
    const first = await open();
    expect(first.fromCache).toBeUndefined();
    const second = await open();
    expect(second.fromCache).toBe(true);
    expect(second.pipeline!.gates.find((g) => g.id === 'lint')!.policy.max_errors).toBe(0);

    await writeFile(join(dir, 'web.yml'), WEB.replace('max_errors: 0', 'max_errors: 5'));
    const third = await open();
    expect(third.fromCache).toBeUndefined();
    expect(third.pipeline!.gates.find((g) => g.id === 'lint')!.policy.max_errors).toBe(5);
    expect(third.pipeline!.presets![0]!.sha256).toBe(sha256(await readFile(join(dir, 'web.yml'))));
    expect((await open()).fromCache).toBe(true);
  });

  it('sees a new workspace package when a preset declares the gates of packages', async () => {
    const pkg = (name: string) => JSON.stringify({ name, scripts: { lint: 'node -e 0' } });
    const dir = await project({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [./mono.yml]\n',
      'mono.yml':
        'version: 1\nname: mono\ngates:\n  lint: { kind: lint, packages: { script: lint } }\n',
      'package.json': JSON.stringify({ name: 'root', workspaces: ['packages/*'] }),
      'packages/a/package.json': pkg('a'),
    });
    const keyDir = await mkdtemp(join(tmpdir(), 'gatehouse-extends-key-'));
    dirs.push(keyDir);
    const cache = { dir: join(dir, '.gatehouse', 'cache', 'config'), version: '1.0.0', keyDir };
    const ids = async () => {
      const p = await loadProject(join(dir, 'gatehouse.yml'), [], { cache });
      expect(p.diagnostics).toEqual([]);
      return p.pipeline!.gates.map((g) => g.id).sort();
    };
    expect(await ids()).toEqual(['a-lint']);
    await mkdir(join(dir, 'packages/b'));
    await writeFile(join(dir, 'packages/b/package.json'), pkg('b'));
    expect(await ids()).toEqual(['a-lint', 'b-lint']);
  });
});

describe('presetDrift', () => {
  it('lists gates removed and added, thresholds loosened and tightened, and changed keys', async () => {
    const v = await validate({
      'gatehouse.yml': [
        'version: 1',
        'name: shop',
        'extends: [./web.yml]',
        'gates:',
        '  sonar: null',
        '  lint:',
        '    mode: advisory',
        '    policy: { max_errors: 4, max_warnings: 2 }',
        '  unit:',
        '    run: npm test -- --bail',
        '    policy: { min_coverage: { lines: 70, branches: 50 } }',
        '  e2e: { run: ./e2e.sh }',
        '',
      ].join('\n'),
      'web.yml': WEB,
    });
    expect(errors(v.diagnostics)).toEqual([]);
    expect(presetDrift(v.presetBase!, v.resolved!)).toEqual([
      { gate: 'lint', change: 'loosened', key: 'mode', preset: 'blocking', config: 'advisory' },
      { gate: 'lint', change: 'loosened', key: 'policy.max_errors', preset: 0, config: 4 },
      { gate: 'lint', change: 'tightened', key: 'policy.max_warnings', preset: 10, config: 2 },
      {
        gate: 'unit',
        change: 'tightened',
        key: 'policy.min_coverage.branches',
        preset: null,
        config: 50,
      },
      {
        gate: 'unit',
        change: 'loosened',
        key: 'policy.min_coverage.lines',
        preset: 80,
        config: 70,
      },
      {
        gate: 'unit',
        change: 'changed',
        key: 'run',
        preset: 'npm test',
        config: 'npm test -- --bail',
      },
      { gate: 'sonar', change: 'removed' },
      { gate: 'e2e', change: 'added' },
    ]);
  });

  it('finds nothing when the config only names its presets', async () => {
    const v = await validate({
      'gatehouse.yml': 'version: 1\nname: shop\nextends: [./web.yml]\n',
      'web.yml': WEB,
    });
    expect(presetDrift(v.presetBase!, v.resolved!)).toEqual([]);
  });
});

describe('the storefront example as a preset', () => {
  it('resolves a two-line config extending it to the same pipeline as the example', async () => {
    const example = new URL('../../../examples/storefront/gatehouse.yml', import.meta.url);
    const text = await readFile(example, 'utf8');
    const dir = await project({
      'gatehouse.yml': 'version: 1\nextends: [./storefront.yml]\n',
      'storefront.yml': text,
    });
    const own = await validateConfig(fileURLToPath(example));
    const viaPreset = await validateConfig(join(dir, 'gatehouse.yml'));
    expect(errors(viaPreset.diagnostics)).toEqual([]);
    const strip = (p: NonNullable<ConfigValidation['pipeline']>) => {
      const { configPath: _c, rootDir: _r, configSha256: _s, presets: _p, ...rest } = p;
      return rest;
    };
    expect(strip(viaPreset.pipeline!)).toEqual(strip(own.pipeline!));
    expect(viaPreset.pipeline!.presets).toHaveLength(1);
  });
});
