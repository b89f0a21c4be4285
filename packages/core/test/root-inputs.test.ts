import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { findWorkspaceRoot, validateBytes, type Diagnostic } from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'gh-root-inputs-')));
  dirs.push(d);
  return d;
}

/** A pnpm workspace with `packages/web`, its root marked by `marker`. */
function workspace(marker: 'pnpm' | 'npm' | 'git'): string {
  const root = tmp();
  if (marker === 'pnpm')
    writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: [packages/*]\n');
  if (marker === 'npm')
    writeFileSync(join(root, 'package.json'), JSON.stringify({ workspaces: ['packages/*'] }));
  if (marker === 'git') mkdirSync(join(root, '.git'));
  mkdirSync(join(root, 'packages/web'), { recursive: true });
  writeFileSync(join(root, 'packages/web/package.json'), '{"name":"web"}');
  return root;
}

const config = (inputs: string[], extra = '') =>
  `version: 1\nname: web\ngates:\n  lint: { run: x, inputs: ${JSON.stringify(inputs)} }\n${extra}`;

function validate(dir: string, text: string) {
  return validateBytes(Buffer.from(text), join(dir, 'gatehouse.yml'), {
    displayPath: 'gatehouse.yml',
  });
}

const summary = (ds: Diagnostic[]) =>
  ds.map((d) => `${d.code}@${d.loc ? `${d.loc.line}:${d.loc.column}` : '-'} ${d.path}`);

describe('inputs rooted at the workspace root (//)', () => {
  it.each(['pnpm', 'npm', 'git'] as const)(
    'a package config names files of the root found by %s',
    (marker) => {
      const root = workspace(marker);
      const v = validate(
        join(root, 'packages/web'),
        config(
          ['src/**', '//tsconfig.base.json', '//configs/**', '!//configs/legacy/**', '//./x/'],
          'setup: { run: pnpm install, inputs: ["//pnpm-lock.yaml"] }\n',
        ),
      );
      expect(summary(v.diagnostics)).toEqual([]);
      expect(v.pipeline!.workspaceRoot).toBe(root);
      expect(v.pipeline!.gates[0]!.inputs).toEqual([
        'src/**',
        '//tsconfig.base.json',
        '//configs/**',
        '!//configs/legacy/**',
        '//x/',
      ]);
      expect(v.pipeline!.setup!.inputs).toEqual(['//pnpm-lock.yaml']);
    },
  );

  it('the nearest workspace file wins, and none beyond the top of the git work tree counts', () => {
    const outer = workspace('pnpm');
    const repo = join(outer, 'packages/web');
    mkdirSync(join(repo, '.git'));
    mkdirSync(join(repo, 'app'));
    // The repository has no workspace file: its git top is the root, not the outer workspace.
    expect(findWorkspaceRoot(join(repo, 'app'))).toEqual({ dir: repo, by: 'git' });
    writeFileSync(join(repo, 'pnpm-workspace.yaml'), 'packages: [app]\n');
    expect(findWorkspaceRoot(join(repo, 'app'))).toEqual({ dir: repo, by: 'pnpm-workspace.yaml' });
    expect(findWorkspaceRoot(join(outer, 'packages'))).toEqual({
      dir: outer,
      by: 'pnpm-workspace.yaml',
    });
  });

  it('a package.json without workspaces does not make a root', () => {
    const root = workspace('git');
    expect(findWorkspaceRoot(join(root, 'packages/web'))).toEqual({ dir: root, by: 'git' });
  });

  it('a config at the workspace root reads `//x` as `x`, also in a gate of packages', () => {
    const root = workspace('pnpm');
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({ name: 'root', packageManager: 'pnpm@10.34.8' }),
    );
    const v = validate(
      root,
      'version: 1\nname: shop\ngates:\n  lint:\n    run: x\n    packages: {}\n    inputs: [src/**, //tsconfig.base.json, "!//a/../b"]\n',
    );
    expect(summary(v.diagnostics)).toEqual([]);
    expect(v.pipeline!.workspaceRoot).toBeUndefined();
    expect(v.pipeline!.gates[0]!.inputs).toEqual([
      'packages/web/src/**',
      'tsconfig.base.json',
      '!b',
    ]);
  });

  it('outside every workspace and git work tree, `//` is a located error with a hint', () => {
    const dir = tmp();
    const v = validate(dir, config(['src/**', '//tsconfig.base.json']));
    expect(summary(v.diagnostics)).toEqual(['GH_NO_WORKSPACE_ROOT@4:37 gates.lint.inputs[1]']);
    expect(v.diagnostics[0]!.message).toContain('//tsconfig.base.json');
    expect(v.diagnostics[0]!.hint).toMatch(/pnpm-workspace\.yaml.*git work tree/);
    expect(v.pipeline).toBeNull();
  });

  it.each([
    ['//../x', 'GH_PATH_ESCAPES_ROOT'],
    ['//a/../../x', 'GH_PATH_ESCAPES_ROOT'],
    ['!//../../etc/**', 'GH_PATH_ESCAPES_ROOT'],
    ['///etc/passwd', 'GH_PATH_ESCAPES_ROOT'],
    ['//\\etc', 'GH_PATH_ESCAPES_ROOT'],
    ['//~/x', 'GH_PATH_ESCAPES_ROOT'],
    ['//C:/x', 'GH_PATH_ESCAPES_ROOT'],
    ['//..\\x', 'GH_PATH_ESCAPES_ROOT'],
    ['//', 'GH_EMPTY_VALUE'],
    ['//.', 'GH_EMPTY_VALUE'],
  ])('`%s` is refused (%s), located', (glob, code) => {
    const root = workspace('pnpm');
    const v = validate(join(root, 'packages/web'), config([glob]));
    expect(summary(v.diagnostics)).toEqual([`${code}@4:28 gates.lint.inputs[0]`]);
  });

  it.each([
    [
      'outputs',
      'gates:\n  lint: { run: x, outputs: ["//dist/**"] }\n',
      'gates.lint.outputs[0]',
      'a gate writes its outputs inside that directory',
    ],
    [
      'release.copy',
      'gates:\n  b: { run: x }\nrelease: { from: b, copy: ["//dist"], cmd: [node] }\n',
      'release.copy[0]',
      'only `inputs` (and the `outputs` of a config at that root) may',
    ],
  ])('`//` in %s of a package config is refused', (_what, body, path, why) => {
    const root = workspace('pnpm');
    const v = validate(join(root, 'packages/web'), `version: 1\nname: web\n${body}`);
    expect(v.diagnostics.map((d) => [d.code, d.path])).toEqual([['GH_PATH_ESCAPES_ROOT', path]]);
    expect(v.diagnostics[0]!.message).toContain(why);
  });

  it('a gate of packages in a config at the root writes `//` outputs at the root', () => {
    const root = workspace('git');
    mkdirSync(join(root, 'packages/ui'));
    writeFileSync(join(root, 'packages/ui/package.json'), '{"name":"ui"}');
    writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: [packages/*]\n');
    const v = validate(
      root,
      [
        'version: 1',
        'name: shop',
        'gates:',
        '  build:',
        '    run: x',
        '    packages: { overrides: { web: { outputs: [//dist/packages/web, "!//dist/packages/web/tmp"] } } }',
        '    outputs: [dist/**]',
        '',
      ].join('\n'),
    );
    expect(summary(v.diagnostics)).toEqual([]);
    expect(v.pipeline!.workspaceRoot).toBeUndefined();
    const byId = new Map(v.pipeline!.gates.map((g) => [g.id, g]));
    expect(byId.get('web-build')!.outputs).toEqual(['dist/packages/web', '!dist/packages/web/tmp']);
    expect(byId.get('ui-build')!.outputs).toEqual(['packages/ui/dist/**']);
    // What a package's build writes at the root is no input of any gate.
    expect(byId.get('ui-build')!.inputs).toContain('!dist/packages/web');
  });

  it.each([
    ['//../x', 'GH_PATH_ESCAPES_ROOT'],
    ['//', 'GH_EMPTY_VALUE'],
  ])('`%s` in outputs at the root is refused (%s)', (glob, code) => {
    const root = workspace('pnpm');
    const v = validate(
      root,
      `version: 1\nname: shop\ngates:\n  b: { run: x, outputs: ["${glob}"] }\n`,
    );
    expect(v.diagnostics.map((d) => [d.code, d.path])).toEqual([[code, 'gates.b.outputs[0]']]);
  });

  it('property: every accepted `//` input stays inside the workspace root', () => {
    const root = workspace('pnpm');
    const dir = join(root, 'packages/web');
    const part = fc.constantFrom('..', '.', 'a', '*', '**', '~', 'C:', '\\', '', 'b\\..', '..\\..');
    const body = fc.array(part, { maxLength: 6 }).map((xs) => xs.join('/'));
    fc.assert(
      fc.property(fc.boolean(), body, (neg, b) => {
        const glob = `${neg ? '!' : ''}//${b}`;
        const v = validate(dir, config([glob]));
        if (v.pipeline === null) return;
        const resolved = v.pipeline.gates[0]!.inputs[0]!.replace(/^!/, '');
        expect(resolved.startsWith('//')).toBe(true);
        const rel = resolved.slice(2);
        const abs = posix.normalize(posix.join('/ws', b.replace(/\\/g, '/')));
        expect(abs === '/ws' || abs.startsWith('/ws/')).toBe(true);
        expect(rel.split('/')).not.toContain('..');
        expect(rel.startsWith('/')).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});
