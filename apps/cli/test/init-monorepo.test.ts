/**
 * `init` in a workspace: per-package gates whose graph is turbo's own (read from the real
 * turbo's dry run), that pass on the untouched repository and fail when one package's own
 * script fails.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig, withNeeds } from '@gatehouse-ci/core';
import { makeWorkspace, type WorkspacePackageSpec } from '@gatehouse-ci/test-utils';
import { runCli } from './helpers.js';

const here = dirname(new URL(import.meta.url).pathname);
const TURBO = join(here, '../../../node_modules/.bin/turbo');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const PACKAGES: WorkspacePackageSpec[] = [
  { dir: 'packages/utils', name: '@acme/utils' },
  { dir: 'packages/core', name: '@acme/core', deps: ['@acme/utils'] },
  {
    dir: 'packages/ui',
    name: '@acme/ui',
    deps: ['@acme/utils'],
    scripts: { build: 'node -e 0', lint: 'node -e 0' },
  },
  { dir: 'apps/web', name: 'web', deps: ['@acme/core', '@acme/ui'] },
];

function workspace(turbo: boolean, linkTurbo = turbo): string {
  const root = mkdtempSync(join(tmpdir(), 'gh-init-mono-'));
  dirs.push(root);
  makeWorkspace(root, PACKAGES, {
    globs: ['packages/*', 'apps/*'],
    files: turbo
      ? {
          'turbo.json': JSON.stringify({
            tasks: {
              build: { dependsOn: ['^build'], outputs: ['dist/**'] },
              lint: { dependsOn: ['^build'] },
              test: { dependsOn: ['build'] },
            },
          }),
        }
      : {},
  });
  execFileSync('pnpm', ['install', '--offline', '--silent'], { cwd: root, stdio: 'pipe' });
  if (linkTurbo) {
    // The repository's turbo, as `pnpm add -D turbo` would link it.
    mkdirSync(join(root, 'node_modules/.bin'), { recursive: true });
    writeFileSync(join(root, 'node_modules/.bin/turbo'), `#!/bin/sh\nexec ${TURBO} "$@"\n`);
    chmodSync(join(root, 'node_modules/.bin/turbo'), 0o755);
  }
  writeFileSync(join(root, '.gitignore'), 'node_modules/\n.gatehouse/\n.turbo/\ndist/\n');
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: root });
  return root;
}

async function initAndLoad(root: string) {
  const r = await runCli(['init'], root, { ...process.env });
  expect(r.code, r.err).toBe(0);
  const v = await validateConfig(join(root, 'gatehouse.yml'));
  expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { out: r.out, pipeline: v.pipeline! };
}

/** Every task turbo would run before each task, transitively, as gate ids (`core-build`). */
function turboClosure(root: string): Map<string, string[]> {
  const out = execFileSync(TURBO, ['run', 'build', 'lint', 'test', '--dry=json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  const tasks = (
    JSON.parse(out.slice(out.indexOf('{'))) as {
      tasks: Array<{ taskId: string; command: string; dependencies: string[] }>;
    }
  ).tasks.filter((t) => t.command !== '<NONEXISTENT>' && !t.taskId.startsWith('//'));
  const real = new Set(tasks.map((t) => t.taskId));
  const id = (taskId: string) => {
    const [pkg, task] = [
      taskId.slice(0, taskId.lastIndexOf('#')),
      taskId.slice(taskId.lastIndexOf('#') + 1),
    ];
    return `${pkg.replace(/^@acme\//, '')}-${task}`;
  };
  const nodes = tasks.map((t) => ({
    id: id(t.taskId),
    needs: t.dependencies.filter((d) => real.has(d)).map(id),
  }));
  return new Map(
    nodes.map((n) => [n.id, [...withNeeds(nodes, [n.id])].filter((x) => x !== n.id).sort()]),
  );
}

describe('init in a workspace', () => {
  it("writes gates of packages whose graph is turbo's task graph", async () => {
    const root = workspace(true);
    const { out, pipeline } = await initAndLoad(root);
    expect(out).toContain('dependencies from turbo run build lint test --dry=json');
    const ours = new Map(
      pipeline.gates.map((g) => [
        g.id,
        [...withNeeds(pipeline.gates, [g.id])].filter((x) => x !== g.id).sort(),
      ]),
    );
    const theirs = turboClosure(root);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [id, closure] of theirs) expect(ours.get(id), id).toEqual(closure);
  }, 120_000);

  it("without turbo installed yet, takes turbo.json's dependsOn: the same graph as turbo's", async () => {
    const root = workspace(true, false);
    const { out, pipeline } = await initAndLoad(root);
    expect(out).toContain("dependencies: turbo.json's dependsOn");
    const ours = new Map(
      pipeline.gates.map((g) => [
        g.id,
        [...withNeeds(pipeline.gates, [g.id])].filter((x) => x !== g.id).sort(),
      ]),
    );
    // A package's test needs its own build (`dependsOn: ['build']`), not only its dependencies'.
    expect(ours.get('core-test')).toContain('core-build');
    const theirs = turboClosure(root);
    expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [id, closure] of theirs) expect(ours.get(id), id).toEqual(closure);
  }, 120_000);

  it("without turbo, a package's test needs its own build too; other gates only their dependencies'", async () => {
    // The project builds every package before any test (`npm run build --workspaces && npm test
    // --workspaces`), and a test may import its own `dist/`: with only `^build` it would race the
    // package's build on a clean tree, or read an earlier build's output on a warm one.
    const root = workspace(false);
    const { pipeline } = await initAndLoad(root);
    expect(readFileSync(join(root, 'gatehouse.yml'), 'utf8')).toContain(
      "needs build: the package's own build",
    );
    const needs = (id: string) => pipeline.gates.find((g) => g.id === id)?.needs;
    expect(needs('utils-test')).toEqual(['utils-build']);
    expect(needs('core-test')).toEqual(['core-build', 'utils-build']);
    expect(needs('core-lint')).toEqual(['utils-build']);
    expect(needs('core-build')).toEqual(['utils-build']);
  }, 120_000);

  it('passes on the untouched workspace and fails when one package script fails', async () => {
    const root = workspace(false);
    const { pipeline } = await initAndLoad(root);
    expect(pipeline.gates.map((g) => g.id).sort()).toEqual([
      'core-build',
      'core-lint',
      'core-test',
      'ui-build',
      'ui-lint',
      'utils-build',
      'utils-lint',
      'utils-test',
      'web-build',
      'web-lint',
      'web-test',
    ]);
    const ok = await runCli(['run', '--no-cache'], root, { ...process.env });
    expect(ok.code, ok.out + ok.err).toBe(0);
    // One package's own test script fails; nothing else changes.
    const pkgPath = join(root, 'packages/core/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { scripts: Record<string, string> };
    pkg.scripts.test = 'exit 1';
    writeFileSync(pkgPath, JSON.stringify(pkg, null, 2));
    const bad = await runCli(['run', '--json'], root, { ...process.env });
    expect(bad.code).toBe(1);
    const failed = bad.out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; id?: string; result?: { status: string } })
      .filter((e) => e.type === 'gate-end' && e.result?.status === 'failed')
      .map((e) => e.id);
    expect(failed).toEqual(['core-test']);
  }, 180_000);
});
