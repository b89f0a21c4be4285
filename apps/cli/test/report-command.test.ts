import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendLedger, evaluateGate, outcome, writeReport } from '@gatehouse-ci/report';
import { loadPipeline } from '@gatehouse-ci/core';
import { SIGNING_KEY_FILE as IGNORED_KEY, emitDockerfile } from '@gatehouse-ci/plugin-dockerfile';
import { gate, pipeline } from '@gatehouse-ci/test-utils';
import type { GateResult, RunReport } from '@gatehouse-ci/core';
import { runCli as run } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-report-cli-'));
  dirs.push(dir);
  await writeFile(
    join(dir, 'gatehouse.yml'),
    [
      'version: 1',
      'name: shop',
      'image: node:20.19-bookworm-slim',
      'gates:',
      '  lint:',
      '    kind: lint',
      '    run: npx eslint . -f json -o $GATEHOUSE_OUT/eslint.json',
      '    evidence: [{ format: eslint, path: eslint.json }]',
      '    policy: { max_errors: 0 }',
      '  unit:',
      '    kind: unit-test',
      '    run: npx vitest run --reporter=junit --outputFile=$GATEHOUSE_OUT/junit.xml',
      '    evidence: [{ format: junit, path: junit.xml }]',
      '  e2e:',
      '    needs: [unit]',
      '    run: ./e2e.sh',
      '',
    ].join('\n'),
  );
  return dir;
}

/** A passing result of gate `id` of {@link project}, judged as `run --only ID --result-file` does. */
async function passed(dir: string, id: string): Promise<GateResult> {
  const pipeline = await loadPipeline(join(dir, 'gatehouse.yml'));
  const g = pipeline.gates.find((x) => x.id === id)!;
  const out = await mkdtemp(join(tmpdir(), 'gatehouse-shard-'));
  dirs.push(out);
  await writeFile(join(out, 'eslint.json'), '[{"filePath":"/app/a.js","messages":[]}]');
  await writeFile(join(out, 'junit.xml'), '<testsuite><testcase name="t"/></testsuite>');
  const r = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), { rootDir: dir });
  return { ...r, executor: 'github' };
}

describe('gatehouse report', () => {
  it('merges per-gate result files, writes a sealed report, and verifies it', async () => {
    const dir = await project();
    await mkdir(join(dir, 'results', 'lint'), { recursive: true });
    await writeFile(
      join(dir, 'results', 'lint', 'lint.json'),
      JSON.stringify(await passed(dir, 'lint')),
    );
    await writeFile(join(dir, 'results', 'unit.json'), JSON.stringify(await passed(dir, 'unit')));
    const m = await run(['report', 'merge', 'results', '-o', 'out/report.json'], dir);
    expect(m.err).toBe('');
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/^FAILED: 3 gates merged from 2 results/);
    expect(m.out).toContain('blocking gate e2e has no result');
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
    expect(report.gates.map((g) => [g.id, g.status])).toEqual([
      ['lint', 'passed'],
      ['unit', 'passed'],
      ['e2e', 'skipped'],
    ]);
    expect(
      (
        await run(
          ['report', 'merge', 'results', '-o', 'strict/report.json', '--fail-on-verdict'],
          dir,
        )
      ).code,
    ).toBe(1);
    const v = await run(['report', 'verify', 'out/report.json'], dir);
    expect([v.code, v.out.split('\n')[0]]).toEqual([
      0,
      `OK out/report.json: sha256 ${report.integrity!.digest}, not signed`,
    ]);

    const text = await readFile(join(dir, 'out', 'report.json'), 'utf8');
    await writeFile(join(dir, 'out', 'report.json'), text.replace('"passed"', '"failed"'));
    const bad = await run(['report', 'verify', 'out/report.json'], dir);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/digest mismatch/);
  });

  it('--gates: only those gates must have a result; other gates are in the report when they have one', async () => {
    const dir = await project();
    await mkdir(join(dir, 'results'));
    await writeFile(join(dir, 'results', 'lint.json'), JSON.stringify(await passed(dir, 'lint')));
    await writeFile(join(dir, 'results', 'unit.json'), JSON.stringify(await passed(dir, 'unit')));
    const ok = await run(
      ['report', 'merge', 'results', '-o', 'a/report.json', '--gates', 'unit', '--fail-on-verdict'],
      dir,
    );
    expect([ok.code, ok.out.split('\n')[0]]).toEqual([
      0,
      'PASSED: 2 gates merged from 2 results → a/report.json',
    ]);
    const a = JSON.parse(await readFile(join(dir, 'a', 'report.json'), 'utf8')) as RunReport;
    // e2e was not selected and did not report: it is not in the report.
    expect(a.gates.map((g) => g.id)).toEqual(['lint', 'unit']);
    const missing = await run(
      [
        'report',
        'merge',
        'results',
        '-o',
        'b/report.json',
        '--gates',
        'unit,e2e',
        '--fail-on-verdict',
      ],
      dir,
    );
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('blocking gate e2e has no result');
    const none = await run(
      ['report', 'merge', 'results', '-o', 'c/report.json', '--gates', ''],
      dir,
    );
    expect(none.out.split('\n')[0]).toBe('PASSED: 2 gates merged from 2 results → c/report.json');
    const unknown = await run(
      ['report', 'merge', 'results', '-o', 'd/report.json', '--gates', 'unti'],
      dir,
    );
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toContain('unknown gate `unti`');
  });

  it('--gates with --docker: a selected gate without an export fails; an exported gate outside --gates is judged too', async () => {
    const dir = await project();
    for (const [id, code] of [
      ['lint', 1],
      ['unit', 0],
    ] as const) {
      await mkdir(join(dir, 'docker-out', id), { recursive: true });
      await writeFile(
        join(dir, 'docker-out', id, 'result.json'),
        JSON.stringify({
          id,
          exitCode: code,
          startedAt: '2026-01-01T00:00:00Z',
          finishedAt: '2026-01-01T00:00:02Z',
          durationMs: 2000,
        }),
      );
      await writeFile(join(dir, 'docker-out', id, 'log.txt'), `log of ${id}\n`);
    }
    // The evidence each gate declares.
    await mkdir(join(dir, 'docker-out', 'lint', 'evidence'));
    await writeFile(join(dir, 'docker-out', 'lint', 'evidence', 'eslint.json'), '[]');
    await mkdir(join(dir, 'docker-out', 'unit', 'evidence'));
    await writeFile(
      join(dir, 'docker-out', 'unit', 'evidence', 'junit.xml'),
      '<testsuites><testsuite name="s"><testcase name="t"/></testsuite></testsuites>',
    );
    const merge = (gates: string, out: string) =>
      run(
        [
          'report',
          'merge',
          '--docker',
          'docker-out',
          '-o',
          out,
          '--gates',
          gates,
          '--fail-on-verdict',
        ],
        dir,
      );
    // lint was not selected but its export is there (a CI that built more): it did not pass,
    // and that counts.
    const more = await merge('unit', 'a/report.json');
    expect(more.code).toBe(1);
    const a = JSON.parse(await readFile(join(dir, 'a', 'report.json'), 'utf8')) as RunReport;
    expect(a.gates.map((g) => g.id)).toEqual(['lint', 'unit']);
    expect(a.gates[0]!.status).not.toBe('passed');
    expect(a.verdict.status).toBe('failed');
    await rm(join(dir, 'docker-out', 'lint'), { recursive: true });
    const ok = await merge('unit', 'b/report.json');
    expect([ok.code, ok.out.split('\n')[0]]).toEqual([
      0,
      'PASSED: 1 gates merged from 1 results → b/report.json',
    ]);
    // e2e was selected and has no export.
    const missing = await merge('unit e2e', 'c/report.json');
    expect(missing.code).toBe(1);
    expect(missing.out).toContain('blocking gate e2e has no result');
  });

  it('refuses duplicate results, naming both files', async () => {
    const dir = await project();
    await mkdir(join(dir, 'a'));
    await mkdir(join(dir, 'b'));
    await writeFile(join(dir, 'a', 'lint.json'), JSON.stringify(await passed(dir, 'lint')));
    await writeFile(join(dir, 'b', 'lint.json'), JSON.stringify(await passed(dir, 'lint')));
    const r = await run(['report', 'merge', 'a', 'b', '-o', 'report.json'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('gate lint is reported twice: in a/lint.json and in b/lint.json');
  });

  it('refuses result files that are not gate results, and sealed reports that were edited', async () => {
    const dir = await project();
    await writeFile(
      join(dir, 'odd.json'),
      JSON.stringify({ ...(await passed(dir, 'lint')), status: 'green' }),
    );
    const r = await run(['report', 'merge', 'odd.json', '-o', 'r.json'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'odd.json is not a valid gate result: /status must be equal to one of the allowed values',
    );
    await writeFile(join(dir, 'unit.json'), JSON.stringify(await passed(dir, 'unit')));
    await run(['report', 'merge', 'unit.json', '-o', 'part/report.json'], dir);
    const part = JSON.parse(await readFile(join(dir, 'part', 'report.json'), 'utf8')) as RunReport;
    part.gates[0]!.status = 'failed';
    await writeFile(join(dir, 'part', 'report.json'), JSON.stringify(part));
    const t = await run(['report', 'merge', 'part/report.json', '-o', 'r.json'], dir);
    expect([t.code, t.err]).toEqual([
      1,
      expect.stringContaining('part/report.json does not match its digest'),
    ]);
  });

  it('merges a Docker export (result.json, log.txt, evidence/)', async () => {
    const dir = await project();
    const exp = join(dir, 'docker-out');
    for (const [id, code] of [
      ['lint', 1],
      ['unit', 0],
      ['e2e', 124],
    ] as const) {
      await mkdir(join(exp, id, 'evidence'), { recursive: true });
      await writeFile(
        join(exp, id, 'result.json'),
        JSON.stringify({
          id,
          exitCode: code,
          startedAt: '2026-01-01T00:00:00Z',
          finishedAt: '2026-01-01T00:00:02Z',
          durationMs: 2000,
        }),
      );
      await writeFile(join(exp, id, 'log.txt'), `log of ${id}\n`);
    }
    await writeFile(
      join(exp, 'unit', 'evidence', 'junit.xml'),
      '<testsuites><testsuite name="s"><testcase name="t"/></testsuite></testsuites>',
    );
    await writeFile(
      join(exp, 'lint', 'evidence', 'eslint.json'),
      JSON.stringify([
        {
          filePath: '/app/src/a.js',
          messages: [{ ruleId: 'no-undef', severity: 2, message: 'x', line: 1, column: 1 }],
        },
      ]),
    );
    const r = await run(['report', 'merge', '--docker', 'docker-out', '-o', 'r/report.json'], dir);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'r', 'report.json'), 'utf8')) as RunReport;
    expect(report.gates.map((g) => [g.id, g.status, g.executor])).toEqual([
      ['lint', 'failed', 'docker'],
      ['unit', 'passed', 'docker'],
      ['e2e', 'timeout', 'docker'],
    ]);
    expect(report.gates[0]!.evidence.findings[0]!.file).toBe('src/a.js');
    expect(report.gates[0]!.logTail).toBe('log of lint\n');
  });

  it('renders every format to a file or stdout', async () => {
    const dir = await project();
    await writeFile(join(dir, 'unit.json'), JSON.stringify(await passed(dir, 'unit')));
    await run(['report', 'merge', 'unit.json', '-o', '.gatehouse/report/report.json'], dir);
    for (const f of ['json', 'html', 'md', 'junit', 'sarif', 'intoto']) {
      const r = await run(['report', 'render', '--format', f], dir);
      expect(r.code, f).toBe(0);
      expect(r.out.length, f).toBeGreaterThan(50);
    }
    const r = await run(
      ['report', 'render', '.gatehouse/report/report.json', '--format', 'html', '-o', 'x.html'],
      dir,
    );
    expect(r.code).toBe(0);
    expect(await readFile(join(dir, 'x.html'), 'utf8')).toMatch(/^<!DOCTYPE html>/);
    const bad = await run(['report', 'render', '--format', 'pdf'], dir);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--format must be one of');
  });

  it('keygen, sign and verify with the public key', async () => {
    const dir = await project();
    const keys = await mkdtemp(join(tmpdir(), 'gatehouse-keys-'));
    dirs.push(keys);
    await writeFile(join(dir, 'unit.json'), JSON.stringify(await passed(dir, 'unit')));
    await run(['report', 'merge', 'unit.json', '-o', 'rep/report.json'], dir);
    expect((await run(['report', 'keygen', '-o', keys], dir)).code).toBe(0);
    expect((await run(['report', 'keygen', '-o', keys], dir)).code).toBe(1);
    const s = await run(
      ['report', 'sign', 'rep/report.json', '--key', join(keys, 'gatehouse-signing.key')],
      dir,
    );
    expect(s.code).toBe(0);
    const pub = join(keys, 'gatehouse-signing.pub');
    const v = await run(['report', 'verify', 'rep/report.json', '--public-key', pub], dir);
    expect([v.code, v.out]).toEqual([0, expect.stringContaining('signature valid')]);
    // A key from the environment signs at merge time too.
    const key = await readFile(join(keys, 'gatehouse-signing.key'), 'utf8');
    await run(['report', 'merge', 'unit.json', '-o', 'rep2/report.json'], dir, {
      GATEHOUSE_SIGNING_KEY: key,
    });
    expect(
      (await run(['report', 'verify', 'rep2/report.json', '--public-key', pub], dir)).code,
    ).toBe(0);
  });

  const base = {
    schemaVersion: 1 as const,
    gatehouseVersion: '0',
    pipeline: 'shop',
    configSha256: '0'.repeat(64),
    git: { commit: null, branch: null, dirty: null },
    context: { ci: null, user: null, host: null },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:00.000Z',
    executor: 'local',
    verdict: {
      status: 'passed' as const,
      reasons: [],
      policy: 'all-blocking-gates-pass' as const,
    },
    gates: [],
  };

  /** A project whose ledger records runs 01A, 01B, 01C, each with its report. */
  async function recorded(): Promise<string> {
    const dir = await project();
    for (const runId of ['01A', '01B', '01C']) {
      const w = await writeReport({ ...base, runId }, join(dir, '.gatehouse', 'runs', runId));
      await appendLedger(dir, { runId, reportDigest: w.report.integrity.digest });
    }
    return dir;
  }

  it('history exits 1 when the last lines were removed or a line was forged onto the end', async () => {
    const dir = await recorded();
    const ledger = join(dir, '.gatehouse', 'ledger.jsonl');
    const lines = (await readFile(ledger, 'utf8')).split('\n').filter((l) => l !== '');
    expect((await run(['report', 'history'], dir)).code).toBe(0);

    await writeFile(ledger, `${lines.slice(0, 2).join('\n')}\n`);
    await rm(join(dir, '.gatehouse', 'runs', '01C'), { recursive: true });
    const truncated = await run(['report', 'history'], dir);
    expect(truncated.code).toBe(1);
    expect(truncated.out).not.toContain('chain intact');
    expect(truncated.out).toContain(
      'ledger head: the ledger has 2 lines but its head records 3: lines were removed',
    );

    // A line chained to the last one, naming a run that never happened.
    const prev = createHash('sha256').update(lines[2]!).digest('hex');
    const forged = `{"at":"2026-01-02T00:00:00.000Z","prev":"${prev}","reportDigest":"${'f'.repeat(64)}","runId":"01Z"}`;
    await writeFile(ledger, `${lines.join('\n')}\n${forged}\n`);
    const appended = await run(['report', 'history'], dir);
    expect(appended.code).toBe(1);
    expect(appended.out).toContain('01Z  sha256:ffffffffffffffff  report missing');
    expect(appended.out).toContain(
      'ledger head: line 4 was not appended by a run (not covered by the head)',
    );
  });

  it('history exits 1 for a run folder with a report the ledger does not name', async () => {
    const dir = await recorded();
    await writeReport({ ...base, runId: '01P' }, join(dir, '.gatehouse', 'runs', '01P'));
    await mkdir(join(dir, '.gatehouse', 'runs', '01Q'), { recursive: true });
    const r = await run(['report', 'history'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      'run folder 01P is not in the ledger (it holds a report no run recorded)',
    );
    expect(r.out).toContain('run folder 01Q is not in the ledger and has no report');
    await rm(join(dir, '.gatehouse', 'runs', '01P'), { recursive: true });
    await rm(join(dir, '.gatehouse', 'runs', '01Q'), { recursive: true });
    const ok = await run(['report', 'history'], dir);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('3 runs, chain intact, head pointer matches');
  });

  it('keygen writes the key pair outside the project by default, private key 0600 in a 0700 directory', async () => {
    const dir = await project();
    const config = await mkdtemp(join(tmpdir(), 'gatehouse-xdg-'));
    dirs.push(config);
    const r = await run(['report', 'keygen'], dir, { XDG_CONFIG_HOME: config });
    expect(r.code, r.err).toBe(0);
    const keys = join(config, 'gatehouse', 'keys');
    expect((await readdir(keys)).sort()).toEqual([
      'gatehouse-signing.key',
      'gatehouse-signing.pub',
    ]);
    // The generated .dockerignore excludes exactly the file keygen writes.
    expect(IGNORED_KEY).toBe('gatehouse-signing.key');
    expect(emitDockerfile(pipeline([gate('a')])).dockerignore).toContain(`**/${IGNORED_KEY}\n`);
    expect((await stat(join(keys, 'gatehouse-signing.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(keys)).mode & 0o777).toBe(0o700);
    expect(r.out).toContain(join(keys, 'gatehouse-signing.key'));
    expect((await readdir(dir)).sort()).toEqual(['gatehouse.yml']);
    // Without XDG_CONFIG_HOME: ~/.config/gatehouse/keys.
    const home = await mkdtemp(join(tmpdir(), 'gatehouse-home-'));
    dirs.push(home);
    expect((await run(['report', 'keygen'], dir, { HOME: home })).code).toBe(0);
    expect(await readdir(join(home, '.config', 'gatehouse', 'keys'))).toHaveLength(2);
  });

  it('keygen refuses a directory inside a project or a git work tree unless --force', async () => {
    const dir = await project();
    for (const out of ['.', 'keys', 'deep/er/keys']) {
      const r = await run(['report', 'keygen', '-o', out], dir);
      expect(r.code, out).toBe(1);
      expect(r.err).toContain('GH_KEY_IN_PROJECT');
      expect(r.err).toContain(join(dir, 'gatehouse.yml'));
    }
    const repo = await mkdtemp(join(tmpdir(), 'gatehouse-repo-'));
    dirs.push(repo);
    await mkdir(join(repo, '.git'));
    const inRepo = await run(['report', 'keygen', '-o', join(repo, 'secrets')], dir);
    expect(inRepo.code).toBe(1);
    expect(inRepo.err).toContain(join(repo, '.git'));
    expect((await readdir(dir)).sort()).toEqual(['gatehouse.yml']);
    expect(await readdir(repo)).toEqual(['.git']);

    const forced = await run(['report', 'keygen', '-o', 'keys', '--force'], dir);
    expect(forced.code, forced.err).toBe(0);
    expect((await stat(join(dir, 'keys', 'gatehouse-signing.key'))).mode & 0o777).toBe(0o600);
    expect(forced.err).toMatch(/inside the project/);
    expect(forced.err).toContain('.gitignore');
  });

  it('history lists runs and names the first broken ledger entry', async () => {
    const dir = await project();
    for (const runId of ['01A', '01B', '01C']) {
      const w = await writeReport({ ...base, runId }, join(dir, '.gatehouse', 'runs', runId));
      await appendLedger(dir, { runId, reportDigest: w.report.integrity.digest });
    }
    const ok = await run(['report', 'history'], dir);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('3 runs, chain intact');
    const ledger = join(dir, '.gatehouse', 'ledger.jsonl');
    const lines = (await readFile(ledger, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"01B"', '"01X"');
    await writeFile(ledger, lines.join('\n'));
    const broken = await run(['report', 'history'], dir);
    expect(broken.code).toBe(1);
    expect(broken.out).toContain('ledger broken at line 3: prev does not match the hash of line 2');
    await appendFile(ledger, '');
  });
});

describe('gatehouse report merge trusts the config, not the results', () => {
  const CI_CONFIG = [
    'version: 1',
    'name: ci',
    'gates:',
    '  build:',
    '    run: echo building',
    '  check:',
    '    run: echo checking; exit 1',
    '  docs:',
    '    mode: advisory',
    '    run: echo docs',
    '',
  ].join('\n');

  async function ciProject(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-merge-trust-'));
    dirs.push(dir);
    await writeFile(join(dir, 'gatehouse.yml'), CI_CONFIG);
    return dir;
  }

  const readShard = async (dir: string, id: string) =>
    JSON.parse(await readFile(join(dir, 'results', `${id}.json`), 'utf8')) as GateResult;
  const writeShard = (dir: string, id: string, r: GateResult) =>
    writeFile(join(dir, 'results', `${id}.json`), JSON.stringify(r));
  const merge = async (dir: string) => {
    const m = await run(['report', 'merge', 'results', '-o', 'out/report.json'], dir);
    expect([m.code, m.err]).toEqual([0, '']);
    const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as RunReport;
    return { out: m.out, report, gate: (id: string) => report.gates.find((g) => g.id === id)! };
  };

  it('merges what `run --only --result-file` wrote, and turns each contradiction into a failing error', async () => {
    const dir = await ciProject();
    for (const [id, code] of [
      ['build', 0],
      ['check', 1],
      ['docs', 0],
    ] as const) {
      const r = await run(['run', '--only', id, '--result-file', `results/${id}.json`], dir);
      expect([id, r.code]).toEqual([id, code]);
    }
    const honest = await merge(dir);
    expect(honest.report.gates.map((g) => [g.id, g.status])).toEqual([
      ['build', 'passed'],
      ['check', 'failed'],
      ['docs', 'passed'],
    ]);
    expect(honest.report.verdict.reasons).toEqual([
      'blocking gate check failed: exited with code 1',
    ]);
    const build = await readShard(dir, 'build');
    const check = await readShard(dir, 'check');

    // A shard cannot make a blocking gate advisory.
    await writeShard(dir, 'check', { ...check, mode: 'advisory' });
    const advisory = await merge(dir);
    expect(advisory.gate('check')).toMatchObject({ mode: 'blocking', status: 'failed' });
    expect(advisory.out).toMatch(/^FAILED/);

    // Nor claim a pass its exit code contradicts.
    await writeShard(dir, 'check', { ...check, status: 'passed', reason: null });
    const passed = await merge(dir);
    expect(passed.gate('check').status).toBe('error');
    expect(passed.out).toContain(
      'result of gate check rejected: the result says passed, but judged by the config it is failed (exited with code 1)',
    );

    // Nor add a gate, nor stand for another command.
    await writeShard(dir, 'check', check);
    await writeShard(dir, 'deploy', { ...build, id: 'deploy', mode: 'advisory' });
    await writeShard(dir, 'build', { ...build, commandSha256: '0'.repeat(64) });
    const forged = await merge(dir);
    expect(forged.gate('deploy')).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/not a gate of pipeline ci/),
    });
    expect(forged.gate('build').status).toBe('error');
    expect(forged.gate('build').reason).toMatch(/commandSha256 0{64} is not the sha256/);
    expect(forged.report.verdict.status).toBe('failed');
    expect(forged.report.verdict.reasons.join('\n')).toMatch(
      /deploy[\s\S]*build|build[\s\S]*deploy/,
    );
  });
});

describe("gatehouse report merge takes results of the checkout's commit only", () => {
  const git = (dir: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
      cwd: dir,
      encoding: 'utf8',
    }).trim();

  it('a result left from an earlier commit fails the merged verdict; --any-commit names its commit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-merge-commit-'));
    dirs.push(dir);
    await writeFile(
      join(dir, 'gatehouse.yml'),
      'version: 1\nname: c\ngates:\n  unit:\n    run: echo unit\n  lint:\n    run: echo lint\n',
    );
    await writeFile(join(dir, '.gitignore'), '.gatehouse/\nresults/\nout/\n');
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'one');
    const first = git(dir, 'rev-parse', 'HEAD');
    for (const id of ['unit', 'lint'])
      expect(
        (await run(['run', '--only', id, '--result-file', `results/${id}.json`], dir)).code,
      ).toBe(0);
    const shard = JSON.parse(await readFile(join(dir, 'results/unit.json'), 'utf8')) as GateResult;
    expect(shard.git).toEqual({ commit: first, dirty: false });
    const same = await run(
      ['report', 'merge', 'results', '-o', 'a/report.json', '--fail-on-verdict'],
      dir,
    );
    expect(same.out.split('\n')[0]).toBe('PASSED: 2 gates merged from 2 results → a/report.json');
    const a = JSON.parse(await readFile(join(dir, 'a/report.json'), 'utf8')) as RunReport;
    expect(a.git.commit).toBe(first);

    // A new commit; only lint runs again, unit's file is the earlier build's.
    await writeFile(join(dir, 'README'), 'two\n');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'two');
    const second = git(dir, 'rev-parse', 'HEAD');
    expect(
      (await run(['run', '--only', 'lint', '--result-file', 'results/lint.json'], dir)).code,
    ).toBe(0);
    const stale = await run(
      ['report', 'merge', 'results', '-o', 'b/report.json', '--fail-on-verdict'],
      dir,
    );
    expect(stale.code).toBe(1);
    expect(stale.out).toContain(
      `result of gate unit rejected: it is a result of commit ${first.slice(0, 12)}, not of commit ${second.slice(0, 12)} being merged`,
    );
    const b = JSON.parse(await readFile(join(dir, 'b/report.json'), 'utf8')) as RunReport;
    expect(Object.fromEntries(b.gates.map((g) => [g.id, g.status]))).toEqual({
      unit: 'error',
      lint: 'passed',
    });

    const any = await run(
      ['report', 'merge', 'results', '-o', 'c/report.json', '--fail-on-verdict', '--any-commit'],
      dir,
    );
    expect(any.code).toBe(0);
    const c = JSON.parse(await readFile(join(dir, 'c/report.json'), 'utf8')) as RunReport;
    const gateOf = (id: string) => c.gates.find((g) => g.id === id)!;
    expect(gateOf('unit').reason).toBe(
      `run at commit ${first.slice(0, 12)}, not at ${second.slice(0, 12)} (accepted with --any-commit)`,
    );
    expect(gateOf('lint').reason).toBeNull();
  }, 60_000);
});

describe('gatehouse report merge --docker reads exports without trusting them', () => {
  async function dockerExport(dir: string, ids: Record<string, string>): Promise<string> {
    const exp = join(dir, 'docker-out');
    for (const [id, junit] of Object.entries(ids)) {
      await mkdir(join(exp, id, 'evidence'), { recursive: true });
      await writeFile(
        join(exp, id, 'result.json'),
        JSON.stringify({
          id,
          exitCode: 0,
          startedAt: '2026-01-01T00:00:00Z',
          finishedAt: '2026-01-01T00:00:02Z',
          durationMs: 2000,
        }),
      );
      await writeFile(join(exp, id, 'log.txt'), `log of ${id}\n`);
      if (junit) await writeFile(join(exp, id, 'evidence', 'junit.xml'), junit);
    }
    await writeFile(
      join(exp, 'lint', 'evidence', 'eslint.json'),
      '[{"filePath":"/app/a.js","messages":[]}]',
    );
    return exp;
  }
  const JUNIT = '<testsuites><testsuite name="s"><testcase name="t"/></testsuite></testsuites>';

  it('--docker never follows an exported link to the host, and never writes through one', async () => {
    const dir = await project();
    const host = await mkdtemp(join(tmpdir(), 'gatehouse-host-'));
    dirs.push(host);
    const hostLog = join(host, 'big.log');
    const big = 65 * 1024 * 1024;
    await writeFile(hostLog, 'HOST-ONLY log line\n');
    await truncate(hostLog, big);
    await writeFile(
      join(host, 'junit.xml'),
      '<testsuites><testsuite name="HOST-ONLY"><testcase name="t"/></testsuite></testsuites>',
    );
    const exp = await dockerExport(dir, { lint: '', unit: '', e2e: '' });
    await rm(join(exp, 'unit', 'log.txt'));
    await symlink(hostLog, join(exp, 'unit', 'log.txt'));
    await symlink(join(host, 'junit.xml'), join(exp, 'unit', 'evidence', 'junit.xml'));
    // A whole gate directory that is a link is refused too, not silently ignored.
    await rm(join(exp, 'e2e'), { recursive: true });
    await mkdir(join(host, 'e2e'));
    await writeFile(join(host, 'e2e', 'result.json'), '{"id":"e2e","exitCode":0}');
    await symlink(join(host, 'e2e'), join(exp, 'e2e'));

    const r = await run(['report', 'merge', '--docker', 'docker-out', '-o', 'r/report.json'], dir);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'r', 'report.json'), 'utf8')) as RunReport;
    const unit = report.gates.find((g) => g.id === 'unit')!;
    expect(unit.status).toBe('error');
    expect(unit.reason).toMatch(/log\.txt is a symbolic link/);
    expect(unit.reason).toMatch(/evidence junit\.xml \(junit\): is a symbolic link/);
    const e2e = report.gates.find((g) => g.id === 'e2e')!;
    expect([e2e.status, e2e.reason]).toEqual([
      'error',
      expect.stringMatching(/e2e is a symbolic link; not followed/),
    ]);
    expect(report.verdict.status).toBe('failed');
    for (const f of ['report.json', 'report.html', 'report.md'])
      expect(await readFile(join(dir, 'r', f), 'utf8'), f).not.toContain('HOST-ONLY');
    expect((await stat(hostLog)).size).toBe(big);
    expect((await readFile(hostLog)).subarray(0, 19).toString()).toBe('HOST-ONLY log line\n');
  });

  it('--docker reads an exported log over 512 MiB and writes the report', async () => {
    const dir = await project();
    const exp = await dockerExport(dir, { lint: '', unit: JUNIT, e2e: '' });
    const size = 600 * 1024 * 1024;
    await truncate(join(exp, 'unit', 'log.txt'), size);
    const r = await run(['report', 'merge', '--docker', 'docker-out', '-o', 'r/report.json'], dir);
    expect([r.code, r.err]).toEqual([0, '']);
    const report = JSON.parse(await readFile(join(dir, 'r', 'report.json'), 'utf8')) as RunReport;
    const unit = report.gates.find((g) => g.id === 'unit')!;
    expect(unit.status).toBe('passed');
    expect(unit.log).toMatchObject({ bytes: size, truncated: false });
    expect(unit.log.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(join(exp, 'unit', 'log.txt'))).size).toBe(size);
  });
});
