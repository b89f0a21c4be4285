import { describe, expect, it } from 'vitest';
import { unmetCondition } from './when.js';

describe('unmetCondition', () => {
  it('holds for gates without a condition', () => {
    expect(unmetCondition({}, {})).toBeNull();
  });
  it('needs every variable set and non-empty', () => {
    const gate = { when: { env: ['A', 'B'] } };
    expect(unmetCondition(gate, { A: '1', B: 'x' })).toBeNull();
    expect(unmetCondition(gate, { A: '1' })).toBe('`B` is not set (when.env)');
    expect(unmetCondition(gate, { A: '', B: '' })).toBe('`A`, `B` are not set (when.env)');
  });
});
