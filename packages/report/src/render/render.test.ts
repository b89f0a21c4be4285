import { XMLParser, XMLValidator } from 'fast-xml-parser';
import fc from 'fast-check';
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';
import { describe, expect, it } from 'vitest';
import { hostileString, requireChromium } from '@gatehouse-ci/test-utils';
import type { RunReport } from '@gatehouse-ci/core';
import { render } from './index.js';
import { renderMarkdown, MARKDOWN_MAX_BYTES } from './markdown.js';
import { sealReport } from '../integrity.js';
import { validateReportSchema } from '../schema.js';
import { sampleReport } from '../../test/sample.js';
import { hugeReport } from '../../test/huge.js';
import { axeViolations, externalRequests, inChromium } from '../../test/chromium.js';

const HOSTILE = [
  '<script>alert(1)</script>',
  ']]>',
  '"\'&',
  '\u0000\u0007\u001b[31m',
  '\uD800 lone',
  '| pipe | `tick` *star* _u_ [l](x)',
  'line1\nline2\r\nline3',
  '${{ secrets.X }}',
  '\u2028\u2029\u0085\uFEFF',
  '😀 astral',
];

function hostileReport(s: string): RunReport {
  const r = sampleReport();
  const g = r.gates[0]!;
  r.pipeline = s;
  r.verdict.reasons.push(s);
  g.reason = s;
  g.logTail = s;
  g.evidence.findings[0] = { ...g.evidence.findings[0]!, message: s, file: s, rule: s };
  r.gates[1]!.evidence.tests!.failures.push({ name: s, suite: s, message: s });
  return r;
}

describe('report schema', () => {
  it('accepts the sample and the sealed sample, rejects edits of its shape', () => {
    expect(validateReportSchema(sampleReport())).toEqual([]);
    expect(validateReportSchema(sealReport(sampleReport()).report)).toEqual([]);
    const r = sampleReport() as unknown as Record<string, unknown>;
    expect(validateReportSchema({ ...r, extra: 1 })).toEqual([
      '/ must NOT have additional properties (extra)',
    ]);
    expect(validateReportSchema({ ...r, schemaVersion: 2 })).toEqual([
      '/schemaVersion must be equal to constant',
    ]);
    const bad = sampleReport();
    (bad.gates[0] as { status: string }).status = 'green';
    expect(validateReportSchema(bad).join('\n')).toMatch(
      /\/gates\/0\/status must be equal to one of the allowed values/,
    );
    const noTime = sampleReport();
    noTime.startedAt = 'yesterday';
    expect(validateReportSchema(noTime)).toEqual([
      expect.stringMatching(/^\/startedAt must match pattern/),
    ]);
  });
});

describe('JSON', () => {
  it('is canonical: sorted keys, no whitespace, stable', () => {
    const a = render(sampleReport(), 'json');
    expect(a).toBe(render(JSON.parse(a) as RunReport, 'json'));
    expect(a.startsWith('{"configSha256":')).toBe(true);
    expect(a).not.toMatch(/\n./);
  });
});

describe('JUnit XML', () => {
  it("one testcase per gate with failure/error/skipped, plus the gates' test suites; parses back", () => {
    const xml = render(sampleReport(), 'junit');
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({
      ignoreAttributes: false,
      isArray: (n) => ['testsuite', 'testcase'].includes(n),
    }).parse(xml) as {
      testsuites: {
        testsuite: Array<{ '@_name': string; testcase?: Array<Record<string, unknown>> }>;
      };
    };
    const [gates, unit] = doc.testsuites.testsuite;
    expect(gates!['@_name']).toBe('gatehouse: storefront');
    const byName = Object.fromEntries(gates!.testcase!.map((c) => [c['@_name'], c]));
    expect(Object.keys(byName)).toEqual(['lint', 'unit', 'a11y', 'sonar', 'e2e']);
    expect(byName.lint!.failure).toBeDefined();
    expect(byName.unit!.failure).toBeUndefined();
    expect(byName.e2e!.skipped).toBeDefined();
    expect(byName.sonar!.failure).toBeUndefined(); // cached pass
    expect(unit!['@_name']).toBe('unit: tests');
  });

  it.each(HOSTILE)('stays well-formed with hostile text %j', (s) => {
    const xml = render(hostileReport(s), 'junit');
    expect(XMLValidator.validate(xml)).toBe(true);
    expect(xml).not.toContain('<script>');
  });

  it('stays well-formed for any string (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(XMLValidator.validate(render(hostileReport(s), 'junit'))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('Markdown', () => {
  it('shows verdict, gate table and details, escaping markup', () => {
    const md = render(hostileReport('<img src=x onerror=alert(1)> | x'), 'md');
    expect(md).toMatch(/^# ❌ Gatehouse /);
    // Outside code spans (which show text literally), no raw HTML from the report survives.
    expect(md.replace(/`[^`]*`/g, '')).not.toContain('<img');
    expect(md).toContain('| &lt;img src=x onerror=alert(1)> \\| x |');
    expect(md).toContain('<details><summary>lint: failed</summary>');
    expect(md).toContain('Full report: ');
  });

  /** GitHub-flavoured Markdown → HTML, raw HTML passed through as GitHub passes its allowed tags. */
  const gfmToHtml = (md: string): string =>
    micromark(md, { extensions: [gfm()], htmlExtensions: [gfmHtml()], allowDangerousHtml: true });
  /** How many of each element the HTML has: user text must not change this (beyond `code`). */
  const shape = (html: string): Record<string, number> => {
    const n: Record<string, number> = {};
    for (const m of html.matchAll(/<([a-z][a-z0-9]*)[\s>/]/gi)) {
      const tag = m[1]!.toLowerCase();
      if (tag !== 'code') n[tag] = (n[tag] ?? 0) + 1;
    }
    return n;
  };
  /**
   * Text of the HTML outside `<code>`, where GitHub would turn `@name` into a mention. A code
   * span ends a text node, so it becomes a space: `@<code>…</code>y` is no mention of `y`.
   */
  const outsideCode = (html: string): string =>
    html.replace(/<code>[\s\S]*?<\/code>/g, ' ').replace(/<[^>]*>/g, '');
  const benign = shape(gfmToHtml(render(hostileReport('plain words'), 'md')));

  it.each([
    ...HOSTILE,
    '@octocat and @org/team, (@x) a@b',
    '# 1. > - + *x* __y__ ~~z~~',
    '` unpaired @ping `` `x`',
    '    indented',
    '\\| \\` \\@x',
    '&amp; &#60; &#x3c; &copy;',
    '![i](x) [r]: /y <b>t</b> <x@y>',
    '$@`y, then $@`y again',
    'ࠀ@true é@x',
  ])('user text %j adds no element, link or mention (GFM parser)', (s) => {
    const html = gfmToHtml(render(hostileReport(s), 'md'));
    expect(shape(html)).toEqual(benign);
    expect(outsideCode(html)).not.toMatch(/(^|[^\w`])@[a-z\d]/i);
  });

  it('any string adds no element, link or mention (GFM parser, property)', () => {
    fc.assert(
      fc.property(hostileString(), (s) => {
        fc.pre(!/www\.|https?:|[\w.+-]@[\w-]+\.|xmpp:|mailto:/i.test(s)); // GFM autolinks bare URLs and addresses as written
        const html = gfmToHtml(render(hostileReport(s), 'md'));
        expect(shape(html)).toEqual(benign);
        expect(outsideCode(html)).not.toMatch(/(^|[^\w`])@[a-z\d]/i);
      }),
      { numRuns: 300 },
    );
  });

  it('numbers, backticks and identifiers read as written', () => {
    const r = sampleReport();
    r.gates[0]!.reason =
      'unknown gate `biuld` in `needs`; max_errors: measured 94.26, limit ≤ 1.5 (see src/a_b.ts)';
    r.verdict.reasons.push('12.5% slower than 2. run; ping @octocat');
    r.gates[0]!.thresholds = [
      { name: 'min_coverage.lines', limit: 94.26, measured: -1.5, ok: false },
    ];
    const md = renderMarkdown(r);
    expect(md).toContain(
      '| unknown gate `biuld` in `needs`; max_errors: measured 94.26, limit ≤ 1.5 (see src/a_b.ts) |',
    );
    expect(md).toContain('- 12.5% slower than 2. run; ping `@octocat`');
    expect(md).toContain('- ❌ min_coverage.lines: measured -1.5, limit 94.26');
    const html = gfmToHtml(md);
    expect(html).toContain(
      '<td>unknown gate <code>biuld</code> in <code>needs</code>; max_errors: measured 94.26, limit ≤ 1.5 (see src/a_b.ts)</td>',
    );
    expect(html).toContain('<li>12.5% slower than 2. run; ping <code>@octocat</code></li>');
    // A number starting a line is not a list item, a `#` not a heading.
    r.verdict.reasons.push('1. not a list', '# not a heading');
    const html2 = gfmToHtml(renderMarkdown(r));
    expect(html2).toContain('<li>1. not a list</li>');
    expect(html2).toContain('<li># not a heading</li>');
  });

  it('a huge report degrades under 1 MiB, says so and points to the full report', () => {
    const report = hugeReport(500, 20_000);
    const md = renderMarkdown(report, { fullReport: 'https://ci.example/artifacts/report.html' });
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(MARKDOWN_MAX_BYTES);
    expect(md).toContain('The summary was shortened to fit');
    expect(md.trimEnd().endsWith('https://ci.example/artifacts/report.html')).toBe(true);
    // Each of the 500 gates is still in the table.
    expect(md.split('\n').filter((l) => l.startsWith('| gate-')).length).toBe(500);
  });

  it('degrades step by step as the limit shrinks, never past it', () => {
    const report = hugeReport(200, 2000);
    const sizes = [400_000, 100_000, 20_000, 3000, 300];
    for (const max of sizes) {
      const md = renderMarkdown(report, { maxBytes: max, fullReport: 'r.html' });
      expect(Buffer.byteLength(md), String(max)).toBeLessThanOrEqual(max);
      expect(md).toContain('r.html');
    }
    expect(renderMarkdown(report, { maxBytes: 20_000 })).toContain('more gates not shown');
  });
});

describe('HTML', () => {
  it('is self-contained and escapes everything', () => {
    for (const s of HOSTILE) {
      const html = render(hostileReport(s), 'html');
      expect(html).not.toContain('<script>');
      expect(html).not.toMatch(/<(img|link|iframe)\b/);
      expect(html).not.toMatch(/src=|url\(/);
    }
    const html = render(sealReport(sampleReport()).report, 'html');
    expect(html.indexOf('Verdict')).toBeLessThan(html.indexOf('Gate details'));
    expect(html).toContain('Report digest');
  });
});

describe.skipIf(!requireChromium('HTML report tests'))('HTML in Chromium', () => {
  it('has zero axe-core violations, loads nothing external, and renders a non-trivial screenshot', async () => {
    const html = render(sealReport(hostileReport('<b>bold?</b> & "quotes"')).report, 'html');
    let dialogs = 0;
    await inChromium(
      html,
      async (page, requests) => {
        expect(await page.title()).toBe('Gatehouse report: <b>bold?</b> & "quotes" — failed');
        expect(await page.locator('h1').textContent()).toBe(
          'Gatehouse report: <b>bold?</b> & "quotes"',
        );
        expect(await page.locator('section.gate').count()).toBe(5);
        expect(await axeViolations(page)).toEqual([]);
        const png = await page.screenshot({ fullPage: true });
        expect(png.length).toBeGreaterThan(50_000);
        await page.emulateMedia({ media: 'print' });
        const pdf = await page.pdf({ format: 'A4' });
        expect(pdf.length).toBeGreaterThan(10_000);
        expect(externalRequests(requests)).toEqual([]);
      },
      (page) =>
        page.on('dialog', (d) => {
          dialogs++;
          void d.dismiss();
        }),
    );
    expect(dialogs).toBe(0);
  }, 60_000);
});

describe.skipIf(!requireChromium('HTML report tests'))('HTML tools in Chromium', () => {
  it("shows each gate's tool versions and where each came from", async () => {
    const report = sampleReport();
    report.gates[0]!.tools = [
      { name: 'node', version: 'v22.12.0', source: 'runtime' },
      { name: 'pnpm', version: '10.34.8', source: 'runtime' },
      { name: 'eslint', version: '9.39.5', source: 'installed' },
      { name: 'sonar-rules', version: '1.2', source: 'config' },
    ];
    const html = render(sealReport(report).report, 'html');
    await inChromium(html, async (page) => {
      const gate = page.locator(`section.gate#gate-${report.gates[0]!.id}`);
      const row = gate
        .locator('dt', { hasText: /^Tools$/ })
        .locator('xpath=following-sibling::dd[1]');
      expect(await row.innerText()).toBe(
        [
          'node v22.12.0 (on the PATH it ran with)',
          'pnpm 10.34.8 (on the PATH it ran with)',
          'eslint 9.39.5 (installed in node_modules)',
          'sonar-rules 1.2 (declared in the config)',
        ].join('\n'),
      );
    });
  }, 60_000);
});
