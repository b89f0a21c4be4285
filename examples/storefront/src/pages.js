import { PRODUCTS } from './catalog.js';
import { formatPrice } from './cart.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text) {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function layout(title, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Storefront</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header><a class="brand" href="/">Storefront</a>
<nav aria-label="Main"><ul><li><a href="/">Products</a></li><li><a href="/about.html">About</a></li></ul></nav>
</header>
<main>
${body}
</main>
<footer><p>Storefront example shop</p></footer>
</body>
</html>
`;
}

/** The product list page. */
export function productsPage() {
  const items = PRODUCTS.map(
    (p) => `<li class="product">
<img src="/img/${escapeHtml(p.sku)}.svg" alt="${escapeHtml(p.name)}" width="120" height="120">
<h2>${escapeHtml(p.name)}</h2>
<p class="price">${formatPrice(p.priceCents)}</p>
<p>${p.stock > 0 ? `${p.stock} in stock` : 'Sold out'}</p>
</li>`,
  ).join('\n');
  return layout('Products', `<h1>Products</h1>\n<ul class="products">\n${items}\n</ul>`);
}

/** The about page. */
export function aboutPage() {
  return layout(
    'About',
    `<h1>About us</h1>
<p>We sell a few well-made things and ship them within two days.</p>
<p>Orders from ${formatPrice(5000)} ship for free.</p>`,
  );
}

/** Every page of the site: path -> HTML. */
export function allPages() {
  return { 'index.html': productsPage(), 'about.html': aboutPage() };
}
