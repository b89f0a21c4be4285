import { readFile, writeFile, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline } from '@gatehouse-ci/core';
import { gate } from '@gatehouse-ci/test-utils';
import { evaluateGate, skippedResult, cachedResult } from './evaluate.js';
import { outcome } from './outcome.js';
import { BIN, run, tempDir, writeFiles } from '../test/helpers.js';

const ESLINT_CONFIG = `export default [{
  files: ['**/*.js'],
  languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { console: 'readonly' } },
  rules: { 'no-unused-vars': 'error', 'no-undef': 'error', eqeqeq: 'warn' },
}];
`;

async function eslintProject(): Promise<{ root: string; out: string; code: number | null }> {
  const root = await tempDir();
  await writeFiles(root, {
    'eslint.config.js': ESLINT_CONFIG,
    'package.json': '{"type":"module"}',
    'src/a.js': 'const unused = 1;\nexport function f(x) {\n  return x == missing;\n}\n',
    'src/b.js': 'export const ok = 1;\n',
  });
  const out = join(root, '.out');
  await mkdir(out);
  const r = await run(BIN('eslint'), ['-f', 'json', '-o', join(out, 'eslint.json'), 'src'], {
    cwd: root,
  });
  return { root, out, code: r.code };
}

describe('evaluateGate', () => {
  it('judges real ESLint output against max_errors', async () => {
    const { root, out, code } = await eslintProject();
    expect(code).toBe(1);
    const g = gate('lint', {
      kind: 'lint',
      evidence: [{ format: 'eslint', path: 'eslint.json' }],
      policy: { max_errors: 0, max_warnings: 5 },
    });
    const r = await evaluateGate(g, outcome(g, { outDir: out, exitCode: code }), { rootDir: root });
    expect(r.status).toBe('failed');
    expect(r.evidence.lint).toMatchObject({ errors: 2, warnings: 1, files: 1 });
    expect(r.evidence.lint!.rules.map((x) => x.rule).sort()).toEqual([
      'eqeqeq',
      'no-undef',
      'no-unused-vars',
    ]);
    expect(r.evidence.findings.map((f) => f.file)).toEqual(['src/a.js', 'src/a.js', 'src/a.js']);
    expect(r.thresholds).toEqual([
      { name: 'max_errors', limit: 0, measured: 2, ok: false },
      { name: 'max_warnings', limit: 5, measured: 1, ok: true },
    ]);
    expect(r.reason).toContain('exited with code 1');
    expect(r.reason).toContain('max_errors: measured 2');
    expect(r.evidence.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('passes a clean exit whose evidence meets the policy', async () => {
    const out = await tempDir();
    await writeFile(
      join(out, 'eslint.json'),
      JSON.stringify([
        {
          filePath: '/x/a.js',
          messages: [{ ruleId: 'eqeqeq', severity: 1, message: 'm', line: 1, column: 1 }],
        },
      ]),
    );
    const g = gate('lint', {
      kind: 'lint',
      evidence: [{ format: 'eslint', path: 'eslint.json' }],
      policy: { max_errors: 0 },
    });
    const r = await evaluateGate(g, outcome(g, { outDir: out }), { rootDir: '/x' });
    expect(r.status).toBe('passed');
    expect(r.reason).toBeNull();
  });

  it.each([
    ['missing', null, /file missing/],
    ['empty', '', /empty/],
    ['malformed', '{"not":', /not valid JSON/],
    ['wrong shape', '{"a":1}', /must be a JSON array/],
  ])('a %s evidence file is an error, never a pass', async (_name, content, reason) => {
    const out = await tempDir();
    if (content !== null) await writeFile(join(out, 'eslint.json'), content);
    const g = gate('lint', { kind: 'lint', evidence: [{ format: 'eslint', path: 'eslint.json' }] });
    const r = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), { rootDir: out });
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(reason);
    expect(r.reason).toContain('eslint.json');
  });

  it('refuses evidence paths that leave $GATEHOUSE_OUT', async () => {
    const out = await tempDir();
    const g = gate('lint', { evidence: [{ format: 'eslint', path: '../../etc/passwd' }] });
    const r = await evaluateGate(g, outcome(g, { outDir: out }), { rootDir: out });
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/leaves/);
  });

  it('refuses an evidence file that is a symbolic link out of $GATEHOUSE_OUT, and reads none of it', async () => {
    const host = await tempDir();
    await writeFile(
      join(host, 'host.json'),
      JSON.stringify([{ filePath: '/etc/host-secret', messages: [] }]),
    );
    const out = await tempDir();
    await symlink(join(host, 'host.json'), join(out, 'eslint.json'));
    const g = gate('lint', { kind: 'lint', evidence: [{ format: 'eslint', path: 'eslint.json' }] });
    const r = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), { rootDir: out });
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/eslint\.json .*symbolic link.*outside/);
    expect(r.evidence.lint).toBeUndefined();
    expect(r.evidence.files).toEqual([{ format: 'eslint', path: 'eslint.json', sha256: null }]);
    expect(JSON.stringify(r)).not.toContain('host-secret');
  });

  it('refuses evidence reached through a linked directory, but follows links that stay inside', async () => {
    const host = await tempDir();
    await writeFile(join(host, 'junit.xml'), '<testsuite><testcase name="host"/></testsuite>');
    const out = await tempDir();
    await symlink(host, join(out, 'reports'));
    await writeFile(join(out, 'real.xml'), '<testsuite><testcase name="a"/></testsuite>');
    await symlink('real.xml', join(out, 'inside.xml'));
    const g = (path: string) =>
      gate('unit', { kind: 'unit-test', evidence: [{ format: 'junit', path }] });
    const outside = await evaluateGate(
      g('reports/junit.xml'),
      outcome(g('reports/junit.xml'), { outDir: out }),
      { rootDir: out },
    );
    expect([outside.status, outside.evidence.tests]).toEqual(['error', undefined]);
    expect(outside.reason).toMatch(/symbolic link/);
    const inside = await evaluateGate(g('inside.xml'), outcome(g('inside.xml'), { outDir: out }), {
      rootDir: out,
    });
    expect([inside.status, inside.evidence.tests?.total]).toEqual(['passed', 1]);
  });

  it('a threshold without evidence to measure it is an error', async () => {
    const out = await tempDir();
    const g = gate('lint', { policy: { max_errors: 0 } });
    const r = await evaluateGate(g, outcome(g, { outDir: out }), { rootDir: out });
    expect(r.status).toBe('error');
    expect(r.thresholds[0]).toEqual({ name: 'max_errors', limit: 0, measured: null, ok: false });
  });

  it('a gate whose evidence shows it checked nothing is an error, not a pass', async () => {
    const cases: Array<[string, 'eslint' | 'junit' | 'axe', string, string]> = [
      ['eslint.json', 'eslint', '[]', 'the linter checked no files'],
      [
        'junit.xml',
        'junit',
        '<testsuites><testsuite name="s" tests="0"/></testsuites>',
        'no test ran',
      ],
      [
        'axe.json',
        'axe',
        '[{"url":"http://localhost:4173/","violations":[],"passes":[],"incomplete":[]}]',
        '',
      ],
    ];
    for (const [file, format, text, reason] of cases) {
      const out = await tempDir();
      await writeFile(join(out, file), text);
      const g = gate('g', { evidence: [{ format, path: file }] });
      const r = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), { rootDir: out });
      if (reason)
        expect([r.status, r.reason], format).toEqual(['error', expect.stringContaining(reason)]);
      // One page scanned with no violation is a real pass.
      else expect(r.status, format).toBe('passed');
    }
  });

  it('kind defaults never fail a gate judged by its exit code alone (resolved through core)', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'gatehouse.yml'),
      'version: 1\nname: t\ngates:\n  unit: { kind: unit-test, run: npm test }\n  scan: { kind: sonarqube, run: scan }\n',
    );
    const p = await loadPipeline(join(dir, 'gatehouse.yml'));
    for (const g of p.gates) {
      const ok = await evaluateGate(g, outcome(g, { outDir: dir, exitCode: 0 }), { rootDir: dir });
      expect([g.id, ok.status, ok.thresholds]).toEqual([g.id, 'passed', []]);
      const bad = await evaluateGate(g, outcome(g, { outDir: dir, exitCode: 1 }), { rootDir: dir });
      expect(bad.status).toBe('failed');
    }
  });

  it('exit code decides an exitcode gate; timeout, interrupt, spawn errors win', async () => {
    const out = await tempDir();
    const g = gate('build', { timeoutMs: 90_000 });
    expect(
      (await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), { rootDir: out })).status,
    ).toBe('passed');
    expect(
      (await evaluateGate(g, outcome(g, { outDir: out, exitCode: 3 }), { rootDir: out })).status,
    ).toBe('failed');
    expect(
      (
        await evaluateGate(g, outcome(g, { outDir: out, exitCode: null, signal: 'SIGKILL' }), {
          rootDir: out,
        })
      ).reason,
    ).toBe('killed by SIGKILL');
    const t = await evaluateGate(g, outcome(g, { outDir: out, exitCode: null, timedOut: true }), {
      rootDir: out,
    });
    expect([t.status, t.reason]).toEqual(['timeout', 'timed out after 90s']);
    expect(
      (
        await evaluateGate(g, outcome(g, { outDir: out, exitCode: null, interrupted: true }), {
          rootDir: out,
        })
      ).status,
    ).toBe('interrupted');
    const s = await evaluateGate(
      g,
      outcome(g, { outDir: out, exitCode: null, spawnError: 'spawn /bin/sh ENOENT' }),
      { rootDir: out },
    );
    expect([s.status, s.reason]).toEqual(['error', 'could not start: spawn /bin/sh ENOENT']);
  });

  it('keeps the tail of the log, starting at a line boundary', async () => {
    const out = await tempDir();
    const log = join(out, 'gate.log');
    const text = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    await writeFile(log, text);
    const g = gate('build');
    const r = await evaluateGate(
      g,
      outcome(g, {
        outDir: out,
        log: { path: log, sha256: 'x', bytes: text.length, truncated: false },
      }),
      { rootDir: out },
    );
    expect(r.logTail!.length).toBeLessThanOrEqual(4096);
    expect(r.logTail!.startsWith('line ')).toBe(true);
    expect(r.logTail!.endsWith('line 1999\n')).toBe(true);
    expect(text.endsWith(r.logTail!)).toBe(true);
  });

  it('counts only findings new since the baseline report', async () => {
    const { root, out, code } = await eslintProject();
    const g = gate('lint', {
      kind: 'lint',
      evidence: [{ format: 'eslint', path: 'eslint.json' }],
      policy: { max_errors: 0, max_warnings: 0 },
    });
    const first = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), {
      rootDir: root,
    });
    expect(first.status).toBe('failed');
    const baseline = { gates: [first] } as never;
    // Same findings again, one new error added.
    const report = JSON.parse(await readFile(join(out, 'eslint.json'), 'utf8')) as Array<{
      messages: unknown[];
    }>;
    report[0]!.messages.push({
      ruleId: 'no-undef',
      severity: 2,
      message: "'other' is not defined.",
      line: 9,
      column: 1,
    });
    await writeFile(join(out, 'eslint.json'), JSON.stringify(report));
    const second = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), {
      rootDir: root,
      baseline,
    });
    expect(second.thresholds).toEqual([
      { name: 'max_errors', limit: 0, measured: 1, ok: false, excludedByBaseline: 2 },
      { name: 'max_warnings', limit: 0, measured: 0, ok: true, excludedByBaseline: 1 },
    ]);
    void code;
    // Moving a finding to another line keeps its fingerprint.
    report[0]!.messages.pop();
    (report[0]!.messages[0] as { line: number }).line += 10;
    await writeFile(join(out, 'eslint.json'), JSON.stringify(report));
    const third = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 0 }), {
      rootDir: root,
      baseline,
    });
    expect(third.status).toBe('passed');
  });

  it('reads policy.baseline from rootDir and errors when it is missing', async () => {
    const out = await tempDir();
    await writeFile(join(out, 'eslint.json'), '[{"filePath":"/app/a.js","messages":[]}]');
    const g = gate('lint', {
      evidence: [{ format: 'eslint', path: 'eslint.json' }],
      policy: { max_errors: 0, baseline: 'old/report.json' },
    });
    const r = await evaluateGate(g, outcome(g, { outDir: out }), { rootDir: out });
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/^baseline old\/report.json/);
    await mkdir(join(out, 'old'));
    await writeFile(join(out, 'old/report.json'), JSON.stringify({ gates: [] }));
    expect((await evaluateGate(g, outcome(g, { outDir: out }), { rootDir: out })).status).toBe(
      'passed',
    );
  });
});

describe('redaction', () => {
  it('a secret printed into evidence or the log never reaches the result', async () => {
    const canary = 'CANARY-s3cr3t-7f2a';
    const out = await tempDir();
    await writeFile(
      join(out, 'junit.xml'),
      `<testsuite><testcase name="uses ${canary}"><failure message="token ${canary} rejected"/></testcase></testsuite>`,
    );
    await writeFile(
      join(out, 'eslint.json'),
      JSON.stringify([
        {
          filePath: `/app/${canary}.js`,
          messages: [{ ruleId: 'x', severity: 2, message: canary, line: 1, column: 1 }],
        },
      ]),
    );
    const log = join(out, 'log');
    await writeFile(log, `echo ${canary}\n`);
    const g = gate('unit', {
      kind: 'unit-test',
      evidence: [
        { format: 'junit', path: 'junit.xml' },
        { format: 'eslint', path: 'eslint.json' },
      ],
    });
    const redact = (t: string) => t.split(canary).join('[REDACTED]');
    const r = await evaluateGate(
      g,
      outcome(g, {
        outDir: out,
        exitCode: 1,
        log: { path: log, sha256: 'x', bytes: 1, truncated: false },
      }),
      { rootDir: '/app', redact },
    );
    expect(JSON.stringify(r)).not.toContain(canary);
    expect(r.evidence.tests!.failures[0]).toEqual({
      name: 'uses [REDACTED]',
      message: 'token [REDACTED] rejected',
    });
    expect(r.logTail).toBe('echo [REDACTED]\n');
    const plain = await evaluateGate(g, outcome(g, { outDir: out, exitCode: 1 }), {
      rootDir: '/app',
    });
    expect(JSON.stringify(plain)).toContain(canary);
  });
});

describe('skippedResult / cachedResult', () => {
  it('skips with a reason and caches with the original status', () => {
    const g = gate('unit', { kind: 'unit-test' });
    const s = skippedResult(g, 'build failed', 'local');
    expect([s.status, s.reason, s.exitCode, s.executor]).toEqual([
      'skipped',
      'build failed',
      null,
      'local',
    ]);
    const prev = { ...s, status: 'failed' as const, reason: 'exited with code 1' };
    const c = cachedResult(prev, 'k1', 'RUN1');
    expect([c.status, c.cached]).toEqual([
      'cached',
      { status: 'failed', key: 'k1', runId: 'RUN1' },
    ]);
    const again = cachedResult(c, 'k1', 'RUN2');
    expect(again.cached).toEqual({ status: 'failed', key: 'k1', runId: 'RUN1' });
  });
});
