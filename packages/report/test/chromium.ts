/**
 * The HTML pages of the report package in headless Chromium: open one with axe-core at hand,
 * and check what every page must be (no axe violation on screen or in print, a printable PDF,
 * nothing loaded from elsewhere).
 */
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { launchChromium } from '@gatehouse-ci/test-utils';

type Browser = Awaited<ReturnType<typeof launchChromium>>;
export type Page = Awaited<ReturnType<Browser['newPage']>>;

const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

/**
 * Runs `check` on `html` opened in a 1200×900 page of a fresh Chromium, which is closed after.
 * `requests` lists every URL the page asked for; `beforeLoad` runs before the content is set.
 */
export async function inChromium(
  html: string,
  check: (page: Page, requests: string[]) => Promise<void>,
  beforeLoad?: (page: Page) => void,
): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (q) => requests.push(q.url()));
    beforeLoad?.(page);
    await page.setContent(html, { waitUntil: 'load' });
    await check(page, requests);
  } finally {
    await browser.close();
  }
}

/** axe-core's violations on the page as it is now, as `rule (nodes)`. */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof axe !== "undefined"')))
    await page.addScriptTag({ content: axeSource });
  const results = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as {
    violations: Array<{ id: string; nodes: unknown[] }>;
  };
  return results.violations.map((v) => `${v.id} (${v.nodes.length})`);
}

/** The requests that left the page (anything but `about:` and `data:`). */
export function externalRequests(requests: string[]): string[] {
  return requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'));
}

/** No axe violation on screen or in print, a PDF of more than 10 kB, nothing loaded. */
export async function expectAccessibleAndSelfContained(
  page: Page,
  requests: string[],
): Promise<void> {
  for (const media of ['screen', 'print'] as const) {
    await page.emulateMedia({ media });
    expect(await axeViolations(page), media).toEqual([]);
  }
  expect((await page.pdf({ format: 'A4' })).length).toBeGreaterThan(10_000);
  expect(externalRequests(requests)).toEqual([]);
}
