/**
 * `gatehouse report diff` over two real runs of the storefront example (real ESLint and
 * Vitest), with changes planted between them: a lint error, a unit command edited, a lint
 * limit lowered.
 */
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReportDiff } from '@gatehouse-ci/report';
import { copyStorefront, edit, gatehouse, readReport, show } from './helpers.js';

describe('report diff over real storefront runs', () => {
  let dir = '';
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('names the status change, the new finding, the edited command and the moved limits', async () => {
    dir = await copyStorefront('gatehouse-e2e-diff-');
    const gates = ['--gate', 'lint', '--gate', 'unit'];
    const first = gatehouse(['run', ...gates], { cwd: dir });
    expect(first.status, show(first)).toBe(0);
    const a = (await readReport(dir)).runId;

    await edit(dir, 'src/cart.js', '\n', '\nconst plantedUnused = 1;\n');
    await edit(dir, 'gatehouse.yml', 'max_warnings: 10', 'max_warnings: 5');
    await edit(
      dir,
      'gatehouse.yml',
      '--coverage.reportOnFailure',
      '--coverage.reportOnFailure --passWithNoTests',
    );
    const second = gatehouse(['run', ...gates], { cwd: dir });
    expect(second.status, show(second)).toBe(1);
    const b = (await readReport(dir)).runId;

    const text = gatehouse(['report', 'diff', a, b], { cwd: dir });
    expect(text.status, show(text)).toBe(0);
    expect(text.stdout).toContain('verdict: passed → failed');
    expect(text.stdout).toContain('  lint: passed → failed');
    expect(text.stdout).toMatch(
      / {2}unit:\n {4}- npx vitest run [^\n]*\n {4}\+ npx vitest run [^\n]*--passWithNoTests/,
    );
    expect(text.stdout).toContain('    + error no-unused-vars src/cart.js:2');
    expect(text.stdout).toMatch(
      /lint max_errors: margin 0 → -1, measured 0 → 1, limit 0, now NOT met/,
    );
    expect(text.stdout).toMatch(
      /lint max_warnings: margin 10 → \d+, measured \d+ → \d+, limit 10 → 5/,
    );

    const json = JSON.parse(
      gatehouse(['report', 'diff', '--json', a, b], { cwd: dir }).stdout,
    ) as ReportDiff;
    expect(json.status).toEqual([{ gate: 'lint', from: 'passed', to: 'failed' }]);
    expect(json.findings.map((f) => [f.gate, f.new.length, f.fixed.length])).toEqual([
      ['lint', 1, 0],
    ]);
    expect(json.config).not.toBeNull();
  }, 900_000);
});
