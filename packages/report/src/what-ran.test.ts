import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@gatehouse-ci/core';
import { gate, pipeline } from '@gatehouse-ci/test-utils';
import { buildReport, collectEnvironment, projectRelativeLog } from './build.js';
import { evaluateGate, skippedResult } from './evaluate.js';
import { parseAxe } from './evidence/a11y.js';
import { parseSarif } from './evidence/sarif.js';
import { parseSonar } from './evidence/sonarqube.js';
import { mergeReports } from './merge.js';
import { outcome } from './outcome.js';
import { renderHtml } from './render/html.js';
import { validateReportSchema } from './schema.js';
import { redactionOf } from './shard.js';
import { tempDir } from '../test/helpers.js';

const SECRET = 'canary-5ecr3t-value';
const redact = (t: string): string => t.split(SECRET).join('***');

describe('what ran: the command, its variables and tools', () => {
  it('records the command redacted, the names of its variables and secrets, needs and tools', async () => {
    const out = await tempDir();
    await writeFile(
      join(out, 'axe.json'),
      JSON.stringify({
        url: 'http://localhost/',
        testEngine: { name: 'axe-core', version: '4.10.2' },
        violations: [],
      }),
    );
    const g = gate('a11y', {
      kind: 'a11y-test',
      run: `curl -H "token: ${SECRET}" http://localhost/ && node scan.mjs`,
      needs: ['build'],
      env: { NODE_ENV: 'test', BASE_URL: 'http://localhost/' },
      secrets: ['SCAN_TOKEN'],
      tools: { chromium: '131.0' },
      evidence: [{ format: 'axe', path: 'axe.json' }],
      policy: {},
    });
    const r = await evaluateGate(g, outcome(g, { outDir: out }), { rootDir: out, redact });
    expect(r.command).toEqual({
      text: 'curl -H "token: ***" http://localhost/ && node scan.mjs',
      redacted: true,
      cwd: '.',
      env: ['BASE_URL', 'NODE_ENV'],
      secrets: ['SCAN_TOKEN'],
    });
    expect(r.commandSha256).toBe(sha256(g.run));
    expect(r.needs).toEqual(['build']);
    expect(r.tools).toEqual([
      { name: 'axe-core', version: '4.10.2', source: 'evidence' },
      { name: 'chromium', version: '131.0', source: 'config' },
    ]);
    expect(JSON.stringify(r)).not.toContain(SECRET);
    expect(JSON.stringify(r)).not.toContain('http://localhost/"'); // env values are not recorded
    expect(skippedResult(g, 'not selected', 'local').needs).toEqual(['build']);
  });

  it('says nothing was redacted when nothing was', async () => {
    const out = await tempDir();
    const g = gate('unit', { run: 'npm test' });
    const r = await evaluateGate(g, outcome(g, { outDir: out }), { rootDir: out, redact });
    expect(r.command).toMatchObject({ text: 'npm test', redacted: false, env: [], secrets: [] });
    expect(r.tools).toBeUndefined();
  });

  it('names no absolute path of the machine, and records the OS, Node and package manager', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'package.json'), '{"packageManager":"pnpm@10.34.8+sha512.abc"}');
    const p = pipeline([gate('lint', { run: 'true' })], { rootDir: root });
    const g = p.gates[0]!;
    await mkdir(join(root, '.gatehouse/runs/R/logs'), { recursive: true });
    const res = await evaluateGate(
      g,
      outcome(g, {
        outDir: root,
        log: {
          path: join(root, '.gatehouse/runs/R/logs/lint.log'),
          sha256: 'a'.repeat(64),
          bytes: 0,
          truncated: false,
        },
      }),
      { rootDir: root },
    );
    const report = await buildReport({
      pipeline: p,
      gates: [res],
      executor: 'local',
      startedAt: res.startedAt,
      finishedAt: res.finishedAt,
      rootDir: root,
      env: {},
      setup: {
        status: 'cached',
        startedAt: res.startedAt,
        finishedAt: res.finishedAt,
        durationMs: 0,
      },
    });
    expect(report.gates[0]!.log.path).toBe('.gatehouse/runs/R/logs/lint.log');
    expect(JSON.stringify(report)).not.toContain(root);
    expect(report.environment).toEqual({
      os: expect.stringMatching(/^\S+ \S+ \S+$/),
      node: process.version,
      packageManager: { name: 'pnpm', version: '10.34.8' },
    });
    expect(report.setup?.status).toBe('cached');
    expect(validateReportSchema(report)).toEqual([]);
  });

  it('finds the package manager from its lockfile, with a version only from that tool', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'package-lock.json'), '{}');
    expect(collectEnvironment(root, {}).packageManager).toEqual({ name: 'npm', version: null });
    expect(
      collectEnvironment(root, { npm_config_user_agent: 'npm/10.8.2 node/v20.19.0 linux x64' })
        .packageManager,
    ).toEqual({ name: 'npm', version: '10.8.2' });
    expect(
      collectEnvironment(root, { npm_config_user_agent: 'pnpm/10.34.8 npm/? node/v20' })
        .packageManager,
    ).toEqual({ name: 'npm', version: null });
    expect(collectEnvironment(await tempDir(), {}).packageManager).toBeNull();
  });

  it('beside lockfiles of several managers, names the one the setup runs, as the CI toolchain does', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'package.json'), '{"name":"p"}');
    await writeFile(join(root, 'package-lock.json'), '{"lockfileVersion":3}');
    // a stale yarn.lock, which comes first in the lookup
    await writeFile(join(root, 'yarn.lock'), '# yarn lockfile v1\n');
    const reported = async (setupRun: string | null) => {
      const p = pipeline([gate('lint', { run: 'true' })], {
        rootDir: root,
        setup: setupRun
          ? { run: setupRun, inputs: [], env: {}, secrets: [], timeoutMs: 60_000 }
          : null,
      });
      const report = await buildReport({
        pipeline: p,
        gates: [skippedResult(p.gates[0]!, 'r', 'local')],
        executor: 'local',
        startedAt: '2026-01-01T00:00:00.000Z',
        finishedAt: '2026-01-01T00:00:00.000Z',
        rootDir: root,
        env: { npm_config_user_agent: 'npm/10.8.2 node/v22.0.0 linux x64' },
      });
      return report.environment?.packageManager;
    };
    expect(await reported('npm ci')).toEqual({ name: 'npm', version: '10.8.2' });
    expect(await reported('corepack enable && npm ci --ignore-scripts')).toMatchObject({
      name: 'npm',
    });
    expect(await reported('yarn install --frozen-lockfile')).toEqual({
      name: 'yarn',
      version: null,
    });
    // No setup, or one that runs neither manager: the first lockfile found, as before.
    expect(await reported(null)).toMatchObject({ name: 'yarn' });
    expect(await reported('make deps')).toMatchObject({ name: 'yarn' });
    // The setup chooses only among the lockfiles there: pnpm has none.
    expect(await reported('pnpm install')).toMatchObject({ name: 'yarn' });
    expect(collectEnvironment(root, {}, 'npm ci').packageManager).toEqual({
      name: 'npm',
      version: null,
    });
  });

  it('with one lockfile, names its manager whatever the setup runs', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'package-lock.json'), '{"lockfileVersion":3}');
    for (const setup of [null, 'npm ci', 'yarn install --frozen-lockfile', 'pnpm install'])
      expect(collectEnvironment(root, {}, setup).packageManager).toEqual({
        name: 'npm',
        version: null,
      });
    // `packageManager` still comes first.
    await writeFile(join(root, 'yarn.lock'), '');
    await writeFile(join(root, 'package.json'), '{"packageManager":"pnpm@10.34.8"}');
    expect(collectEnvironment(root, {}, 'npm ci').packageManager).toEqual({
      name: 'pnpm',
      version: '10.34.8',
    });
  });

  it("names a workspace package's manager from the workspace root, which installs it", async () => {
    const root = await tempDir();
    const pkg = join(root, 'packages', 'web');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(root, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
    await writeFile(join(root, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n");
    await writeFile(join(root, 'package.json'), '{"private":true,"packageManager":"pnpm@10.34.8"}');
    await writeFile(join(pkg, 'package.json'), '{"name":"web"}');
    const p = pipeline([gate('lint', { run: 'true' })], { rootDir: pkg });
    const report = await buildReport({
      pipeline: p,
      gates: [skippedResult(p.gates[0]!, 'r', 'local')],
      executor: 'local',
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:00.000Z',
      rootDir: pkg,
      env: {},
    });
    expect(report.environment?.packageManager).toEqual({ name: 'pnpm', version: '10.34.8' });
    // The root's lockfile alone: the version only from that tool.
    await writeFile(join(root, 'package.json'), '{"private":true}');
    const agent = { npm_config_user_agent: 'pnpm/10.34.8 npm/? node/v22.12.0 linux x64' };
    expect(collectEnvironment(pkg, agent).packageManager).toEqual({
      name: 'pnpm',
      version: '10.34.8',
    });
    expect(collectEnvironment(pkg, {}).packageManager).toEqual({ name: 'pnpm', version: null });
    // The package's own `packageManager` comes first, as Corepack reads the nearest one.
    await writeFile(join(pkg, 'package.json'), '{"name":"web","packageManager":"pnpm@9.15.0"}');
    expect(collectEnvironment(pkg, {}).packageManager).toEqual({ name: 'pnpm', version: '9.15.0' });
  });

  it('keeps only the name of a log outside the project', () => {
    const r = skippedResult(gate('x'), 'r', 'local');
    const outside = { ...r, log: { ...r.log, path: '/home/ci/elsewhere/x.log' } };
    expect(projectRelativeLog(outside, '/work/project').log.path).toBe('x.log');
    expect(projectRelativeLog(outside, '/home/ci').log.path).toBe('elsewhere/x.log');
  });
});

describe('tool versions from evidence', () => {
  const ctx = { sourceRoots: ['/p'] };
  it('reads a SARIF driver, the Sonar server, axe-core; refuses a multi-line or huge version', () => {
    const sarif = (version: unknown) =>
      JSON.stringify({
        version: '2.1.0',
        runs: [{ tool: { driver: { name: 'ESLint', version } }, results: [] }],
      });
    expect(parseSarif(sarif('9.39.0'), ctx).tools).toEqual([{ name: 'ESLint', version: '9.39.0' }]);
    expect(parseSarif(sarif('9\nEVIL'), ctx).tools).toBeUndefined();
    expect(parseSarif(sarif('9'.repeat(101)), ctx).tools).toBeUndefined();
    expect(parseSarif(sarif(9), ctx).tools).toBeUndefined();
    expect(parseSonar('projectKey=k\nserverVersion=10.7.0.96327\nceTaskId=AX\n').tools).toEqual([
      { name: 'SonarQube server', version: '10.7.0.96327' },
    ]);
    const axe = (v: string) => ({
      url: 'u',
      testEngine: { name: 'axe-core', version: v },
      violations: [],
    });
    expect(
      parseAxe(JSON.stringify([axe('4.10.2'), axe('4.10.2'), axe('4.9.0')]), ctx).tools,
    ).toEqual([
      { name: 'axe-core', version: '4.10.2' },
      { name: 'axe-core', version: '4.9.0' },
    ]);
  });
});

describe('a result from elsewhere: its command text is checked against the config', () => {
  it('recognises the config command with parts replaced by ***, and nothing else', () => {
    expect(redactionOf('a SECRET b', 'a *** b')).toBe(true);
    expect(redactionOf('SECRET', '***')).toBe(true);
    expect(redactionOf('x S1 y S2 z', 'x *** y *** z')).toBe(true);
    expect(redactionOf('a b', 'a *** b')).toBe(false);
    expect(redactionOf('a SECRET b', 'a *** c')).toBe(false);
    expect(redactionOf('a SECRET b', 'a SECRET b')).toBe(false);
    expect(redactionOf('rm -rf /', 'echo *** rm -rf /')).toBe(false);
    // Many *** against a text that does not match: linear, not a regular expression's backtracking.
    const t0 = Date.now();
    expect(redactionOf('a'.repeat(20_000), `${'***a'.repeat(5000)}b`)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('merge keeps a redacted command that fits the config, drops one that does not, and takes names from the config', async () => {
    const root = await tempDir();
    const p = pipeline(
      [
        gate('lint', { run: `eslint --token ${SECRET} .`, secrets: ['T'] }),
        gate('unit', { run: 'vitest run', env: { CI: '1' } }),
      ],
      { rootDir: root },
    );
    const [lint, unit] = await Promise.all(
      p.gates.map((g) => evaluateGate(g, outcome(g, { outDir: root }), { rootDir: root, redact })),
    );
    const forged = {
      ...unit!,
      command: { ...unit!.command!, text: 'vitest run --passWithNoTests', env: ['EVIL'] },
    };
    const merged = await mergeReports([lint!, forged], p);
    expect(merged.gates[0]!.command).toEqual({
      text: 'eslint --token *** .',
      redacted: true,
      cwd: '.',
      env: [],
      secrets: ['T'],
    });
    expect(merged.gates[1]!.command).toBeUndefined();
    expect(JSON.stringify(merged)).not.toContain(SECRET);
    expect(validateReportSchema(merged)).toEqual([]);
  });
});

describe('HTML: what ran', () => {
  it('shows the command (escaped), directory, variable names, tools, OS, Node and package manager', async () => {
    const { sampleReport } = await import('../test/sample.js');
    const html = renderHtml(sampleReport());
    expect(html).toContain(
      'npx eslint . -f json -o &#34;$GATEHOUSE_OUT/eslint.json&#34; --token ***</pre>',
    );
    expect(html).toContain('Secret values in the command are shown as <code>***</code>');
    expect(html).toContain('<code>NPM_TOKEN</code> <span class="muted">(names only)</span>');
    expect(html).toContain('axe-core <code>4.10.2</code>');
    expect(html).toContain('<code>linux 6.1.0-18-amd64 x64</code>');
    expect(html).toContain('pnpm <code>10.34.8</code>');
  });
});
