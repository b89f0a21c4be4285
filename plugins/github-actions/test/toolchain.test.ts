/**
 * The runner gets the project's own toolchain: Node from the config's image or the
 * project's version file, and its package manager (pnpm installed before setup-node,
 * yarn 2+ through corepack). Each workflow is judged by actionlint and GitHub's parser.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { emitTarget, gate, pipeline } from '@gatehouse-ci/test-utils';
import plugin, { DEFAULT_ACTIONS } from '../src/index.js';
import { judgeWorkflows } from './oracle.js';

const ctx = { gatehouseVersion: '0.1.0', configFile: 'gatehouse.yml' };
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Step {
  name: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}

async function emitFor(
  files: Record<string, string>,
  image: string,
  options: Record<string, unknown> = {},
  setupRun: string | null = null,
): Promise<{ text: string; steps: Step[] }> {
  const rootDir = await mkdtemp(join(tmpdir(), 'gatehouse-gh-toolchain-'));
  dirs.push(rootDir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(rootDir, name), text);
  const p = pipeline([gate('lint')], {
    rootDir,
    configPath: join(rootDir, 'gatehouse.yml'),
    image,
    setup:
      setupRun === null
        ? null
        : { run: setupRun, inputs: ['package.json'], env: {}, secrets: [], timeoutMs: 600_000 },
  });
  const [file] = emitTarget(plugin.targets.github, p, options, ctx);
  const wf = parse(file!.contents) as { jobs: Record<string, { steps: Step[] }> };
  return { text: file!.contents, steps: wf.jobs['gate-lint']!.steps };
}

const names = (steps: Step[]) => steps.slice(0, 3).map((s) => s.name);

describe('toolchain of the runner', () => {
  it('pnpm project on a node:24 image: pnpm/action-setup (pinned) before setup-node, Node 24, pnpm cache', async () => {
    const { text, steps } = await emitFor(
      {
        'package.json': '{"packageManager":"pnpm@10.12.1"}',
        'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
      },
      'node:24-bookworm-slim',
    );
    expect(names(steps)).toEqual(['Check out', 'Set up pnpm', 'Set up Node']);
    expect(steps[1]!.uses).toBe(`pnpm/action-setup@${DEFAULT_ACTIONS.setup_pnpm.sha}`);
    // packageManager names the version: the action reads it there.
    expect(steps[1]!.with).toBeUndefined();
    expect(steps[2]!.with).toEqual({ 'node-version': '24', cache: 'pnpm' });
    const without = await emitFor({ 'package.json': '{}', 'pnpm-lock.yaml': '' }, 'node:22');
    expect(without.steps[1]!.with).toEqual({ version: '10' });

    const yarn = await emitFor(
      {
        'package.json': '{"packageManager":"yarn@4.5.0"}',
        'yarn.lock': '',
        '.yarnrc.yml': 'nodeLinker: node-modules\n',
        '.nvmrc': '22\n',
      },
      'acme/builder:3',
    );
    expect(names(yarn.steps)).toEqual(['Check out', 'Enable corepack (yarn 2+)', 'Set up Node']);
    expect(yarn.steps[1]!.run).toBe('corepack enable');
    expect(yarn.steps[2]!.with).toEqual({ 'node-version-file': '.nvmrc', cache: 'yarn' });

    const classic = await emitFor(
      { 'package.json': '{"engines":{"node":">=20.19"}}', 'yarn.lock': '' },
      'acme/builder:3',
    );
    // yarn 1 is on GitHub's runners already: no extra step.
    expect(names(classic.steps).slice(0, 2)).toEqual(['Check out', 'Set up Node']);
    expect(classic.steps[1]!.with).toEqual({ 'node-version-file': 'package.json', cache: 'yarn' });

    const bare = await emitFor({}, 'acme/builder:3');
    expect(bare.steps[1]!.with).toEqual({ 'node-version': 'lts/*', cache: 'npm' });

    // Explicit options win over what the project says.
    const explicit = await emitFor({ 'pnpm-lock.yaml': '' }, 'node:24', {
      node_version: '20',
      cache: false,
    });
    expect(explicit.steps[2]!.with).toEqual({ 'node-version': '20' });

    const verdicts = await judgeWorkflows(
      [text, without.text, yarn.text, classic.text, bare.text, explicit.text].map((content, i) => ({
        path: `.github/workflows/t${i}.yml`,
        content,
      })),
    );
    for (const v of verdicts) {
      expect(v.actionlint, v.path).toEqual([]);
      expect(v.parserErrors, v.path).toEqual([]);
    }
  });

  it('with lockfiles of several managers, caches for the one the setup runs', async () => {
    // A stale yarn.lock beside package-lock.json, no packageManager: `npm ci` installs.
    const npm = await emitFor(
      { 'package.json': '{}', 'yarn.lock': '', 'package-lock.json': '{}' },
      'node:22',
      {},
      'npm ci',
    );
    expect(names(npm.steps).slice(0, 2)).toEqual(['Check out', 'Set up Node']);
    expect(npm.steps[1]!.with).toEqual({ 'node-version': '22', cache: 'npm' });
    // A pnpm-lock.yaml beside package-lock.json: no pnpm to set up for `npm ci`.
    const noPnpm = await emitFor(
      { 'package.json': '{}', 'pnpm-lock.yaml': '', 'package-lock.json': '{}' },
      'node:22',
      {},
      'npm ci',
    );
    expect(names(noPnpm.steps).slice(0, 2)).toEqual(['Check out', 'Set up Node']);
    expect(noPnpm.steps[1]!.with).toEqual({ 'node-version': '22', cache: 'npm' });
    // yarn 2+ beside a pnpm-lock.yaml, and the setup runs yarn: corepack, not pnpm, and yarn's cache.
    const yarn = await emitFor(
      {
        'package.json': '{}',
        'pnpm-lock.yaml': '',
        'yarn.lock': '',
        '.yarnrc.yml': 'nodeLinker: node-modules\n',
      },
      'node:22',
      {},
      'yarn install --immutable',
    );
    expect(names(yarn.steps)).toEqual(['Check out', 'Enable corepack (yarn 2+)', 'Set up Node']);
    expect(yarn.steps[2]!.with).toEqual({ 'node-version': '22', cache: 'yarn' });

    const verdicts = await judgeWorkflows(
      [npm.text, noPnpm.text, yarn.text].map((content, i) => ({
        path: `.github/workflows/s${i}.yml`,
        content,
      })),
    );
    for (const v of verdicts) {
      expect(v.actionlint, v.path).toEqual([]);
      expect(v.parserErrors, v.path).toEqual([]);
    }
  });
});
