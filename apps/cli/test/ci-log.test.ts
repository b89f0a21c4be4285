import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Finding, GateResult } from '@gatehouse-ci/core';
import { hostileString } from '@gatehouse-ci/test-utils';
import {
  ANNOTATIONS_PER_LEVEL,
  annotationLine,
  annotationsOf,
  buildkiteSection,
  ciLogOf,
  escapeData,
  escapeProperty,
  githubGroup,
  workflowCommand,
} from '../src/progress/ci-log.js';
import { runCli } from './helpers.js';
import { parseCommand, runnerCommands } from './github-runner.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function project(config: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-ci-log-'));
  dirs.push(dir);
  await writeFile(join(dir, 'gatehouse.yml'), config);
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), c);
  }
  return dir;
}

function result(id: string, findings: Finding[], over: Partial<GateResult> = {}): GateResult {
  return {
    id,
    kind: 'lint',
    mode: 'blocking',
    status: 'passed',
    reason: null,
    exitCode: 0,
    commandSha256: '0',
    image: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
    executor: 'local',
    cached: null,
    log: { path: null, sha256: '0', bytes: 0, truncated: false },
    evidence: { files: [], findings, findingsTotal: findings.length },
    thresholds: [],
    ...over,
  };
}

const finding = (i: number, level: Finding['level'], over: Partial<Finding> = {}): Finding => ({
  fingerprint: `lint:${i}`,
  tool: 'eslint',
  rule: 'no-undef',
  level,
  message: `message ${i}`,
  file: 'src/a.js',
  line: i + 1,
  column: 2,
  ...over,
});

describe('workflow-command escaping', () => {
  it('escapes data and properties as GitHub decodes them', () => {
    expect(escapeData('50%\r\nnext')).toBe('50%25%0D%0Anext');
    expect(escapeProperty('a:b,c%\n')).toBe('a%3Ab%2Cc%25%0A');
    expect(workflowCommand('error', { file: 'a,b.js', line: 3, title: 'x:y' }, 'm\n::x::')).toBe(
      '::error file=a%2Cb.js,line=3,title=x%3Ay::m%0A::x::',
    );
  });

  it('any property and message round-trip through the runner as one command (property)', () => {
    const text = fc.oneof(hostileString(), fc.string({ unit: 'binary', maxLength: 40 }));
    fc.assert(
      fc.property(text, text, text, fc.nat(), (file, title, message, line) => {
        const data = escapeData(message);
        const prop = escapeProperty(file);
        expect(data).not.toMatch(/[\r\n]/);
        expect(prop).not.toMatch(/[\r\n:,]/);
        const out = annotationLine({ level: 'warning', file, title, line, message });
        expect(out.split(/\r\n|\r|\n/)).toHaveLength(1);
        const cmds = runnerCommands(`${out}\n`);
        expect(cmds).toHaveLength(1);
        expect(cmds[0]).toEqual({
          name: 'warning',
          props: { file, line: String(line), title },
          data: message,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('a group runs no command from its lines, whatever they hold (property)', () => {
    fc.assert(
      fc.property(hostileString(), fc.array(hostileString(), { maxLength: 6 }), (title, lines) => {
        const hostile = [...lines, '::error::x', '::endgroup::', '::add-mask::s', '##[error]x'];
        const cmds = runnerCommands(`${githubGroup(title, hostile).join('\n')}\n`);
        expect(cmds.map((c) => c.name)).toEqual(['group', 'stop-commands', 'endgroup']);
        expect(cmds[0]!.data).toBe(title);
      }),
      { numRuns: 300 },
    );
  });

  it('the runner model is not vacuous: it sees commands, also after a space, and the legacy form', () => {
    expect(parseCommand('  ::error title=t::m')).toEqual({
      name: 'error',
      props: { title: 't' },
      data: 'm',
    });
    expect(runnerCommands('a\r::add-mask::s\n##[error]x\n').map((c) => c.name)).toEqual([
      'add-mask',
      'error',
    ]);
  });
});

describe('annotations', () => {
  it('one per gate that did not pass and per finding, capped at 10 per level with a count of the rest', () => {
    const errors = Array.from({ length: 25 }, (_, i) => finding(i, 'error'));
    const warnings = Array.from({ length: 3 }, (_, i) => finding(100 + i, 'warning'));
    const notes = [finding(200, 'note')];
    const a = annotationsOf(
      [
        result('lint', [...errors, ...warnings, ...notes], {
          status: 'failed',
          reason: 'max_errors: measured 25, limit ≤ 0',
        }),
      ],
      { rootDir: '/repo/web', workspace: '/repo' },
    );
    const byLevel = (l: string) => a.filter((x) => x.level === l);
    expect(byLevel('error')).toHaveLength(ANNOTATIONS_PER_LEVEL);
    expect(byLevel('error')[0]).toEqual({
      level: 'error',
      title: 'gate lint failed',
      message: 'blocking gate lint failed: max_errors: measured 25, limit ≤ 0',
    });
    expect(byLevel('error')[1]).toEqual({
      level: 'error',
      title: 'eslint: no-undef',
      message: 'message 0 [gate lint]',
      file: 'web/src/a.js',
      line: 1,
      col: 2,
    });
    // 1 gate + 25 findings = 26: 9 shown, the 10th says 17 more.
    expect(byLevel('error')[9]!.message).toMatch(/^17 more errors not annotated/);
    expect(byLevel('warning')).toHaveLength(3);
    expect(byLevel('notice')).toHaveLength(1);
  });

  it('an accessibility finding names its page; a file outside the checkout is kept as written', () => {
    const a = annotationsOf(
      [
        result('a11y', [
          finding(1, 'error', {
            tool: 'axe-core',
            rule: 'image-alt',
            file: undefined,
            line: undefined,
            page: 'http://localhost/',
            selector: 'img',
          }),
          finding(2, 'warning', { file: '../elsewhere.js' }),
        ]),
      ],
      { rootDir: '/repo', workspace: '/repo' },
    );
    expect(a[0]).toEqual({
      level: 'error',
      title: 'axe-core: image-alt',
      message: 'message 1 (http://localhost/ img) [gate a11y]',
    });
    expect(a[1]!.file).toBe('../elsewhere.js');
  });
});

describe('CI log conventions', () => {
  it('are chosen from the CI’s own variables', () => {
    expect(ciLogOf({ GITHUB_ACTIONS: 'true' })).toBe('github');
    expect(ciLogOf({ BUILDKITE: 'true' })).toBe('buildkite');
    expect(ciLogOf({ CI: 'true' })).toBeNull();
  });

  it('a Buildkite section opens for a problem, and a gate’s own marker lines start none', () => {
    expect(buildkiteSection('unit failed\n+++ x', true, ['--- fake', 'ok'])).toEqual([
      '+++ unit failed +++ x',
      '   --- fake',
      '   ok',
    ]);
    expect(buildkiteSection('lint passed', false, [])).toEqual(['--- lint passed']);
  });
});

const HOSTILE_ESLINT = JSON.stringify([
  {
    filePath: 'src/a,b:c%.js',
    messages: [
      {
        ruleId: 'no-undef',
        severity: 2,
        message: "'x' is not defined.\n::add-mask::from-evidence\r::error::injected%0A",
        line: 3,
        column: 7,
      },
      { ruleId: 'eqeqeq', severity: 1, message: 'use ===,title=pwned::', line: 4, column: 1 },
    ],
  },
]);

describe('gatehouse run on GitHub Actions', () => {
  it('groups each gate log, annotates findings, and no gate output becomes a command', async () => {
    const dir = await project(
      `version: 1
name: fence
gates:
  evil:
    run: echo "::add-mask::secret"; echo "::error title=pwned::injected"; printf '::endgroup::\\r::warning::cr\\n'; cp eslint.json "$GATEHOUSE_OUT/eslint.json"
    evidence: [{ format: eslint, path: eslint.json }]
    policy: { max_errors: 0 }
  quiet:
    run: echo all good
`,
      { 'eslint.json': HOSTILE_ESLINT },
    );
    const { code, out, err } = await runCli(['run'], dir, {
      PATH: process.env.PATH,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: dirname(dir),
    });
    expect(code, out + err).toBe(1);
    const cmds = runnerCommands(out + err);
    const names = cmds.map((c) => c.name).filter((n) => n !== 'stop-commands');
    expect(names).toEqual(['group', 'endgroup', 'group', 'endgroup', 'error', 'error', 'warning']);
    const groups = cmds.filter((c) => c.name === 'group').map((c) => c.data);
    expect(groups).toEqual([expect.stringMatching(/^evil failed: max_errors/), 'quiet passed']);
    const annotations = cmds.filter((c) => c.name === 'error' || c.name === 'warning');
    const base = dir.slice(dirname(dir).length + 1);
    expect(annotations).toEqual([
      {
        name: 'error',
        props: { title: 'gate evil failed' },
        data: expect.stringMatching(/^blocking gate evil failed: max_errors: measured 1/),
      },
      {
        name: 'error',
        props: {
          file: `${base}/src/a,b:c%.js`,
          line: '3',
          col: '7',
          title: 'eslint: no-undef',
        },
        data: "'x' is not defined.\n::add-mask::from-evidence\r::error::injected%0A [gate evil]",
      },
      {
        name: 'warning',
        props: { file: `${base}/src/a,b:c%.js`, line: '4', col: '1', title: 'eslint: eqeqeq' },
        data: 'use ===,title=pwned:: [gate evil]',
      },
    ]);
    // The gate's lines are in the output, only where commands are stopped.
    expect(out).toContain('::add-mask::secret');
    expect(out).toContain('::error title=pwned::injected');
    expect(out).toMatch(/✖ FAILED/);
    // Elsewhere, none of this.
    const plain = await runCli(['run'], dir, { PATH: process.env.PATH, CI: 'true' });
    expect(plain.out).not.toMatch(/^::(stop-commands|group|endgroup)/m);
    expect(plain.out).toContain('── evil failed');
  });

  it('report merge prints the verdict reasons a result file brings with commands stopped', async () => {
    const dir = await project(`version: 1
name: merged
gates:
  evil:
    run: exit 1
`);
    const env = { PATH: process.env.PATH, CI: 'true' };
    const ran = await runCli(['run', '--only', 'evil', '--result-file', 'r/evil.json'], dir, env);
    expect(ran.code).toBe(1);
    const file = join(dir, 'r', 'evil.json');
    const result = JSON.parse(await readFile(file, 'utf8')) as GateResult;
    // A result that says `error` keeps its own reason, as a CI shard wrote it.
    result.status = 'error';
    result.reason = 'bad\n::add-mask::from-a-shard\r::error::injected';
    await writeFile(file, JSON.stringify(result));
    const merged = await runCli(['report', 'merge', 'r', '-o', 'out/report.json'], dir, {
      ...env,
      GITHUB_ACTIONS: 'true',
    });
    expect(merged.code, merged.err).toBe(0);
    expect(merged.out).toContain('::add-mask::from-a-shard');
    expect(runnerCommands(merged.out + merged.err).map((c) => c.name)).toEqual(['stop-commands']);
    // Not vacuous: without the fence the runner would obey it.
    const plain = await runCli(['report', 'merge', 'r', '-o', 'out/report.json'], dir, env);
    expect(runnerCommands(plain.out).map((c) => c.name)).toEqual(['add-mask', 'error']);
  });

  it('on Buildkite, a section per gate log, the failing one open, then the summary open', async () => {
    const dir = await project(`version: 1
name: sections
gates:
  bad:
    run: echo "--- not a section"; exit 3
  good:
    run: echo fine
`);
    const { code, out } = await runCli(['run'], dir, {
      PATH: process.env.PATH,
      CI: 'true',
      BUILDKITE: 'true',
    });
    expect(code).toBe(1);
    const headers = out.split('\n').filter((l) => /^(---|\+\+\+|~~~) /.test(l));
    expect(headers).toEqual([
      '+++ bad failed: exited with code 3',
      '--- good passed',
      '+++ gatehouse: failed',
    ]);
    expect(out).toContain('\n   --- not a section\n');
    expect(out.indexOf('+++ gatehouse: failed')).toBeLessThan(out.indexOf('✖ FAILED'));
    // The annotation style the Buildkite report step reads from the report.
    const style = await runCli(
      ['report', 'render', '.gatehouse/report/report.json', '--format', 'style'],
      dir,
      { PATH: process.env.PATH },
    );
    expect(style).toEqual({ code: 0, out: 'error\n', err: '' });
  });
});
