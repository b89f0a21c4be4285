import type { GateResult, RunReport } from '@gatehouse/core';

/** A small but complete report used by renderer and integrity tests. */
export function sampleReport(): RunReport {
  const base = {
    commandSha256: 'a'.repeat(64),
    image: null,
    startedAt: '2026-01-01T10:00:00.000Z',
    finishedAt: '2026-01-01T10:00:05.000Z',
    durationMs: 5000,
    executor: 'local',
    cached: null,
    log: { path: '.gatehouse/runs/R/lint.log', sha256: 'b'.repeat(64), bytes: 120, truncated: false },
    thresholds: [],
  };
  const gates: GateResult[] = [
    {
      ...base,
      id: 'lint',
      kind: 'lint',
      mode: 'blocking',
      status: 'failed',
      reason: 'max_errors: measured 1, limit ≤ 0',
      exitCode: 1,
      logTail: 'src/a.js\n  1:7  error  <script>alert("x")</script> & friends\n',
      evidence: {
        files: [{ format: 'eslint', path: 'eslint.json', sha256: 'c'.repeat(64) }],
        lint: { errors: 1, warnings: 1, files: 1, rules: [{ rule: 'no-undef', count: 1 }, { rule: 'eqeqeq', count: 1 }] },
        findings: [
          { fingerprint: 'lint:1', tool: 'eslint', rule: 'no-undef', level: 'error', message: "'x' is not defined. <b>|pipe|</b>", file: 'src/a.js', line: 1, column: 7 },
          { fingerprint: 'lint:2', tool: 'eslint', rule: 'eqeqeq', level: 'warning', message: "Expected '===' and instead saw '=='.", file: 'src/a.js', line: 3, column: 12 },
        ],
        findingsTotal: 2,
      },
      thresholds: [{ name: 'max_errors', limit: 0, measured: 1, ok: false }],
    },
    {
      ...base,
      id: 'unit',
      kind: 'unit-test',
      mode: 'blocking',
      status: 'passed',
      reason: null,
      exitCode: 0,
      evidence: {
        files: [{ format: 'junit', path: 'junit.xml', sha256: 'd'.repeat(64) }],
        tests: { total: 12, passed: 11, failed: 0, skipped: 1, failures: [] },
        coverage: { lines: 91.5, branches: 80, functions: 100, statements: 90.25 },
        findings: [],
        findingsTotal: 0,
      },
      thresholds: [
        { name: 'max_failed', limit: 0, measured: 0, ok: true },
        { name: 'min_coverage.lines', limit: 80, measured: 91.5, ok: true },
      ],
    },
    {
      ...base,
      id: 'a11y',
      kind: 'a11y-test',
      mode: 'advisory',
      status: 'failed',
      reason: 'max_violations: measured 2, limit ≤ 0',
      exitCode: 0,
      evidence: {
        files: [{ format: 'axe', path: 'axe.json', sha256: 'e'.repeat(64) }],
        a11y: { pages: 1, violations: 2, byImpact: { critical: 1, serious: 1, moderate: 0, minor: 0, unknown: 0 } },
        findings: [
          { fingerprint: 'a11y:1', tool: 'axe-core', rule: 'image-alt', level: 'error', message: 'Images must have alternate text', page: 'http://localhost/index.html', selector: 'img', impact: 'critical' },
          { fingerprint: 'a11y:2', tool: 'axe-core', rule: 'color-contrast', level: 'error', message: 'Elements must meet minimum color contrast ratio thresholds', page: 'http://localhost/index.html', selector: '.faint', impact: 'serious' },
        ],
        findingsTotal: 2,
      },
      thresholds: [{ name: 'max_violations', limit: 0, measured: 2, ok: false }],
    },
    {
      ...base,
      id: 'sonar',
      kind: 'sonarqube',
      mode: 'advisory',
      status: 'cached',
      reason: null,
      exitCode: 0,
      cached: { status: 'passed', key: 'f'.repeat(64), runId: '01JZZZZZZZZZZZZZZZZZZZZZZZ' },
      evidence: { files: [{ format: 'sonarqube', path: 'qg.json', sha256: '1'.repeat(64) }], sonar: { status: 'OK', conditions: [{ metric: 'new_coverage', status: 'OK', actual: '85.0', threshold: 'LT 80' }] }, findings: [], findingsTotal: 0 },
    },
    {
      ...base,
      id: 'e2e',
      kind: 'custom',
      mode: 'blocking',
      status: 'skipped',
      reason: 'lint did not pass',
      exitCode: null,
      durationMs: 0,
      log: { path: null, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', bytes: 0, truncated: false },
      evidence: { files: [], findings: [], findingsTotal: 0 },
    },
  ];
  return {
    schemaVersion: 1,
    runId: '01KAAAAAAAAAAAAAAAAAAAAAAA',
    gatehouseVersion: '0.1.0',
    pipeline: 'storefront',
    configSha256: '9'.repeat(64),
    git: { commit: '0123456789abcdef0123456789abcdef01234567', branch: 'main', dirty: false },
    context: { ci: { provider: 'github', buildUrl: 'https://github.com/o/r/actions/runs/1', runId: '1.1' }, user: 'ann', host: 'runner-1' },
    startedAt: '2026-01-01T10:00:00.000Z',
    finishedAt: '2026-01-01T10:00:30.000Z',
    executor: 'local',
    verdict: { status: 'failed', reasons: ['blocking gate lint failed: max_errors: measured 1, limit ≤ 0', 'warning: advisory gate a11y failed'], policy: 'all-blocking-gates-pass' },
    gates,
  };
}
