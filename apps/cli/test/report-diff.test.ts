/**
 * `gatehouse report diff A B` over two real runs of one project, with changes planted
 * between them: a finding fixed and two new, a gate that starts failing, a command edited,
 * a threshold moved, a gate added.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportDiff } from '@gatehouse-ci/report';
import { runCli, type CliResult } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const cli = (argv: string[], cwd: string): Promise<CliResult> =>
  runCli(argv, cwd, { PATH: process.env.PATH, HOME: cwd, XDG_STATE_HOME: join(cwd, '.state') });

/** Writes a SARIF log with one error per line of findings.txt (`rule file line message`). */
const SARIF_SCRIPT = `import { readFileSync, writeFileSync } from 'node:fs';
const lines = readFileSync('findings.txt', 'utf8').split('\\n').filter(Boolean);
const results = lines.map((l) => {
  const [rule, file, line, ...msg] = l.split(' ');
  return { ruleId: rule, level: 'error', message: { text: msg.join(' ') },
    locations: [{ physicalLocation: { artifactLocation: { uri: file }, region: { startLine: Number(line) } } }] };
});
writeFileSync(process.env.GATEHOUSE_OUT + '/lint.sarif', JSON.stringify({ version: '2.1.0',
  runs: [{ tool: { driver: { name: 'FakeLint', version: process.argv[2] } }, results }] }));
`;

const config = (o: { buildRun: string; maxErrors: number; extraGate: boolean }) =>
  [
    'version: 1',
    'name: planted',
    'gates:',
    '  lint:',
    '    kind: lint',
    `    run: node sarif.mjs 1.0.${o.extraGate ? 1 : 0}`,
    '    evidence: [{ format: sarif, path: lint.sarif }]',
    `    policy: { max_errors: ${o.maxErrors} }`,
    '  unit:',
    '    run: exit "$(cat unit-exit)"',
    '  build:',
    `    run: ${o.buildRun}`,
    ...(o.extraGate ? ['  docs:', '    run: echo docs'] : []),
    '',
  ].join('\n');

/** Run ids in the order the ledger recorded them (ids of one second do not sort by time). */
async function runIds(dir: string): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile(join(dir, '.gatehouse', 'ledger.jsonl'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { runId: string }).runId);
}

describe('gatehouse report diff', () => {
  it('lists what changed between two real runs, as text and as JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-diff-'));
    dirs.push(dir);
    await writeFile(join(dir, 'sarif.mjs'), SARIF_SCRIPT);
    await writeFile(
      join(dir, 'gatehouse.yml'),
      config({ buildRun: 'echo build', maxErrors: 1, extraGate: false }),
    );
    await writeFile(join(dir, 'findings.txt'), 'no-undef src/a.js 3 x is not defined\n');
    await writeFile(join(dir, 'unit-exit'), '0');
    const first = await cli(['run', '--no-cache'], dir);
    expect(first.code, first.out + first.err).toBe(0);

    // Planted: one finding fixed, two new; unit now fails; build's command edited; the limit
    // raised; a gate added.
    await writeFile(
      join(dir, 'findings.txt'),
      'eqeqeq src/b.js 7 use ===\nno-undef src/c.js 1 y is not defined\n',
    );
    await writeFile(join(dir, 'unit-exit'), '3');
    await writeFile(
      join(dir, 'gatehouse.yml'),
      config({ buildRun: 'echo build --prod', maxErrors: 2, extraGate: true }),
    );
    const second = await cli(['run', '--no-cache'], dir);
    expect(second.code).toBe(1);
    const [a, b] = await runIds(dir);

    const text = await cli(['report', 'diff', a!, b!], dir);
    expect(text.err).toBe('');
    expect(text.code).toBe(0);
    expect(text.out).toContain('verdict: passed → failed');
    expect(text.out).toMatch(/config changed: sha256 [0-9a-f]{12}… → [0-9a-f]{12}…/);
    expect(text.out).toContain('  + docs (new gate)');
    expect(text.out).toContain('  unit: passed → failed');
    expect(text.out).toContain('  build:\n    - echo build\n    + echo build --prod');
    expect(text.out).toContain('  lint max_errors: margin 0 → 0, measured 1 → 2, limit 1 → 2');
    expect(text.out).toContain('  lint: 2 new, 1 fixed');
    expect(text.out).toContain('    + error eqeqeq src/b.js:7 use ===');
    expect(text.out).toContain('    - error no-undef src/a.js:3 x is not defined');
    expect(text.out).toContain('  lint FakeLint: 1.0.0 → 1.0.1');

    const json = await cli(['report', 'diff', '--json', a!, b!], dir);
    const d = JSON.parse(json.out) as ReportDiff;
    expect(d.from.runId).toBe(a);
    expect(d.to.runId).toBe(b);
    expect(d.status).toEqual([{ gate: 'unit', from: 'passed', to: 'failed' }]);
    expect(d.gatesAdded).toEqual(['docs']);
    expect(d.commands).toContainEqual({
      gate: 'build',
      from: 'echo build',
      to: 'echo build --prod',
    });
    expect(d.commands.map((c) => c.gate).sort()).toEqual(['build', 'lint']);
    expect(d.findings[0]!.new.map((f) => f.file).sort()).toEqual(['src/b.js', 'src/c.js']);
    expect(d.findings[0]!.fixed.map((f) => f.file)).toEqual(['src/a.js']);
    expect(d.findings[0]!.complete).toBe(true);
    expect(d.thresholds).toEqual([
      {
        gate: 'lint',
        name: 'max_errors',
        limit: { from: 1, to: 2 },
        measured: { from: 1, to: 2 },
        margin: { from: 0, to: 0 },
        ok: { from: true, to: true },
      },
    ]);
    expect(d.same).toBe(false);

    // The same report twice: nothing changed. Files work as well as run ids.
    const file = join('.gatehouse', 'runs', b!, 'report.json');
    const same = await cli(['report', 'diff', file, file], dir);
    expect(same.out).toContain('no changes in verdict, config, gates');
  }, 120_000);

  it('history --html charts the real runs of the ledger', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-history-'));
    dirs.push(dir);
    await writeFile(join(dir, 'sarif.mjs'), SARIF_SCRIPT);
    await writeFile(
      join(dir, 'gatehouse.yml'),
      config({ buildRun: 'echo build', maxErrors: 1, extraGate: false }),
    );
    await writeFile(join(dir, 'unit-exit'), '0');
    for (const findings of ['a x 1 m\n', 'a x 1 m\nb y 2 n\n', '']) {
      await writeFile(join(dir, 'findings.txt'), findings);
      await cli(['run', '--no-cache'], dir);
    }
    const r = await cli(['report', 'history', '--html', '--last', '2'], dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /3 runs, chain intact, head pointer matches\nwrote \.gatehouse\/report\/history\.html \(2 runs\)\n$/,
    );
    const { readFile } = await import('node:fs/promises');
    const html = await readFile(join(dir, '.gatehouse', 'report', 'history.html'), 'utf8');
    expect(html).toContain('<h1>Gatehouse history: planted</h1>');
    expect(html).toContain(
      'Verdicts of 2 runs, oldest first: 1 passed, 1 failed, 0 without a report',
    );
    expect(html).toContain('aria-label="lint: last 0, highest 2, lowest 0 over 2 runs"');
    const out = await cli(['report', 'history', '--html', '-o', 'trends.html'], dir);
    expect(out.out).toContain('wrote trends.html (3 runs)');
    expect((await cli(['report', 'history', '--html', '--last', '0'], dir)).code).not.toBe(0);
  }, 120_000);

  it('warns about a report that does not verify, and refuses a wrong number of reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-diff-'));
    dirs.push(dir);
    await writeFile(
      join(dir, 'gatehouse.yml'),
      'version: 1\nname: x\ngates:\n  a:\n    run: "true"\n',
    );
    expect((await cli(['run'], dir)).code).toBe(0);
    const [id] = await runIds(dir);
    const file = join(dir, '.gatehouse', 'runs', id!, 'report.json');
    const { readFile } = await import('node:fs/promises');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"passed"', '"failed"'));
    const r = await cli(['report', 'diff', file, file], dir);
    expect(r.err).toMatch(/warning: .*report\.json does not verify/);
    expect(r.code).toBe(0);
    const bad = await cli(['report', 'diff', file], dir);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('diff takes two reports');
    const help = await cli(['report', '--help'], dir);
    expect(help.out).toContain('diff A B [--json]');
  }, 60_000);
});
