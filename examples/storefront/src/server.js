import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { priceCart } from './cart.js';

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** Maps a URL path to a file under root, or null when it would leave root. */
export function resolveStatic(root, urlPath) {
  const clean = normalize(decodeURIComponent(urlPath.split('?')[0])).replace(/^([/\\])+/, '');
  const file = resolve(root, clean === '' ? 'index.html' : clean);
  return file.startsWith(resolve(root)) ? file : null;
}

/** Creates the shop's HTTP server serving `root` (the built site) and the cart API. */
export function createShopServer(root) {
  return createServer(async (req, res) => {
    try {
      if (req.method === 'POST' && req.url === '/api/cart') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const { lines, coupon } = JSON.parse(body);
        const priced = priceCart(lines, { coupon });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(priced));
        return;
      }
      const file = resolveStatic(root, req.url ?? '/');
      if (!file) {
        res.writeHead(403).end('forbidden');
        return;
      }
      const data = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(data);
    } catch (err) {
      const notFound = err && err.code === 'ENOENT';
      res.writeHead(notFound ? 404 : 400, { 'content-type': 'text/plain' });
      res.end(notFound ? 'not found' : String(err.message));
    }
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8080);
  const root = join(fileURLToPath(new URL('..', import.meta.url)), 'dist');
  createShopServer(root).listen(port, () => {
    process.stdout.write(`storefront listening on http://localhost:${port}\n`);
  });
}
