/** The shop's products. Prices are in cents to keep arithmetic exact. */
export const PRODUCTS = [
  { sku: 'mug-01', name: 'Enamel mug', priceCents: 1450, stock: 12 },
  { sku: 'tee-02', name: 'Organic cotton tee', priceCents: 2400, stock: 5 },
  { sku: 'bag-03', name: 'Canvas tote bag', priceCents: 1800, stock: 0 },
  { sku: 'pen-04', name: 'Refillable pen', priceCents: 650, stock: 40 },
];

/** Finds a product by SKU, or undefined. */
export function findProduct(sku) {
  return PRODUCTS.find((p) => p.sku === sku);
}
