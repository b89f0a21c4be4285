import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../src/index.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    [90, 90_000],
    [0.5, 500],
  ] as const)('%s -> %d ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each([
    '',
    '10',
    '1.5m',
    '-1s',
    '0s',
    '10 m',
    '1d',
    'abc',
    0,
    -3,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ] as const)('refuses %s', (input) => {
    expect(() => parseDuration(input as string | number)).toThrow(
      expect.objectContaining({ code: 'GH_DURATION_INVALID' }),
    );
  });

  it('formats back', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});
