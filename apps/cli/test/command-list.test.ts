import { describe, expect, it } from 'vitest';
import { commands } from '../src/commands/index.js';

describe('the command list', () => {
  it('each lazy entry loads the command it is named after', async () => {
    const names = commands.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of commands) {
      const cmd = 'load' in entry ? await entry.load() : entry;
      expect(cmd.name).toBe(entry.name);
      expect(typeof cmd.run).toBe('function');
      expect(cmd.summary.length).toBeGreaterThan(0);
    }
  });
});
