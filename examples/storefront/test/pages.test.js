import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allPages, escapeHtml } from '../src/pages.js';
import { createShopServer, resolveStatic } from '../src/server.js';

describe('pages', () => {
  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('renders every page with a language, a title and one h1', () => {
    for (const html of Object.values(allPages())) {
      expect(html).toContain('<html lang="en">');
      expect(html).toMatch(/<title>[^<]+<\/title>/);
      expect(html.match(/<h1>/g)).toHaveLength(1);
    }
  });
});

describe('server', () => {
  let root;
  let server;
  let base;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'storefront-'));
    await writeFile(join(root, 'index.html'), '<h1>hi</h1>');
    server = createShopServer(root);
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${server.address().port}`;
  });
  afterAll(async () => {
    server.close();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps static paths inside the root', () => {
    expect(resolveStatic('/srv', '/../etc/passwd')).toBe('/srv/etc/passwd');
    expect(resolveStatic('/srv', '/')).toBe('/srv/index.html');
  });

  it('serves pages and 404s', async () => {
    expect(await (await fetch(`${base}/`)).text()).toBe('<h1>hi</h1>');
    expect((await fetch(`${base}/missing.html`)).status).toBe(404);
  });

  it('prices a cart over the API', async () => {
    const res = await fetch(`${base}/api/cart`, {
      method: 'POST',
      body: JSON.stringify({ lines: [{ sku: 'pen-04', quantity: 2 }] }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).subtotal).toBe(1300);
  });

  it('answers 400 for a bad cart', async () => {
    const res = await fetch(`${base}/api/cart`, { method: 'POST', body: '{"lines":[{"sku":"x","quantity":1}]}' });
    expect(res.status).toBe(400);
  });
});
