import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic, RunReport } from '@gatehouse-ci/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function cli(argv: string[], cwd: string): Promise<CliResult> {
  return runCli(argv, cwd, { PATH: process.env.PATH, CI: 'true' });
}

async function project(config: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-json-'));
  dirs.push(dir);
  await writeFile(join(dir, 'gatehouse.yml'), config);
  return dir;
}

const VALID = `version: 1
name: json
gates:
  lint:
    run: echo lint
targets:
  github: {}
  dockerfile: {}
`;

interface CompileJson {
  version: number;
  command: string;
  file: string | null;
  ok: boolean;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
  dryRun?: boolean;
  files: Array<{
    path: string;
    target: string;
    bytes?: number;
    written?: boolean;
    status?: string;
    diff?: string | null;
  }>;
  fix?: string | null;
}

/** stdout parsed as the one JSON document it must be. */
function parsed<T>(r: CliResult): T {
  return JSON.parse(r.out) as T;
}

describe('compile --json', () => {
  it('lists the files written, with their target and size, and they are on disk', async () => {
    const dir = await project(VALID);
    const r = await cli(['compile', '--json'], dir);
    expect(r.code, r.err).toBe(0);
    const j = parsed<CompileJson>(r);
    expect(j).toMatchObject({ version: 1, command: 'compile', file: 'gatehouse.yml', ok: true });
    expect(j.dryRun).toBe(false);
    const workflow = j.files.find((f) => f.path === '.github/workflows/gatehouse.yml')!;
    expect(workflow).toMatchObject({ target: 'github', written: true });
    expect(workflow.bytes).toBe(readFileSync(join(dir, workflow.path)).length);
    expect(j.files.some((f) => f.path === 'Dockerfile' && f.target === 'dockerfile')).toBe(true);
    for (const f of j.files) expect(existsSync(join(dir, f.path)), f.path).toBe(true);
  });

  it('--dry-run --json writes nothing and says so', async () => {
    const dir = await project(VALID);
    const r = await cli(['compile', '--dry-run', '--json'], dir);
    expect(r.code).toBe(0);
    const j = parsed<CompileJson>(r);
    expect(j.dryRun).toBe(true);
    expect(j.files.length).toBeGreaterThan(1);
    for (const f of j.files) {
      expect(f.written).toBe(false);
      expect(existsSync(join(dir, f.path))).toBe(false);
    }
  });

  it('an invalid config: exit 1, the diagnostics in the JSON with file, line and column, nothing on stderr', async () => {
    const dir = await project(`version: 1
name: json
gates:
  lint:
    run: echo lint
    needs: [biuld]
  build:
    run: echo build
`);
    const r = await cli(['compile', '--json'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe('');
    const j = parsed<CompileJson>(r);
    expect(j.ok).toBe(false);
    expect(j.errors).toBeGreaterThan(0);
    const d = j.diagnostics.find((x) => x.path === 'gates.lint.needs[0]')!;
    expect(d.severity).toBe('error');
    expect(d.loc).toMatchObject({ file: 'gatehouse.yml', line: 6, column: 13 });
    expect(d.hint).toContain('build');
  });

  it("a target's bad option: located at its config path", async () => {
    const dir = await project(`${VALID.replace('  github: {}', '  github:\n    mod: docker')}`);
    const r = await cli(['compile', '--json'], dir);
    expect(r.code).toBe(1);
    const j = parsed<CompileJson>(r);
    expect(j.ok).toBe(false);
    const d = j.diagnostics.find((x) => x.severity === 'error')!;
    expect(d.path).toBe('targets.github.mod');
    expect(d.loc).toMatchObject({ file: 'gatehouse.yml', line: 8 });
  });

  it('a hand-written file it would replace: the refusal as a diagnostic, nothing written', async () => {
    const dir = await project(VALID);
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\n');
    const r = await cli(['compile', '--json'], dir);
    expect(r.code).toBe(1);
    const j = parsed<CompileJson>(r);
    expect(j.ok).toBe(false);
    expect(j.diagnostics).toEqual([
      expect.objectContaining({ code: 'GH_TARGET_OVERWRITE', severity: 'error', loc: null }),
    ]);
    expect(existsSync(join(dir, '.github'))).toBe(false);
  });

  it('no config: GH_CONFIG_NOT_FOUND in the JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-json-none-'));
    dirs.push(dir);
    const r = await cli(['compile', '--json'], dir);
    expect(r.code).toBe(1);
    const j = parsed<CompileJson>(r);
    expect(j).toMatchObject({ ok: false, file: null });
    expect(j.diagnostics[0]).toMatchObject({ code: 'GH_CONFIG_NOT_FOUND', loc: null });
  });
});

describe('check --json', () => {
  it('up to date, then one stale and one missing file with their diffs and the command that fixes them', async () => {
    const dir = await project(VALID);
    expect((await cli(['compile'], dir)).code).toBe(0);
    const fresh = await cli(['check', '--json'], dir);
    expect(fresh.code).toBe(0);
    const ok = parsed<CompileJson>(fresh);
    expect(ok).toMatchObject({ command: 'check', ok: true, fix: null });
    expect(ok.files.every((f) => f.status === 'ok' && f.diff === null)).toBe(true);

    const workflow = join(dir, '.github', 'workflows', 'gatehouse.yml');
    await writeFile(workflow, `${await readFile(workflow, 'utf8')}# edited\n`);
    await unlink(join(dir, 'Dockerfile'));
    const r = await cli(['check', '--json'], dir);
    expect(r.code).toBe(1);
    const j = parsed<CompileJson>(r);
    expect(j.ok).toBe(false);
    const stale = j.files.find((f) => f.path === '.github/workflows/gatehouse.yml')!;
    expect(stale).toMatchObject({ status: 'stale', target: 'github' });
    expect(stale.diff).toContain('-# edited');
    expect(j.files.find((f) => f.path === 'Dockerfile')).toMatchObject({ status: 'missing' });
    expect(j.fix).toBe('gatehouse compile --target github --target dockerfile');
  });

  it('an invalid config: the located diagnostics, exit 1', async () => {
    const dir = await project('version: 1\nname: json\ngates:\n  lint:\n    runn: echo\n');
    const r = await cli(['check', '--json'], dir);
    expect(r.code).toBe(1);
    const j = parsed<CompileJson>(r);
    expect(j.ok).toBe(false);
    const d = j.diagnostics.find((x) => x.code === 'GH_UNKNOWN_KEY')!;
    expect(d.loc).toMatchObject({ file: 'gatehouse.yml', line: 5, column: 5 });
  });
});

describe('report verify --json', () => {
  it('a sealed report verifies; an edited one does not, with the problems listed', async () => {
    const dir = await project(VALID);
    expect((await cli(['run'], dir)).code).toBe(0);
    const file = join(dir, '.gatehouse', 'report', 'report.json');
    const report = JSON.parse(await readFile(file, 'utf8')) as RunReport;
    const r = await cli(['report', 'verify', '--json'], dir);
    expect(r.code, r.err).toBe(0);
    const j = parsed<{
      version: number;
      command: string;
      file: string;
      ok: boolean;
      digest: string;
      signature: string;
      run: { runId: string; verdict: string; commit: string | null };
      problems: string[];
      attestations: unknown[];
    }>(r);
    expect(j).toMatchObject({
      version: 1,
      command: 'report verify',
      file: '.gatehouse/report/report.json',
      ok: true,
      digest: report.integrity!.digest,
      signature: 'absent',
      run: { runId: report.runId, verdict: 'passed' },
      problems: [],
      attestations: [],
    });

    await writeFile(file, (await readFile(file, 'utf8')).replace('"passed"', '"failed"'));
    const bad = await cli(['report', 'verify', '--json'], dir);
    expect(bad.code).toBe(1);
    const jb = parsed<{ ok: boolean; problems: string[] }>(bad);
    expect(jb.ok).toBe(false);
    expect(jb.problems.length).toBeGreaterThan(0);
  });
});
