import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  configSchema,
  DIAGNOSTIC_CODES,
  publishedSchema,
  renderConfigReference,
  renderSchemaFile,
} from '../src/index.js';

const FIX = 'run `pnpm --filter @gatehouse-ci/core gen:schema`';

describe('generated artefacts are up to date', () => {
  it('schema/gatehouse.schema.json', async () => {
    const committed = await readFile(
      new URL('../schema/gatehouse.schema.json', import.meta.url),
      'utf8',
    );
    expect(committed === renderSchemaFile(), `schema/gatehouse.schema.json is stale: ${FIX}`).toBe(
      true,
    );
  });

  it('docs/config-reference.md', async () => {
    const committed = await readFile(
      new URL('../../../docs/config-reference.md', import.meta.url),
      'utf8',
    );
    expect(committed === renderConfigReference(), `docs/config-reference.md is stale: ${FIX}`).toBe(
      true,
    );
  });
});

describe('the schema', () => {
  it('publishes no private annotations', () => {
    expect(JSON.stringify(publishedSchema())).not.toContain('x-gatehouse');
    expect(JSON.stringify(configSchema)).toContain('x-gatehouse-format');
  });

  it('compiles as a JSON Schema regex set (every pattern is a valid unicode RegExp)', () => {
    const patterns: string[] = [];
    JSON.stringify(configSchema, (k, v: unknown) => {
      if (k === 'pattern' && typeof v === 'string') patterns.push(v);
      return v;
    });
    expect(patterns.length).toBeGreaterThan(5);
    for (const p of patterns) expect(() => new RegExp(p, 'u')).not.toThrow();
  });

  it('the reference lists every diagnostic code', () => {
    const doc = renderConfigReference();
    for (const code of Object.keys(DIAGNOSTIC_CODES)) expect(doc).toContain(`| \`${code}\` |`);
  });
});
