import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GateResult, ResolvedGate } from '@gatehouse-ci/core';
import { gate, pipeline } from '@gatehouse-ci/test-utils';
import { cachedResult, evaluateGate } from './evaluate.js';
import { mergeReports } from './merge.js';
import { outcome } from './outcome.js';
import { validateReportSchema } from './schema.js';
import { tempDir } from '../test/helpers.js';

const lint = gate('lint', {
  kind: 'lint',
  run: 'npx eslint . -f json -o $GATEHOUSE_OUT/eslint.json',
  evidence: [{ format: 'eslint', path: 'eslint.json' }],
  policy: { max_errors: 0 },
});
const unit = gate('unit', { run: 'npm test' });
const docs = gate('docs', { run: 'npm run docs', mode: 'advisory' });
const p = pipeline([lint, unit, docs]);

/** ESLint's JSON output with `errors` errors in one file. */
function eslintJson(errors: number): string {
  return JSON.stringify([
    {
      filePath: '/app/src/a.js',
      messages: Array.from({ length: errors }, (_, i) => ({
        ruleId: 'no-undef',
        severity: 2,
        message: `x${i} is not defined`,
        line: i + 1,
        column: 1,
      })),
    },
  ]);
}

/** A shard exactly as `gatehouse run --only <id> --result-file` writes it, judged by the real code. */
async function shard(
  g: ResolvedGate,
  exitCode: number,
  files: Record<string, string> = {},
): Promise<GateResult> {
  const out = await tempDir();
  for (const [name, text] of Object.entries(files)) await writeFile(join(out, name), text);
  const r = await evaluateGate(g, outcome(g, { outDir: out, exitCode }), { rootDir: out });
  return { ...r, executor: 'github' };
}

const honest = async (): Promise<GateResult[]> => [
  await shard(lint, 0, { 'eslint.json': eslintJson(0) }),
  await shard(unit, 0),
  await shard(docs, 0),
];

describe('mergeReports judges shards against the config', () => {
  it('merges honest shards as they are', async () => {
    const parts = await honest();
    const m = await mergeReports(parts, p);
    expect(m.gates.map((g) => [g.id, g.status, g.mode])).toEqual([
      ['lint', 'passed', 'blocking'],
      ['unit', 'passed', 'blocking'],
      ['docs', 'passed', 'advisory'],
    ]);
    expect(m.verdict).toMatchObject({ status: 'passed', reasons: ['every blocking gate passed'] });
    expect(m.gates[0]!.thresholds).toEqual(parts[0]!.thresholds);
    expect(m.configSha256).toBe(p.configSha256);
    expect(validateReportSchema(m)).toEqual([]);
  });

  it('takes the mode from the config: an "advisory" shard of a blocking gate still fails the run', async () => {
    const [l, , d] = await honest();
    const failing = await shard(unit, 1);
    const m = await mergeReports([l!, { ...failing, mode: 'advisory' }, d!], p);
    expect(m.gates[1]).toMatchObject({ id: 'unit', mode: 'blocking', status: 'failed' });
    expect(m.verdict.status).toBe('failed');
    expect(m.verdict.reasons).toContain('blocking gate unit failed: exited with code 1');
  });

  it('a gate the config does not have is an error that fails the verdict', async () => {
    const extra = {
      ...(await shard(gate('deploy', { run: 'true' }), 0)),
      mode: 'advisory' as const,
    };
    const m = await mergeReports([...(await honest()), extra], p);
    const g = m.gates.find((x) => x.id === 'deploy');
    expect(g?.status).toBe('error');
    expect(g?.reason).toMatch(/not a gate of pipeline test/);
    expect(m.verdict.status).toBe('failed');
    expect(m.verdict.reasons.join('\n')).toMatch(/deploy/);
  });

  it('"passed" with a non-zero exit code is an error, not a pass', async () => {
    const [l, , d] = await honest();
    const lying = { ...(await shard(unit, 1)), status: 'passed' as const, reason: null };
    const m = await mergeReports([l!, lying, d!], p);
    expect(m.gates[1]!.status).toBe('error');
    expect(m.gates[1]!.reason).toMatch(/says passed.*exited with code 1/);
    expect(m.verdict.status).toBe('failed');
  });

  it('a commandSha256 that is not the config command’s hash is an error', async () => {
    const [l, u, d] = await honest();
    const m = await mergeReports([l!, { ...u!, commandSha256: '0'.repeat(64) }, d!], p);
    expect(m.gates[1]!.status).toBe('error');
    expect(m.gates[1]!.reason).toMatch(/commandSha256 0{64} is not the sha256 of the config/);
    expect(m.verdict.status).toBe('failed');
  });

  it('thresholds come from the config: a shard with a laxer limit does not pass', async () => {
    const lax = gate('lint', { ...lint, policy: { max_errors: 5 } });
    const claimed = await shard(lax, 0, { 'eslint.json': eslintJson(2) });
    expect(claimed.status).toBe('passed');
    const [, u, d] = await honest();
    const m = await mergeReports([claimed, u!, d!], p);
    expect(m.gates[0]!.status).toBe('error');
    expect(m.gates[0]!.reason).toMatch(/says passed.*max_errors: measured 2, limit ≤ 0/);
    expect(m.gates[0]!.thresholds).toEqual([
      { name: 'max_errors', limit: 0, measured: 2, ok: false },
    ]);
    expect(m.verdict.status).toBe('failed');
  });

  it('a pass whose configured evidence is missing from the shard is an error', async () => {
    const [l, u, d] = await honest();
    const stripped = {
      ...l!,
      evidence: { files: [], findings: [], findingsTotal: 0 },
    };
    const m = await mergeReports([stripped, u!, d!], p);
    expect(m.gates[0]!.status).toBe('error');
    expect(m.gates[0]!.reason).toMatch(/eslint\.json/);
  });

  it('a summary that hides its own findings is an error', async () => {
    const [, u, d] = await honest();
    const real = await shard(lint, 0, { 'eslint.json': eslintJson(3) });
    const edited = {
      ...real,
      status: 'passed' as const,
      evidence: { ...real.evidence, lint: { ...real.evidence.lint!, errors: 0 } },
    };
    const m = await mergeReports([edited, u!, d!], p);
    expect(m.gates[0]!.status).toBe('error');
    expect(m.gates[0]!.reason).toMatch(/lint summary .*does not match its findings/);
    expect(m.verdict.status).toBe('failed');
  });

  it('a contradicting shard of an advisory gate fails the verdict too', async () => {
    const [l, u] = await honest();
    const lying = { ...(await shard(docs, 2)), status: 'passed' as const, reason: null };
    const m = await mergeReports([l!, u!, lying], p);
    expect(m.gates[2]).toMatchObject({ id: 'docs', mode: 'advisory', status: 'error' });
    expect(m.verdict.status).toBe('failed');
    expect(m.verdict.reasons.join('\n')).toMatch(/docs/);
  });

  it('an honest failure or cached pass stays what it is', async () => {
    const [, , d] = await honest();
    const failed = await shard(lint, 0, { 'eslint.json': eslintJson(1) });
    const cached = cachedResult(await shard(unit, 0), 'k'.repeat(64), 'R1');
    const m = await mergeReports([failed, cached, d!], p);
    expect(m.gates.map((g) => [g.id, g.status])).toEqual([
      ['lint', 'failed'],
      ['unit', 'cached'],
      ['docs', 'passed'],
    ]);
    expect(m.gates[0]!.reason).toBe('max_errors: measured 1, limit ≤ 0');
    expect(m.gates[1]!.cached).toEqual({ status: 'passed', key: 'k'.repeat(64), runId: 'R1' });
  });

  it('judges the gates inside whole reports the same way', async () => {
    const [l, u, d] = await honest();
    const part = await mergeReports([l!, u!], p);
    const forged = { ...part, gates: [part.gates[0]!, { ...part.gates[1]!, exitCode: 3 }] };
    const m = await mergeReports([forged, d!], p);
    expect(m.gates.map((g) => [g.id, g.status])).toEqual([
      ['lint', 'passed'],
      ['unit', 'error'],
      ['docs', 'passed'],
    ]);
  });
});

describe('mergeReports takes results of the commit it merges only', () => {
  const HEAD = 'a'.repeat(40);
  const OLD = 'b'.repeat(40);
  const at = (r: GateResult, commit: string | null): GateResult => ({
    ...r,
    git: { commit, dirty: false },
  });
  const git = { commit: HEAD, branch: 'main', dirty: false };

  it('merges results of its own commit, and the report names that commit', async () => {
    const parts = (await honest()).map((r) => at(r, HEAD));
    const m = await mergeReports(parts, p, { git });
    expect(m.verdict.status).toBe('passed');
    expect(m.git.commit).toBe(HEAD);
    expect(validateReportSchema(m)).toEqual([]);
  });

  it('a result of another commit, or naming none, is an error that fails the verdict', async () => {
    const [l, u, d] = await honest();
    const m = await mergeReports([at(l!, HEAD), at(u!, OLD), d!], p, { git });
    expect(m.gates.map((g) => [g.id, g.status])).toEqual([
      ['lint', 'passed'],
      ['unit', 'error'],
      ['docs', 'error'],
    ]);
    expect(m.gates[1]!.reason).toContain(`it is a result of commit ${OLD.slice(0, 12)}`);
    expect(m.gates[2]!.reason).toContain('it names no commit');
    // An advisory gate's stale result fails the verdict too: it is not evidence of this commit.
    expect(m.verdict.status).toBe('failed');
    const outside = await mergeReports([at(l!, HEAD), at(u!, HEAD), at(d!, null)], p, { git });
    expect(outside.gates[2]!.reason).toContain('not run in a git checkout');
  });

  it("a whole report's gates are of the report's commit", async () => {
    const [l, u, d] = await honest();
    const old = await mergeReports([l!, u!], pipeline([lint, unit]), {
      git: { ...git, commit: OLD },
    });
    const m = await mergeReports([old, at(d!, HEAD)], p, { git });
    expect(m.gates.map((g) => g.status)).toEqual(['error', 'error', 'passed']);
  });

  it('with anyCommit, a result of another commit counts and says where it was run', async () => {
    const [l, u, d] = await honest();
    const m = await mergeReports([at(l!, HEAD), at(u!, OLD), at(d!, HEAD)], p, {
      git,
      anyCommit: true,
    });
    expect(m.verdict.status).toBe('passed');
    expect(m.gates[1]!.reason).toBe(
      `run at commit ${OLD.slice(0, 12)}, not at ${HEAD.slice(0, 12)} (accepted with --any-commit)`,
    );
    expect(m.gates[1]!.git).toEqual({ commit: OLD, dirty: false });
    expect(m.gates[0]!.reason).toBeNull();
  });

  it('results judged from a Docker export are not checked (they name no commit)', async () => {
    const [l, u, d] = await honest();
    const m = await mergeReports([at(l!, HEAD), u!, at(d!, HEAD)], p, {
      git,
      exported: new Set([1]),
    });
    expect(m.verdict.status).toBe('passed');
  });

  it('without a commit to merge (not a git checkout), nothing is checked', async () => {
    const [l, u, d] = await honest();
    const m = await mergeReports([at(l!, OLD), u!, d!], p, {
      git: { commit: null, branch: null, dirty: null },
    });
    expect(m.verdict.status).toBe('passed');
  });
});
