import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gate } from '@gatehouse-ci/test-utils';
import { dockerVerdictSpec, judgeDockerResults } from './docker-verdict.js';
import { tempDir } from '../test/helpers.js';

const BUNDLE = fileURLToPath(new URL('../dist/docker-verdict.mjs', import.meta.url));

/** An exported result directory as the gate stage writes it. */
async function exportGate(
  root: string,
  id: string,
  exitCode: number,
  evidence: Record<string, string> = {},
): Promise<void> {
  const dir = join(root, id);
  await mkdir(join(dir, 'evidence'), { recursive: true });
  await writeFile(
    join(dir, 'result.json'),
    JSON.stringify({
      id,
      exitCode,
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      durationMs: 1000,
    }),
  );
  await writeFile(join(dir, 'log.txt'), `log of ${id}\n`);
  for (const [name, text] of Object.entries(evidence))
    await writeFile(join(dir, 'evidence', name), text);
}

describe('the verdict of a plain docker build', () => {
  it('the bundled judge reaches the verdict the source reaches: evidence and policies decide, not exit codes', async () => {
    if (!existsSync(BUNDLE))
      throw new Error(`${BUNDLE} is missing: build @gatehouse-ci/report first (pnpm build)`);
    const root = await tempDir();
    const results = join(root, 'results');
    const junit =
      '<testsuites><testsuite name="s" tests="2" failures="1"><testcase name="ok"/><testcase name="bad"><failure message="boom"/></testcase></testsuite></testsuites>';
    const eslint = JSON.stringify([
      {
        filePath: '/app/src/a.js',
        messages: [{ ruleId: 'no-console', severity: 1, message: 'm' }],
      },
    ]);
    // Both exit 0: only their evidence fails them.
    await exportGate(results, 'unit', 0, { 'junit.xml': junit });
    await exportGate(results, 'lint', 0, { 'eslint.json': eslint });
    await exportGate(results, 'docs', 3);
    const gates = [
      gate('unit', { kind: 'unit-test', evidence: [{ format: 'junit', path: 'junit.xml' }] }),
      gate('lint', {
        kind: 'lint',
        evidence: [{ format: 'eslint', path: 'eslint.json' }],
        policy: { max_warnings: 0 },
      }),
      gate('docs', { mode: 'advisory' }),
    ];
    const spec = dockerVerdictSpec('/app', gates);

    const fromSource = await judgeDockerResults(spec, results);
    expect(fromSource.gates.map((g) => [g.id, g.status])).toEqual([
      ['unit', 'failed'],
      ['lint', 'failed'],
      ['docs', 'failed'],
    ]);
    expect(fromSource.verdict.status).toBe('failed');

    // The spec as the Dockerfile passes it: JSON text in the argument.
    const run = spawnSync(
      process.execPath,
      [BUNDLE, JSON.stringify(spec), results, join(root, 'verdict.txt')],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(1);
    for (const r of fromSource.verdict.reasons) expect(run.stderr).toContain(`gatehouse: ${r}\n`);
    expect(run.stderr).toContain('gatehouse: unit failed: max_failed: measured 1, limit ≤ 0');
    expect(run.stderr).toContain('gatehouse: verdict failed\n');
    expect(await readFile(join(root, 'verdict.txt'), 'utf8')).toBe('failed: unit lint\n');

    // Within the limits, the same results pass.
    const lenient = dockerVerdictSpec('/app', [
      gate('unit', {
        kind: 'unit-test',
        evidence: [{ format: 'junit', path: 'junit.xml' }],
        policy: { max_failed: 1 },
      }),
      gate('lint', {
        kind: 'lint',
        evidence: [{ format: 'eslint', path: 'eslint.json' }],
        policy: { max_warnings: 1 },
      }),
      gate('docs', { mode: 'advisory' }),
    ]);
    // Or a file, for a spec too long for one Dockerfile line.
    await writeFile(join(root, 'spec.json'), JSON.stringify(lenient));
    const passed = spawnSync(
      process.execPath,
      [BUNDLE, join(root, 'spec.json'), results, join(root, 'verdict.txt')],
      { encoding: 'utf8' },
    );
    expect(passed.status, passed.stderr).toBe(0);
    expect(await readFile(join(root, 'verdict.txt'), 'utf8')).toBe('passed\n');
    expect((await judgeDockerResults(lenient, results)).verdict.status).toBe('passed');
  });
});
