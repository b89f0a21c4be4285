/**
 * End to end on the storefront example with the local executor: real ESLint, Vitest,
 * axe-core in Chromium, the real build. Each "break it" case changes one thing in a
 * copy and checks that exactly the right gate fails, with the right evidence.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '@gatehouse-ci/test-utils';
import type { GateResult, RunReport } from '@gatehouse-ci/core';
import { copyStorefront, edit, gateOf, gatehouse, readReport, show, statuses } from './helpers.js';

const chromiumPresent = existsSync('/usr/bin/chromium');
if (process.env.CI === 'true' && !chromiumPresent) {
  throw new Error('CI=true and /usr/bin/chromium is missing: the end-to-end tests need it');
}

describe.skipIf(!chromiumPresent)('storefront, local executor', () => {
  let dir: string;
  let first: RunReport;

  beforeAll(async () => {
    dir = await copyStorefront();
    const r = gatehouse(['run'], { cwd: dir });
    expect(r.status, show(r)).toBe(0);
    first = await readReport(dir);
  }, 600_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every gate and collects evidence from each real tool', () => {
    expect(first.verdict.status).toBe('passed');
    expect(first.executor).toBe('local');
    expect(statuses(first)).toEqual({
      lint: 'passed',
      unit: 'passed',
      build: 'passed',
      a11y: 'passed',
      sonar: 'skipped',
    });
    const lint = gateOf(first, 'lint');
    expect(lint.evidence.lint).toMatchObject({ errors: 0 });
    expect(lint.thresholds.find((t) => t.name === 'max_errors')).toMatchObject({
      limit: 0,
      measured: 0,
      ok: true,
    });

    const unit = gateOf(first, 'unit');
    expect(unit.evidence.tests?.failed).toBe(0);
    expect(unit.evidence.tests?.passed).toBeGreaterThanOrEqual(13);
    expect(unit.evidence.coverage?.lines).toBeGreaterThan(80);

    const a11y = gateOf(first, 'a11y');
    expect(a11y.evidence.a11y).toMatchObject({ pages: 2, violations: 0 });

    const sonar = gateOf(first, 'sonar');
    expect(sonar.reason).toMatch(/SONAR_HOST_URL/);
    expect(sonar.mode).toBe('advisory');
  });

  it('writes a report that verifies and renders in Chromium', async () => {
    const v = gatehouse(['report', 'verify'], { cwd: dir });
    expect(v.status, show(v)).toBe(0);
    const html = join(dir, '.gatehouse/report/report.html');
    expect(existsSync(html)).toBe(true);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`file://${html}`);
      const text = await page.locator('body').innerText();
      expect(text).toMatch(/passed/i);
      for (const id of ['lint', 'unit', 'build', 'a11y', 'sonar']) expect(text).toContain(id);
      const png = await page.screenshot({ fullPage: true });
      expect(png.byteLength).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });

  it('replays every gate from the cache when nothing changed, and explains why', async () => {
    const r = gatehouse(['run', '--explain'], { cwd: dir });
    expect(r.status, show(r)).toBe(0);
    const again = await readReport(dir);
    expect(statuses(again)).toEqual({
      lint: 'cached',
      unit: 'cached',
      build: 'cached',
      a11y: 'cached',
      sonar: 'skipped',
    });
    for (const id of ['lint', 'unit', 'build', 'a11y']) {
      expect(gateOf(again, id).cached?.status).toBe('passed');
    }
    // The cached unit gate keeps the evidence it recorded.
    expect(gateOf(again, 'unit').evidence.tests?.failed).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/cache/i);
  });

  it('reruns only the gates whose inputs changed', async () => {
    const restore = await edit(dir, 'public/style.css', 'color: #1b1b1b;', 'color: #111111;');
    try {
      const r = gatehouse(['run', '--explain'], { cwd: dir });
      expect(r.status, show(r)).toBe(0);
      const rep = await readReport(dir);
      // style.css is an input of build only; a11y needs build, so it reruns too.
      expect(statuses(rep)).toEqual({
        lint: 'cached',
        unit: 'cached',
        build: 'passed',
        a11y: 'passed',
        sonar: 'skipped',
      });
      expect(r.stdout + r.stderr).toContain('public/style.css');
    } finally {
      await restore();
    }
  });

  /** One deliberate breakage: what to change, which gate must fail, what its evidence must say. */
  interface Breakage {
    name: string;
    file: string;
    from: string;
    to: string;
    gate: string;
    check(g: GateResult): void;
  }
  const breakages: Breakage[] = [
    {
      name: 'a lint error fails exactly the lint gate, with the rule in the evidence',
      file: 'src/catalog.js',
      from: 'export function findProduct',
      to: 'const unusedThing = 1;\nexport function findProduct',
      gate: 'lint',
      check: (g) => {
        expect(g.evidence.lint?.errors).toBeGreaterThanOrEqual(1);
        expect(g.evidence.findings.some((f) => f.rule === 'no-unused-vars')).toBe(true);
      },
    },
    {
      name: 'a failing test fails exactly the unit gate, naming the test',
      file: 'test/cart.test.js',
      from: "toBe('€14.50')",
      to: "toBe('€14.51')",
      gate: 'unit',
      check: (g) => {
        expect(g.evidence.tests?.failed).toBe(1);
        expect(g.evidence.tests?.failures[0]?.name).toMatch(/formats cents/);
      },
    },
    {
      name: 'an image without alt text fails exactly the a11y gate, by impact',
      file: 'src/pages.js',
      from: 'alt="${escapeHtml(p.name)}" ',
      to: '',
      gate: 'a11y',
      check: (g) => {
        expect(g.evidence.a11y?.violations).toBeGreaterThanOrEqual(1);
        expect(g.evidence.a11y?.byImpact.critical).toBeGreaterThanOrEqual(1);
        expect(g.evidence.findings.some((f) => f.rule === 'image-alt')).toBe(true);
      },
    },
    {
      name: 'coverage below the threshold fails the unit gate by policy',
      file: 'gatehouse.yml',
      from: 'min_coverage: { lines: 80,',
      to: 'min_coverage: { lines: 99.5,',
      gate: 'unit',
      check: (g) => {
        expect(g.exitCode).toBe(0);
        expect(g.evidence.tests?.failed).toBe(0);
        expect(g.thresholds.find((t) => t.name === 'min_coverage.lines')).toMatchObject({
          limit: 99.5,
          ok: false,
        });
      },
    },
  ];

  for (const b of breakages) {
    it(b.name, async () => {
      const restore = await edit(dir, b.file, b.from, b.to);
      try {
        const r = gatehouse(['run'], { cwd: dir });
        expect(r.status, show(r)).toBe(1);
        const rep = await readReport(dir);
        expect(rep.verdict.status).toBe('failed');
        const failed = gateOf(rep, b.gate);
        expect(failed.status).toBe('failed');
        b.check(failed);
        // Nothing else is lost: every other gate still ran (or replayed) and passed.
        for (const g of rep.gates) {
          if (g.id !== b.gate && g.id !== 'sonar')
            expect([g.id, g.status]).toEqual([g.id, expect.stringMatching(/^(passed|cached)$/)]);
        }
      } finally {
        await restore();
      }
    });
  }

  it('runs a gate the way a CI native job does, and the result merges into one report', async () => {
    const results = join(dir, 'gatehouse-results');
    await mkdir(results, { recursive: true });
    for (const id of ['lint', 'unit']) {
      const r = gatehouse(
        ['run', '--only', id, '--no-cache', '--result-file', `gatehouse-results/${id}.json`],
        {
          cwd: dir,
          env: { CI: 'true' },
        },
      );
      expect(r.status, show(r)).toBe(0);
    }
    expect((await readdir(results)).sort()).toEqual(['lint.json', 'unit.json']);
    const m = gatehouse(['report', 'merge', 'gatehouse-results', '-o', 'merged/report.json'], {
      cwd: dir,
    });
    expect(m.status, show(m)).toBe(0);
    const merged = JSON.parse(await readFile(join(dir, 'merged/report.json'), 'utf8')) as RunReport;
    expect(gateOf(merged, 'lint').status).toBe('passed');
    expect(gateOf(merged, 'unit').evidence.tests?.failed).toBe(0);
    // Gates no job reported are listed, never silently dropped.
    expect(gateOf(merged, 'build').status).toBe('skipped');
    expect(gateOf(merged, 'build').reason).toMatch(/no result/);
    const v = gatehouse(['report', 'verify', 'merged/report.json'], { cwd: dir });
    expect(v.status, show(v)).toBe(0);
  });
});
