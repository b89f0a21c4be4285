import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateResult, RunEvent, RunReport, ToolVersion } from '@gatehouse-ci/core';
import { validateReportSchema } from '@gatehouse-ci/report';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const eslintPkg = join(repoRoot, 'packages', 'report', 'node_modules', 'eslint');
const PATH = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** What a program prints for `--version`: the oracle for what the report records. */
function printed(cmd: string, args: string[] = ['--version']): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { PATH } });
  if (r.status !== 0) throw new Error(`${cmd} --version failed: ${r.stderr}`);
  return r.stdout.trim();
}

describe('tool versions in run --json, the report and a merged report', () => {
  it('each gate carries node, npm and the ESLint that ran, and the report still verifies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-tools-'));
    dirs.push(dir);
    await writeFile(join(dir, 'package.json'), '{"name":"p","version":"1.0.0","type":"module"}');
    await writeFile(join(dir, 'package-lock.json'), '{"lockfileVersion":3}');
    await writeFile(
      join(dir, 'eslint.config.js'),
      'export default [{ rules: { eqeqeq: "warn" } }];\n',
    );
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'a.js'), 'export const f = (x) => x === 1;\n');
    await mkdir(join(dir, 'node_modules'));
    await symlink(await realpath(eslintPkg), join(dir, 'node_modules', 'eslint'));
    await writeFile(
      join(dir, 'gatehouse.yml'),
      `version: 1
name: tools
gates:
  lint:
    kind: lint
    run: node node_modules/eslint/bin/eslint.js src -f json -o "$GATEHOUSE_OUT/eslint.json"
    evidence: [{ format: eslint, path: eslint.json }]
    tools: { sonar-rules: "1.2" }
  plain:
    run: "true"
`,
    );
    const env = { PATH, CI: 'true', HOME: dir };
    const r = await runCli(['run', '--json'], dir, env);
    expect(r.code, r.out + r.err).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent | { type: 'summary' });
    expect(events[0]!.type).toBe('run-start');
    const ends = events.filter(
      (e): e is Extract<RunEvent, { type: 'gate-end' }> => e.type === 'gate-end',
    );
    expect(ends.map((e) => e.id).sort()).toEqual(['lint', 'plain']);
    for (const e of ends) expect(e.result.status).toBe('passed');

    const node: ToolVersion = { name: 'node', version: printed('node'), source: 'runtime' };
    const npm: ToolVersion = { name: 'npm', version: printed('npm'), source: 'runtime' };
    const eslint: ToolVersion = {
      name: 'eslint',
      version: printed(process.execPath, [
        join(eslintPkg, 'bin', 'eslint.js'),
        '--version',
      ]).replace(/^v/, ''),
      source: 'installed',
    };
    const lint = ends.find((e) => e.id === 'lint')!.result;
    expect(lint.tools).toEqual([
      node,
      npm,
      eslint,
      { name: 'sonar-rules', version: '1.2', source: 'config' },
    ]);
    expect(ends.find((e) => e.id === 'plain')!.result.tools).toEqual([node, npm]);

    // The report carries the same, is valid against its schema, and verifies.
    const runEnd = events.find((e) => e.type === 'run-end') as Extract<
      RunEvent,
      { type: 'run-end' }
    >;
    expect(runEnd.report.gates.find((g) => g.id === 'lint')!.tools).toEqual(lint.tools);
    const file = join(dir, '.gatehouse', 'report', 'report.json');
    const report = JSON.parse(await readFile(file, 'utf8')) as RunReport;
    expect(report.gates.find((g) => g.id === 'lint')!.tools).toEqual(lint.tools);
    expect(validateReportSchema(report)).toEqual([]);
    const v = await runCli(['report', 'verify', '--schema', '--json'], dir, env);
    expect(v.code, v.out).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ ok: true, problems: [] });

    // The HTML shows each version and where it came from.
    const html = await readFile(join(dir, '.gatehouse', 'report', 'report.html'), 'utf8');
    expect(html).toContain(`eslint <code>${eslint.version}</code>`);
    expect(html).toContain('installed in node_modules');
    expect(html).toContain(`node <code>${node.version}</code>`);
    expect(html).toContain('on the PATH it ran with');

    // A CI job's result file keeps them, and the merge job keeps what each job saw.
    const job = await runCli(
      ['run', '--only', 'lint', '--result-file', 'results/lint.json'],
      dir,
      env,
    );
    expect(job.code, job.out + job.err).toBe(0);
    const shard = JSON.parse(
      await readFile(join(dir, 'results', 'lint.json'), 'utf8'),
    ) as GateResult;
    expect(shard.tools).toEqual(lint.tools);
    // What a job on another agent said: its own Node, not this machine's.
    const other = {
      ...shard,
      tools: shard.tools!.map((t) => (t.name === 'node' ? { ...t, version: 'v24.0.0' } : t)),
    };
    await writeFile(join(dir, 'results', 'lint.json'), JSON.stringify(other));
    const m = await runCli(['report', 'merge', 'results', '-o', 'merged/report.json'], dir, env);
    expect(m.code, m.out + m.err).toBe(0);
    const merged = JSON.parse(
      await readFile(join(dir, 'merged', 'report.json'), 'utf8'),
    ) as RunReport;
    expect(merged.gates.find((g) => g.id === 'lint')!.tools).toEqual([
      { ...node, version: 'v24.0.0' },
      npm,
      eslint,
      { name: 'sonar-rules', version: '1.2', source: 'config' },
    ]);
    const mv = await runCli(['report', 'verify', 'merged/report.json', '--json'], dir, env);
    expect(JSON.parse(mv.out)).toMatchObject({ ok: true });
  });

  it.each([
    ['npm ci', 'npm'],
    ['yarn install --frozen-lockfile', 'yarn'],
  ])(
    'beside a package-lock.json and a yarn.lock, the setup `%s` says the package manager is %s',
    async (setup, manager) => {
      const dir = await mkdtemp(join(tmpdir(), 'gatehouse-two-locks-'));
      dirs.push(dir);
      await writeFile(join(dir, 'package.json'), '{"name":"p","version":"1.0.0"}');
      await writeFile(
        join(dir, 'package-lock.json'),
        '{"name":"p","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"p","version":"1.0.0"}}}\n',
      );
      await writeFile(join(dir, 'yarn.lock'), '# yarn lockfile v1\n\n\n');
      await writeFile(
        join(dir, 'gatehouse.yml'),
        `version: 1
name: locks
setup: { run: ${setup} --offline, inputs: [package.json, package-lock.json, yarn.lock] }
gates:
  plain: { run: "true" }
`,
      );
      const env = { PATH, CI: 'true', HOME: dir };
      const r = await runCli(['run'], dir, env);
      expect(r.code, r.out + r.err).toBe(0);
      const report = JSON.parse(
        await readFile(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'),
      ) as RunReport;
      expect(report.environment?.packageManager?.name).toBe(manager);
      const tools = report.gates.find((g) => g.id === 'plain')!.tools!;
      expect(tools).toContainEqual({
        name: manager,
        version: printed(manager),
        source: 'runtime',
      });
      expect(tools.map((t) => t.name)).not.toContain(manager === 'npm' ? 'yarn' : 'npm');
    },
    60_000,
  );
});
