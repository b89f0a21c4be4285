import { describe, expect, it } from 'vitest';
import { OptionReader } from './option-reader.js';

describe('OptionReader', () => {
  it('keeps fitting values, and says at its path why a value does not fit', () => {
    const r = new OptionReader({ image: 'node:22', cache: 'yes', mode: 'docker', tags: ['a', 1] }, [
      'image',
      'cache',
      'mode',
      'tags',
    ]);
    expect(r.string('image', /^[a-z0-9:]+$/, 'bad image')).toBe('node:22');
    expect(r.bool('cache')).toBeUndefined();
    expect(r.oneOf('mode', ['native', 'docker'], 'bad mode')).toBe('docker');
    expect(
      r.read(
        'tags',
        (v) => (Array.isArray(v) && v.every((t) => typeof t === 'string') ? v : undefined),
        'bad tags',
        'e.g. `[a]`',
      ),
    ).toBeUndefined();
    expect(r.bool('absent')).toBeUndefined();
    expect(r.diagnostics).toEqual([
      {
        code: 'GH_TARGET_OPTIONS',
        severity: 'error',
        message: '`cache` must be `true` or `false`',
        path: 'cache',
        loc: null,
      },
      {
        code: 'GH_TARGET_OPTIONS',
        severity: 'error',
        message: 'bad tags',
        path: 'tags',
        loc: null,
        hint: 'e.g. `[a]`',
      },
    ]);
  });

  it('reads a nested mapping under its path, unknown keys with a "did you mean"', () => {
    const r = new OptionReader({ agent: { lable: 'x', docker: true }, extra: 1 }, ['agent']);
    const agent = r.nested('agent', ['label', 'docker'], 'bad agent');
    expect(agent).toBeDefined();
    expect(agent!.bool('docker')).toBe(true);
    expect(r.nested('extra', [], 'extra must be a mapping')).toBeUndefined();
    expect(r.diagnostics.map((d) => [d.code, d.path, d.message, d.hint])).toEqual([
      ['GH_UNKNOWN_KEY', 'extra', 'unknown option `extra`', 'known options: agent'],
      ['GH_UNKNOWN_KEY', 'agent.lable', 'unknown option `lable`', 'did you mean `label`?'],
      ['GH_TARGET_OPTIONS', 'extra', 'extra must be a mapping', undefined],
    ]);
  });

  it('says a wrong boolean with its full path', () => {
    const r = new OptionReader({ triggers: { workflow_dispatch: 'yes' } }, null);
    r.nested('triggers', ['workflow_dispatch'], 'm')!.bool('workflow_dispatch');
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      '`triggers.workflow_dispatch` must be `true` or `false`',
    ]);
  });
});
