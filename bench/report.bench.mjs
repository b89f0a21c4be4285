// `gatehouse report render|verify` on a large report (500 gates, 10,000 findings), against
// the cost of starting Node itself.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const name = 'report';

/** A sealed report of `gates` lint gates carrying `findings` findings in total. */
export function largeReport(api, gates = 500, findings = 10_000) {
  const per = Math.ceil(findings / gates);
  const at = '2026-01-01T00:00:00.000Z';
  const results = [];
  for (let i = 0; i < gates; i++) {
    const fs = [];
    for (let j = 0; j < per && i * per + j < findings; j++) {
      const rule = ['no-unused-vars', 'no-undef', 'eqeqeq', 'prefer-const'][j % 4];
      const file = `src/module-${i}/file-${j % 9}.ts`;
      const message = `'value${j}' is defined but never used (${rule})`;
      fs.push({
        fingerprint: `lint:${api.sha256(`${rule}|${file}|${message}`)}`,
        tool: 'eslint',
        rule,
        level: j % 3 ? 'warning' : 'error',
        message,
        file,
        line: j + 1,
        column: 5,
      });
    }
    const errors = fs.filter((f) => f.level === 'error').length;
    results.push({
      id: `gate-${String(i).padStart(3, '0')}`,
      kind: 'lint',
      mode: i % 10 ? 'blocking' : 'advisory',
      status: errors > 3 ? 'failed' : 'passed',
      reason: errors > 3 ? `max_errors: measured ${errors}, limit ≤ 3` : null,
      exitCode: errors > 3 ? 1 : 0,
      commandSha256: api.sha256(`npx eslint packages/${i}`),
      image: null,
      startedAt: at,
      finishedAt: at,
      durationMs: 1000 + i,
      executor: 'local',
      cached: null,
      log: {
        path: `.gatehouse/runs/R/gate-${i}.log`,
        sha256: api.sha256(String(i)),
        bytes: 100,
        truncated: false,
      },
      logTail: `linting packages/${i}\n${errors} errors\n`,
      evidence: {
        files: [{ format: 'eslint', path: 'eslint.json', sha256: api.sha256(`e${i}`) }],
        lint: {
          errors,
          warnings: fs.length - errors,
          files: 9,
          rules: [{ rule: 'no-unused-vars', count: 5 }],
        },
        findings: fs,
        findingsTotal: fs.length,
      },
      thresholds: [{ name: 'max_errors', limit: 3, measured: errors, ok: errors <= 3 }],
    });
  }
  const report = {
    schemaVersion: 1,
    runId: api.newRunId(Date.parse(at)),
    gatehouseVersion: '0.1.0',
    pipeline: 'large',
    configSha256: api.sha256('config'),
    git: { commit: 'a'.repeat(40), branch: 'main', dirty: false },
    context: { ci: null, user: 'bench', host: 'bench' },
    startedAt: at,
    finishedAt: at,
    executor: 'local',
    verdict: api.computeVerdict(results, null),
    gates: results,
  };
  return api.sealReport(report).report;
}

export async function run(ctx) {
  const bin = join(ctx.root, 'apps/cli/bin/gatehouse.js');
  const dist = join(ctx.root, 'packages/report/dist/index.js');
  if (!existsSync(join(ctx.root, 'apps/cli/dist/index.js')) || !existsSync(dist)) {
    throw new Error(
      'apps/cli/dist or packages/report/dist is missing: run `pnpm build` (or `pnpm bench`, which builds first)',
    );
  }
  const { createHash } = await import('node:crypto');
  const api = {
    ...(await import(pathToFileURL(dist).href)),
    sha256: (s) => createHash('sha256').update(s).digest('hex'),
  };
  const dir = ctx.tmpdir();
  const file = join(dir, 'report.json');
  const text = api.serialiseReport(largeReport(api));
  writeFileSync(file, text);
  ctx.log(`report.json: ${(text.length / 1e6).toFixed(1)} MB`);

  const node = process.execPath;
  const opts = { runs: 5, warmup: 1, cwd: dir };
  const baseline1 = ctx.hyperfineLike(node, ['-e', '0'], { runs: 10, warmup: 2 });
  const times = {};
  for (const format of ['html', 'md', 'junit', 'sarif']) {
    times[`render ${format}`] = ctx.hyperfineLike(
      node,
      [bin, 'report', 'render', file, '--format', format, '-o', join(dir, `out.${format}`)],
      opts,
    ).medianMs;
  }
  times.verify = ctx.hyperfineLike(node, [bin, 'report', 'verify', file], opts).medianMs;
  const baseline2 = ctx.hyperfineLike(node, ['-e', '0'], { runs: 10, warmup: 2 });
  const baseMs = ctx.median([...baseline1.samples, ...baseline2.samples]);
  const total = Object.values(times).reduce((a, b) => a + b, 0);
  ctx.log(
    `node -e 0 ${baseMs.toFixed(1)} ms; ${Object.entries(times)
      .map(([k, v]) => `${k} ${v.toFixed(0)} ms`)
      .join('; ')}`,
  );
  return [
    { metric: 'node -e 0 (baseline)', value: baseMs, unit: 'ms' },
    { metric: 'report.json size (500 gates, 10k findings)', value: text.length / 1e6, unit: 'MB' },
    ...Object.entries(times).flatMap(([k, v]) => [
      { metric: `${k}`, value: v, unit: 'ms' },
      { metric: `${k} / node -e 0`, value: v / baseMs, unit: 'x', target: { op: '<=', value: 5 } },
    ]),
    {
      metric: 'render html+md+junit+sarif + verify / (5 × node -e 0)',
      value: total / (5 * baseMs),
      unit: 'x',
      target: { op: '<=', value: 5 },
    },
  ];
}
