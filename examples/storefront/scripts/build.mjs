// Renders the site into dist/: every page plus the static files in public/.
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allPages } from '../src/pages.js';
import { PRODUCTS } from '../src/catalog.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
await rm(dist, { recursive: true, force: true });
await mkdir(join(dist, 'img'), { recursive: true });
await cp(join(root, 'public'), dist, { recursive: true });
for (const [name, html] of Object.entries(allPages())) await writeFile(join(dist, name), html);
const colours = ['#2f5d8a', '#7a3e65', '#3f6e3a', '#8a5a2f'];
for (const [i, p] of PRODUCTS.entries()) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120"><rect width="120" height="120" rx="12" fill="${colours[i % colours.length]}"/></svg>\n`;
  await writeFile(join(dist, 'img', `${p.sku}.svg`), svg);
}
process.stdout.write(`built ${Object.keys(allPages()).length} pages into dist/\n`);
