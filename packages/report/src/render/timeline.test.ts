import { describe, expect, it } from 'vitest';
import { requireChromium } from '@gatehouse-ci/test-utils';
import { expectAccessibleAndSelfContained, inChromium } from '../../test/chromium.js';
import { sealReport } from '../integrity.js';
import { sampleReport } from '../../test/sample.js';
import { renderHtml } from './html.js';
import { renderTimelineSvg, timelineOf } from './timeline.js';

describe('timeline', () => {
  it('has setup and each gate, queued time from when its needs finished, and the critical path', () => {
    const t = timelineOf(sampleReport());
    expect(t.origin).toBe('2026-01-01T10:00:00.000Z');
    const row = (label: string) => t.rows.find((r) => r.label === label)!;
    expect(row('setup')).toMatchObject({ kind: 'setup', startAt: 0, endAt: 2000 });
    expect(row('lint')).toMatchObject({ readyAt: 2000, startAt: 2000, endAt: 7000 });
    // a11y needs unit (ended at 12 s) and started at 14 s: queued for 2 s.
    expect(row('a11y')).toMatchObject({ readyAt: 12_000, startAt: 14_000, endAt: 20_000 });
    expect(row('sonar')).toMatchObject({ cached: true, startAt: null, readyAt: 2000 });
    expect(row('e2e')).toMatchObject({ status: 'skipped', readyAt: null, startAt: null });
    expect(t.criticalPath).toEqual(['setup', 'unit', 'a11y']);
    expect(t.rows.filter((r) => r.critical).map((r) => r.label)).toEqual(['setup', 'unit', 'a11y']);
  });

  it('tells setup from a gate called setup', () => {
    const r = sampleReport();
    r.gates[1]!.id = 'setup';
    r.gates[2]!.needs = ['setup'];
    const t = timelineOf(r);
    expect(t.rows.filter((x) => x.label === 'setup').map((x) => x.kind)).toEqual(['setup', 'gate']);
    expect(t.criticalPath).toEqual(['setup', 'setup', 'a11y']);
    expect(t.rows.filter((x) => x.critical).length).toBe(3);
  });

  it('draws a report without setup, needs or any gate that ran', () => {
    const r = sampleReport();
    delete r.setup;
    for (const g of r.gates) {
      delete g.needs;
      g.status = 'skipped';
    }
    const t = timelineOf(r);
    expect(t.criticalPath).toEqual([]);
    expect(renderTimelineSvg(r)).toMatch(/^<svg[^>]*role="img"[\s\S]*<\/svg>$/);
  });

  it('is plain SVG: no script, no link, no external reference; labels escaped', () => {
    const r = sampleReport();
    r.gates[0]!.id = 'x<script>alert(1)</script>';
    const svg = renderTimelineSvg(r);
    expect(svg).not.toMatch(/<script|href=|xlink|javascript:|@import|url\(/i);
    expect(svg).toContain('x&#60;script&#62;');
  });
});

describe.skipIf(!requireChromium('timeline in Chromium'))('timeline in Chromium', () => {
  it('renders bars for each row, with zero axe violations, on screen and in print', async () => {
    const html = renderHtml(sealReport(sampleReport()).report);
    await inChromium(html, async (page, requests) => {
      const svg = page.locator('svg.timeline');
      expect(await svg.count()).toBe(1);
      const box = await svg.boundingBox();
      expect(box!.width).toBeGreaterThan(600);
      expect(await page.locator('svg.timeline g.tl-row').count()).toBe(6);
      expect(await page.locator('svg.timeline g.tl-critical').count()).toBe(3);
      await expectAccessibleAndSelfContained(page, requests);
    });
  }, 60_000);
});
