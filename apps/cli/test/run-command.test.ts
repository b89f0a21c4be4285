import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateResult, RunReport } from '@gatehouse-ci/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './helpers.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CANARY = 'canary-51d0-never-print-me';
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function cli(
  argv: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  return runCli(argv, cwd, { PATH: process.env.PATH, CI: 'true', ...env });
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

async function project(config: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-run-'));
  dirs.push(dir);
  await writeFile(join(dir, 'gatehouse.yml'), config);
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), c);
  }
  return dir;
}

const CONFIG = `version: 1
name: demo
gates:
  build:
    kind: build
    run: mkdir -p dist && cp src/app.js dist/app.js && echo built
    inputs: [src/**]
    outputs: [dist/**]
  check:
    needs: [build]
    run: for i in $(seq 1 40); do echo line $i; done; echo "token is $DEPLOY_TOKEN"; exit 1
    secrets: [DEPLOY_TOKEN]
  lint:
    run: echo lint
    inputs: [src/**]
`;

describe('gatehouse run', () => {
  it('prints timestamped lines in CI, the failing log tail redacted, and exits 1 on a failed verdict', async () => {
    const dir = await project(CONFIG, { 'src/app.js': 'x' });
    const r = await cli(['run'], dir, { DEPLOY_TOKEN: CANARY });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^\d\d:\d\d:\d\d ▶ build started$/m);
    expect(r.out).toMatch(/^\d\d:\d\d:\d\d ✔ build passed \S+$/m);
    expect(r.out).toMatch(/^\d\d:\d\d:\d\d ✖ check failed \S+: exited with code 1$/m);
    expect(r.out).toContain('token is ***');
    expect(r.out).toContain('   line 40\n   token is ***\n');
    expect(r.out).toContain('   line 12\n');
    expect(r.out).not.toContain('   line 11\n'); // only the last 30 lines
    expect(r.out).toMatch(/full log: \.gatehouse\/runs\/[^/]+\/logs\/check\.log/);
    expect(r.out).toMatch(/✖ FAILED — 2 passed, 1 failed/);
    expect(r.out + r.err).not.toContain(CANARY);
    expect(existsSync(join(dir, '.gatehouse', 'report', 'report.html'))).toBe(true);

    const again = await cli(['run', '--explain'], dir, { DEPLOY_TOKEN: CANARY });
    expect(again.out).toMatch(/↺ build cached \(passed\) from \d\d:\d\d:\d\d/);
    expect(again.out).toContain(
      'explain check: runs — no inputs declared and not in a git work tree: runs every time',
    );
  });

  it('redacts a secret in the last bytes of a log while a longer secret is declared', async () => {
    const dir = await project(
      `version: 1
name: two-secrets
gates:
  a:
    run: echo token=$A_TOKEN; test -f pass-now
    secrets: [A_TOKEN]
    inputs: [src/**]
  b:
    run: echo b
    secrets: [B_TOKEN]
`,
      { 'src/app.js': 'x' },
    );
    const secrets = { A_TOKEN: 'canary-1234567', B_TOKEN: 'zzz-unrelated-99' };
    // Failing: its log tail is printed on the terminal.
    const r = await cli(['run'], dir, secrets);
    expect(r.code).toBe(1);
    expect(r.out).toContain('   token=***\n');
    // Passing: its result is stored in the cache (entry.json) and written as a CI shard.
    await writeFile(join(dir, 'pass-now'), '');
    const shard = await cli(
      ['run', '--only', 'a', '--result-file', 'results/a.json'],
      dir,
      secrets,
    );
    expect(shard.code).toBe(0);
    const runs = join(dir, '.gatehouse', 'runs');
    const runId = readdirSync(runs).sort()[0]!;
    expect(readFileSync(join(runs, runId, 'logs', 'a.log'), 'utf8')).toBe('token=***\n');
    const files = filesUnder(dir);
    for (const f of ['report.json', 'report.html', 'junit.xml', 'entry.json', 'a.json'])
      expect(
        files.some((p) => p.endsWith(`/${f}`)),
        f,
      ).toBe(true);
    for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toContain(secrets.A_TOKEN);
    expect(r.out + r.err + shard.out + shard.err).not.toContain(secrets.A_TOKEN);
  });

  it('redacts evidence: a secret in a JUnit test name or failure reaches no report, cache entry or result file', async () => {
    const dir = await project(
      `version: 1
name: evidence
gates:
  unit:
    kind: unit-test
    inputs: [test/**]
    secrets: [TEST_TOKEN]
    evidence: [{ format: junit, path: junit.xml }]
    # One failed test allowed: the gate passes, so its result is also stored in the cache.
    policy: { max_failed: 1 }
    run: |
      t=$TEST_TOKEN
      {
        echo '<testsuites><testsuite name="suite" tests="2" failures="1">'
        echo "<testcase name=\\"logs in with $t\\" classname=\\"auth $t\\"/>"
        echo "<testcase name=\\"rejects $t\\" classname=\\"auth\\"><failure message=\\"expected $t to be refused\\">stack: $t</failure></testcase>"
        echo '</testsuite></testsuites>'
      } > "$GATEHOUSE_OUT/junit.xml"
`,
      { 'test/a.test.js': 'x' },
    );
    const env = { TEST_TOKEN: CANARY };
    const r = await cli(['run', '--only', 'unit', '--result-file', 'results/unit.json'], dir, env);
    expect(r.code).toBe(0);
    const result = JSON.parse(
      readFileSync(join(dir, 'results', 'unit.json'), 'utf8'),
    ) as GateResult;
    expect(result.status).toBe('passed');
    expect(result.evidence.tests).toMatchObject({ total: 2, failed: 1 });
    expect(result.evidence.tests?.failures).toEqual([
      { name: 'rejects ***', suite: 'suite', message: 'expected *** to be refused' },
    ]);

    const again = await cli(
      ['run', '--only', 'unit', '--result-file', 'results/again.json'],
      dir,
      env,
    );
    expect(JSON.parse(readFileSync(join(dir, 'results', 'again.json'), 'utf8'))).toMatchObject({
      status: 'cached',
    });
    const runs = join(dir, '.gatehouse', 'runs');
    const runDir = join(runs, readdirSync(runs).sort()[0]!);
    const written = [
      join(dir, 'results', 'unit.json'),
      join(dir, 'results', 'again.json'),
      ...['report.json', 'report.md', 'report.html', 'junit.xml', 'report.sarif'].map((f) =>
        join(runDir, f),
      ),
      ...filesUnder(join(dir, '.gatehouse', 'report')),
      ...filesUnder(join(dir, '.gatehouse', 'cache')).filter((f) => f.endsWith('/entry.json')),
    ];
    expect(written.filter((f) => f.endsWith('/entry.json'))).toHaveLength(1);
    for (const f of written) {
      expect(existsSync(f), f).toBe(true);
      expect(readFileSync(f, 'utf8'), f).not.toContain(CANARY);
    }
    expect(r.out + r.err + again.out + again.err).not.toContain(CANARY);
  });

  it('exits 0 on a passed verdict and writes --result-file and --report-dir', async () => {
    const dir = await project(CONFIG, { 'src/app.js': 'x' });
    const r = await cli(
      ['run', '--gate', 'build', '--result-file', 'results/build.json', '--report-dir', 'rep'],
      dir,
    );
    expect(r.code).toBe(0);
    const result = JSON.parse(
      readFileSync(join(dir, 'results', 'build.json'), 'utf8'),
    ) as GateResult;
    expect(result).toMatchObject({ id: 'build', status: 'passed', executor: 'local' });
    const rep = JSON.parse(readFileSync(join(dir, 'rep', 'report.json'), 'utf8')) as RunReport;
    expect(rep.gates.map((g) => g.id)).toEqual(['build']);
    expect(existsSync(join(dir, 'rep', 'report.html'))).toBe(true);
  });

  it('--only runs one gate without its needs (as a CI job does)', async () => {
    const dir = await project(CONFIG, { 'src/app.js': 'x', 'dist/app.js': 'prebuilt' });
    const r = await cli(['run', '--only', 'check', '--result-file', 'r.json', '--json'], dir, {
      DEPLOY_TOKEN: 'v',
    });
    expect(r.code).toBe(1);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id?: string });
    expect(events[0]).toMatchObject({ type: 'run-start', gates: ['check'] });
    expect(events.some((e) => e.type === 'gate-output' && e.id === 'check')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'summary', verdict: 'failed' });
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'))).toMatchObject({
      id: 'check',
      status: 'failed',
    });
  });

  it('refuses bad usage and missing secrets before running', async () => {
    const dir = await project(CONFIG, { 'src/app.js': 'x' });
    expect((await cli(['run', '--concurrency', '0'], dir)).code).toBe(2);
    const noGate = await cli(['run', '--result-file', 'x.json'], dir);
    expect(noGate.code).toBe(2);
    expect(noGate.err).toMatch(/exactly one gate/);
    expect((await cli(['run', '--gate', 'build', '--only', 'lint'], dir)).code).toBe(2);
    const missing = await cli(['run'], dir);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/GH_SECRETS_MISSING[\s\S]*gate check needs secret DEPLOY_TOKEN/);
    expect(existsSync(join(dir, 'dist'))).toBe(false);
  });

  it('refuses --cache-to and --cache-from without the Docker executor, in .git/ or in the project outside .gatehouse/', async () => {
    const dir = await project(CONFIG, { 'src/app.js': 'x' });
    const outside = join(tmpdir(), 'gh-bk-cache-never-made');
    const cases: Array<[string[], RegExp]> = [
      [
        ['--cache-to', outside],
        /--cache-to shares BuildKit's cache of the Docker executor: add --executor docker/,
      ],
      [['--cache-from', outside, '--executor', 'local'], /--cache-from .*add --executor docker/],
      [
        ['--executor', 'docker', '--cache-to', 'cache'],
        /--cache-to cache is inside the project, where setup would copy it into the build: use a directory outside the project or under \.gatehouse\//,
      ],
      [['--executor', 'docker', '--cache-from', '.'], /--cache-from \. is inside the project/],
      [
        ['--executor', 'docker', '--cache-to', '.git/cache'],
        /--cache-to \.git\/cache: not inside a \.git directory/,
      ],
      [['--executor', 'docker', '--cache-to', ''], /--cache-to needs a directory/],
    ];
    for (const [args, why] of cases) {
      const r = await cli(['run', ...args], dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(why);
    }
    expect(existsSync(outside)).toBe(false);
    expect(existsSync(join(dir, 'cache'))).toBe(false);
    const help = await cli(['run', '--help'], dir);
    expect(help.out).toMatch(/--cache-to DIR/);
    expect(help.out).toMatch(/--cache-from DIR/);
  });

  it('gatehouse explain says why each gate would run', async () => {
    const dir = await project(CONFIG, { 'src/app.js': 'x' });
    expect((await cli(['run', '--gate', 'lint'], dir)).code).toBe(0);
    await writeFile(join(dir, 'src', 'app.js'), 'y');
    const r = await cli(['explain'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^build\s+runs\s+no previous entry$/m);
    expect(r.out).toMatch(
      /^lint\s+runs\s+input src\/app\.js changed \(sha [0-9a-f]{12}… → [0-9a-f]{12}…\)$/m,
    );
    expect(r.out).toMatch(/^check\s+runs\s+no inputs declared/m);
  });

  it('a failed setup shows the end of its log, so the reason is on the terminal', async () => {
    const dir = await project(`version: 1
name: setup-fails
setup:
  run: "echo installing; echo 'sh: 1: yarn: not found' >&2; exit 127"
gates:
  a:
    run: "true"
`);
    const r = await cli(['run'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /── setup failed\n {3}installing\n {3}sh: 1: yarn: not found\n {3}full log: \.gatehouse\/runs\/[^/]+\/setup\.log\n/,
    );
  });

  it('keeps running and exits with its own code when the reader of its output goes away', async () => {
    const bin = join(repoRoot, 'apps', 'cli', 'bin', 'gatehouse.js');
    if (!existsSync(join(repoRoot, 'apps', 'cli', 'dist', 'index.js')))
      throw new Error('apps/cli/dist is missing: build before testing (pnpm build)');
    const dir = await project(`version: 1
name: piped
gates:
  noisy:
    run: "for i in $(seq 1 2000); do echo line $i; done; exit 1"
`);
    // As `gatehouse run | head -1`: the read end closes after the first output.
    const piped = spawn(
      '/bin/sh',
      ['-c', '"$0" "$1" run; echo $? > status', process.execPath, bin],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    piped.stderr.on('data', (c: Buffer) => (err += c.toString()));
    piped.stdout.once('data', () => piped.stdout.destroy());
    await new Promise((r) => piped.on('close', r));
    expect(err).not.toContain('EPIPE');
    expect(readFileSync(join(dir, 'status'), 'utf8').trim()).toBe('1');
    expect(existsSync(join(dir, '.gatehouse', 'report', 'report.json'))).toBe(true);
  });

  it('Ctrl-C stops the gates, writes the report and exits 130', async () => {
    const bin = join(repoRoot, 'apps', 'cli', 'bin', 'gatehouse.js');
    if (!existsSync(join(repoRoot, 'apps', 'cli', 'dist', 'index.js'))) {
      if (process.env.CI) throw new Error('apps/cli/dist is missing: build before testing');
      console.warn('skipped: build the CLI first (pnpm build)');
      return;
    }
    const dir = await project(`version: 1
name: slow
gates:
  slow:
    run: echo started; sleep 30
`);
    const child = spawn(process.execPath, [bin, 'run'], {
      cwd: dir,
      env: { PATH: process.env.PATH, CI: 'true' },
    });
    let out = '';
    let sent = false;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!sent && out.includes('▶ slow started')) {
        sent = true;
        setTimeout(() => child.kill('SIGINT'), 200);
      }
    });
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).toBe(130);
    expect(out).toMatch(/■ slow interrupted/);
    expect(out).toMatch(/■ INTERRUPTED/);
    const report = JSON.parse(
      readFileSync(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'),
    ) as RunReport;
    expect(report.gates[0]!.status).toBe('interrupted');
  });
});
