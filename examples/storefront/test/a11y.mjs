// Accessibility test: serves dist/, opens every page in Chromium and runs axe-core on it.
// Writes the axe results (an array, one entry per page) to $GATEHOUSE_OUT/axe.json and
// exits 1 when any violation is found.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { createShopServer } from '../src/server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.env.GATEHOUSE_OUT ?? join(root, 'reports');
await mkdir(out, { recursive: true });
const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const pages = ['/', '/about.html'];

const server = createShopServer(join(root, 'dist'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results = [];
try {
  for (const path of pages) {
    const page = await browser.newPage();
    await page.goto(base + path);
    await page.addScriptTag({ content: axeSource });
    results.push(await page.evaluate(() => globalThis.axe.run(globalThis.document, { resultTypes: ['violations'] })));
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
await writeFile(join(out, 'axe.json'), JSON.stringify(results, null, 2));
const violations = results.reduce((n, r) => n + r.violations.length, 0);
process.stdout.write(`axe: ${pages.length} pages, ${violations} violations\n`);
for (const r of results) for (const v of r.violations) process.stdout.write(`  ${r.url} ${v.id} (${v.impact}): ${v.help}\n`);
process.exitCode = violations === 0 ? 0 : 1;
