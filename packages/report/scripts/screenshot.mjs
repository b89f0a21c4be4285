// Renders a realistic report (evidence files parsed by the real parsers) and saves a
// screenshot of its HTML, taken in Debian Chromium, to docs/images/report.png.
import { mkdtemp, mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import {
  buildReport,
  evaluateGate,
  generateSigningKeyPair,
  outcome,
  render,
  renderHistoryHtml,
  sealReport,
  skippedResult,
} from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'test', 'fixtures');
const images = join(here, '..', '..', '..', 'docs', 'images');
const target = join(images, 'report.png');
const work = await mkdtemp(join(tmpdir(), 'gatehouse-shot-'));

const g = (id, over) => ({
  id,
  kind: 'custom',
  run: `npm run ${id}`,
  description: null,
  needs: [],
  image: 'node:22.11-bookworm-slim',
  env: {},
  secrets: [],
  inputs: [],
  outputs: [],
  timeoutMs: 600_000,
  mode: 'blocking',
  evidence: [{ format: 'exitcode', path: null }],
  policy: {},
  tools: {},
  ...over,
});
const gates = [
  g('lint', {
    kind: 'lint',
    evidence: [{ format: 'eslint', path: 'eslint.json' }],
    policy: { max_errors: 0, max_warnings: 10 },
  }),
  g('unit', {
    kind: 'unit-test',
    evidence: [
      { format: 'junit', path: 'junit.xml' },
      { format: 'istanbul', path: 'coverage-summary.json' },
    ],
    policy: { min_coverage: { lines: 80 } },
  }),
  g('sonar', {
    kind: 'sonarqube',
    mode: 'advisory',
    evidence: [{ format: 'sonarqube', path: 'qualitygate.json' }],
  }),
  g('build', { kind: 'build' }),
  g('a11y', {
    kind: 'a11y-test',
    needs: ['build'],
    evidence: [{ format: 'pa11y', path: 'pa11y.json' }],
    policy: { max_violations: { critical: 0, serious: 0 } },
  }),
  g('e2e', { needs: ['a11y'] }),
];
const pipeline = {
  version: 1,
  name: 'storefront',
  configPath: join(work, 'gatehouse.yml'),
  rootDir: '/app',
  configSha256: 'c0ffee'.padEnd(64, '0'),
  image: 'node:22.11-bookworm-slim',
  workdir: '/app',
  setup: null,
  gates,
  release: null,
  targets: {},
  plugins: [],
};

const evidence = {
  lint: {
    'eslint.json': JSON.stringify([
      {
        filePath: '/app/src/cart.js',
        messages: [
          {
            ruleId: 'no-unused-vars',
            severity: 1,
            message: "'discount' is assigned a value but never used.",
            line: 14,
            column: 9,
          },
          {
            ruleId: 'eqeqeq',
            severity: 1,
            message: "Expected '===' and instead saw '=='.",
            line: 31,
            column: 17,
          },
        ],
      },
      { filePath: '/app/src/checkout.js', messages: [] },
    ]),
  },
  unit: {
    'junit.xml': join(fixtures, 'junit', 'jest-junit.xml'),
    'coverage-summary.json': JSON.stringify({
      total: {
        lines: { total: 420, covered: 371 },
        statements: { total: 450, covered: 392 },
        functions: { total: 80, covered: 70 },
        branches: { total: 120, covered: 95 },
      },
    }),
  },
  sonar: { 'qualitygate.json': join(fixtures, 'sonar', 'qualitygate-error.json') },
  a11y: { 'pa11y.json': join(fixtures, 'pa11y', 'pa11y-ci.json') },
};
const results = [];
const start = Date.parse('2026-03-02T09:15:00Z');
for (const [i, gate] of gates.entries()) {
  if (gate.id === 'e2e') {
    results.push(skippedResult(gate, 'a11y did not pass', 'local'));
    continue;
  }
  const out = join(work, gate.id);
  await mkdir(out, { recursive: true });
  for (const [name, content] of Object.entries(evidence[gate.id] ?? {})) {
    if (content.startsWith('/')) await copyFile(content, join(out, name));
    else await writeFile(join(out, name), content);
  }
  const log = join(work, `${gate.id}.log`);
  await writeFile(
    log,
    `> ${gate.run}\n${gate.id === 'unit' ? 'FAIL src/cart.test.js\n  ● cart › totals with tax\n    Expected: 107\n    Received: 100\n' : 'done\n'}`,
  );
  const text = await readFile(log);
  // After setup (18.4 s); a11y waits for build, then for a free slot.
  const startedAt = new Date(start + [18_500, 18_500, 18_600, 18_600, 33_000][i]).toISOString();
  const durationMs = [3200, 41800, 65400, 12900, 23100][i];
  results.push(
    await evaluateGate(
      gate,
      outcome(gate, {
        outDir: out,
        exitCode: gate.id === 'unit' ? 1 : 0,
        startedAt,
        finishedAt: new Date(Date.parse(startedAt) + durationMs).toISOString(),
        durationMs,
        log: {
          path: `.gatehouse/runs/01JNQ7Z6V4V8M2X0R6T3W9K5QH/${gate.id}.log`,
          sha256: (await import('node:crypto')).createHash('sha256').update(text).digest('hex'),
          bytes: text.length,
          truncated: false,
        },
      }),
      { rootDir: '/app' },
    ),
  );
  results.at(-1).log.path = `.gatehouse/runs/01JNQ7Z6V4V8M2X0R6T3W9K5QH/${gate.id}.log`;
}
const report = await buildReport({
  pipeline,
  gates: results,
  executor: 'local',
  startedAt: new Date(start).toISOString(),
  finishedAt: new Date(start + 85_000).toISOString(),
  setup: {
    status: 'passed',
    startedAt: new Date(start + 200).toISOString(),
    finishedAt: new Date(start + 18_400).toISOString(),
    durationMs: 18_200,
  },
  runId: '01JNQ7Z6V4V8M2X0R6T3W9K5QH',
  rootDir: work,
  gatehouseVersion: '0.1.0',
  env: {
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/storefront',
    GITHUB_RUN_ID: '8812345',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'dev-ana',
  },
});
report.git = { commit: '4f1c2d9e8b7a6f5e4d3c2b1a09f8e7d6c5b4a392', branch: 'main', dirty: false };
const sealed = sealReport(report, { key: generateSigningKeyPair().privateKeyPem });
const html = render(sealed.report, 'html');

/** Fourteen runs of the report above: the durations drift, lint's findings fall, one run fails. */
function historyPage(base) {
  const runs = [];
  for (let i = 0; i < 14; i++) {
    const r = JSON.parse(JSON.stringify(base));
    r.runId = `01JNQ7Z6V4V8M2X0R6T3W9K5${String(i).padStart(2, '0')}`;
    const failed = i === 9 || i === 13;
    r.verdict.status = failed ? 'failed' : 'passed';
    for (const [j, g] of r.gates.entries()) {
      if (g.status === 'skipped' && !failed)
        Object.assign(g, { status: 'passed', durationMs: 9000 });
      if (g.status === 'failed' && !failed) g.status = 'passed';
      g.durationMs = Math.round(g.durationMs * (0.8 + ((i * 7 + j * 3) % 10) / 20 + i / 40));
      if (g.id === 'lint') g.evidence.findingsTotal = Math.max(0, 9 - i + (i === 13 ? 4 : 0));
      if (g.id === 'a11y') g.evidence.findingsTotal = i < 6 ? 3 : i < 12 ? 1 : 2;
    }
    runs.push({
      runId: r.runId,
      at: new Date(Date.parse('2026-02-17T09:00:00Z') + i * 86_400_000).toISOString(),
      reportDigest: 'a'.repeat(64),
      report: i === 4 ? null : r,
      problem: i === 4 ? 'report missing' : null,
    });
  }
  return renderHistoryHtml(runs, {
    title: 'storefront',
    ledgerStatus: ['14 runs, chain intact, head pointer matches'],
    intact: true,
  });
}

const browser = await chromium.launch({
  executablePath: process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({
    viewport: { width: 1200, height: 1500 },
    deviceScaleFactor: 1,
  });
  await page.setContent(html, { waitUntil: 'load' });
  await mkdir(dirname(target), { recursive: true });
  await page.screenshot({ path: target, fullPage: false });
  await page.locator('figure.timeline').screenshot({ path: join(images, 'report-timeline.png') });
  await page.setContent(historyPage(report), { waitUntil: 'load' });
  await page.screenshot({ path: join(images, 'history.png'), fullPage: true });
} finally {
  await browser.close();
  await rm(work, { recursive: true, force: true });
}
for (const f of ['report.png', 'report-timeline.png', 'history.png']) {
  const size = (await readFile(join(images, f))).length;
  console.log(`wrote ${join(images, f)} (${size} bytes)`);
}
