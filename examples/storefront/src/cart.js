import { findProduct } from './catalog.js';

/** Free shipping from this subtotal (cents). */
export const FREE_SHIPPING_FROM = 5000;
/** Flat shipping fee below that (cents). */
export const SHIPPING_FEE = 495;

/**
 * Prices a cart: lines of { sku, quantity }.
 * Throws on unknown products, bad quantities or insufficient stock.
 */
export function priceCart(lines, { coupon } = {}) {
  const priced = lines.map(({ sku, quantity }) => {
    const product = findProduct(sku);
    if (!product) throw new Error(`unknown product ${sku}`);
    if (!Number.isInteger(quantity) || quantity < 1) throw new Error(`bad quantity for ${sku}`);
    if (quantity > product.stock) throw new Error(`only ${product.stock} left of ${sku}`);
    return { sku, name: product.name, quantity, totalCents: product.priceCents * quantity };
  });
  const subtotal = priced.reduce((sum, l) => sum + l.totalCents, 0);
  const discount = couponDiscount(coupon, subtotal);
  const shipping = subtotal - discount >= FREE_SHIPPING_FROM || subtotal === 0 ? 0 : SHIPPING_FEE;
  return { lines: priced, subtotal, discount, shipping, total: subtotal - discount + shipping };
}

/** WELCOME10 takes 10% off; SAVE5 takes 5.00 off orders of 25.00 or more. */
export function couponDiscount(coupon, subtotal) {
  switch (coupon) {
    case undefined:
    case '':
      return 0;
    case 'WELCOME10':
      return Math.round(subtotal * 0.1);
    case 'SAVE5':
      return subtotal >= 2500 ? 500 : 0;
    default:
      throw new Error(`unknown coupon ${coupon}`);
  }
}

/** Formats cents as a price, e.g. 1450 -> "€14.50". */
export function formatPrice(cents) {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}€${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
