import { describe, expect, it } from 'vitest';
import { requireChromium } from '@gatehouse-ci/test-utils';
import { expectAccessibleAndSelfContained, inChromium } from '../../test/chromium.js';
import { sampleReport } from '../../test/sample.js';
import { renderHistoryHtml, type HistoryRun } from './history.js';

/** Twelve runs: verdicts alternating by threes, lint slowing down, findings falling; one report missing. */
function runs(): HistoryRun[] {
  return Array.from({ length: 12 }, (_, i) => {
    const r = sampleReport();
    r.runId = `RUN${String(i).padStart(2, '0')}`;
    r.verdict.status = Math.floor(i / 3) % 2 === 0 ? 'passed' : 'failed';
    r.gates[0]!.durationMs = 4000 + i * 500;
    r.gates[0]!.evidence.findingsTotal = 12 - i;
    return {
      runId: r.runId,
      at: `2026-01-${String(i + 1).padStart(2, '0')}T10:00:00.000Z`,
      reportDigest: 'a'.repeat(64),
      report: i === 5 ? null : r,
      problem: i === 5 ? 'report missing' : null,
    };
  });
}

describe('history page', () => {
  it('charts verdicts, durations and findings per gate, with a table of the same numbers', () => {
    const html = renderHistoryHtml(runs(), {
      title: 'shop',
      ledgerStatus: ['12 runs, chain intact, head pointer matches'],
      intact: true,
    });
    expect(html).not.toMatch(/<script|<link|src=|href="http/i);
    expect(html).toContain('<h1>Gatehouse history: shop</h1>');
    expect(html).toContain(
      'Verdicts of 12 runs, oldest first: 6 passed, 5 failed, 1 without a report',
    );
    expect(html).toContain('aria-label="lint: last 9.5s, highest 9.5s, lowest 4.0s over 11 runs"');
    expect(html).toContain('aria-label="lint: last 1, highest 12, lowest 1 over 11 runs"');
    // sonar is cached in every run: no duration point, and no findings chart.
    expect(html).toContain('aria-label="sonar: no values"');
    expect(html).toContain(
      '<td><code>RUN05</code></td><td><span class="muted">report missing</span></td>',
    );
    const table = html.slice(html.indexOf('<table>'));
    expect(table.indexOf('RUN11')).toBeLessThan(table.indexOf('RUN00')); // newest first
  });

  it('escapes every value and says when the ledger is not intact', () => {
    const rs = runs();
    rs[0]!.report!.gates[0]!.id = '<img src=x onerror=alert(1)>';
    rs[1]!.problem = '<b>x</b>';
    const html = renderHistoryHtml(rs, {
      title: '<script>',
      ledgerStatus: ['ledger broken at line 3: <i>'],
      intact: false,
    });
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>');
    expect(html).toContain('NOT intact');
    expect(html).toContain('ledger broken at line 3: &#60;i&#62;');
  });
});

describe.skipIf(!requireChromium('history page in Chromium'))('history page in Chromium', () => {
  it('has zero axe violations on screen and in print, and loads nothing', async () => {
    const html = renderHistoryHtml(runs(), {
      title: 'shop',
      ledgerStatus: ['12 runs, chain intact, head pointer matches'],
      intact: true,
    });
    await inChromium(html, async (page, requests) => {
      expect(await page.locator('svg.chart').count()).toBe(1 + 5 + 2);
      await expectAccessibleAndSelfContained(page, requests);
    });
  }, 60_000);
});
