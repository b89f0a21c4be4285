import { describe, expect, it } from 'vitest';
import { couponDiscount, formatPrice, priceCart, SHIPPING_FEE } from '../src/cart.js';

describe('priceCart', () => {
  it('adds line totals and charges shipping below the free-shipping limit', () => {
    const cart = priceCart([{ sku: 'mug-01', quantity: 2 }]);
    expect(cart.subtotal).toBe(2900);
    expect(cart.shipping).toBe(SHIPPING_FEE);
    expect(cart.total).toBe(2900 + SHIPPING_FEE);
  });

  it('ships for free from 50.00 after discounts', () => {
    const cart = priceCart([{ sku: 'tee-02', quantity: 3 }]);
    expect(cart.subtotal).toBe(7200);
    expect(cart.shipping).toBe(0);
  });

  it('charges nothing for an empty cart', () => {
    expect(priceCart([]).total).toBe(0);
  });

  it('refuses unknown products, bad quantities and missing stock', () => {
    expect(() => priceCart([{ sku: 'nope', quantity: 1 }])).toThrow(/unknown product/);
    expect(() => priceCart([{ sku: 'mug-01', quantity: 0 }])).toThrow(/bad quantity/);
    expect(() => priceCart([{ sku: 'mug-01', quantity: 1.5 }])).toThrow(/bad quantity/);
    expect(() => priceCart([{ sku: 'bag-03', quantity: 1 }])).toThrow(/only 0 left/);
  });

  it('applies coupons', () => {
    expect(priceCart([{ sku: 'pen-04', quantity: 10 }], { coupon: 'WELCOME10' }).discount).toBe(650);
  });
});

describe('couponDiscount', () => {
  it('knows its coupons', () => {
    expect(couponDiscount(undefined, 1000)).toBe(0);
    expect(couponDiscount('', 1000)).toBe(0);
    expect(couponDiscount('SAVE5', 2500)).toBe(500);
    expect(couponDiscount('SAVE5', 2499)).toBe(0);
    expect(() => couponDiscount('FREE', 100)).toThrow(/unknown coupon/);
  });
});

describe('formatPrice', () => {
  it('formats cents', () => {
    expect(formatPrice(1450)).toBe('€14.50');
    expect(formatPrice(5)).toBe('€0.05');
    expect(formatPrice(-250)).toBe('-€2.50');
  });
});
