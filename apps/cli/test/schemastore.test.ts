import { readFileSync } from 'node:fs';
import { configSchema } from '@gatehouse-ci/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_NAMES } from '../src/project.js';

const entry = JSON.parse(
  readFileSync(new URL('../../../docs/schemastore/catalog-entry.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const shipped = JSON.parse(
  readFileSync(
    new URL('../../../packages/core/schema/gatehouse.schema.json', import.meta.url),
    'utf8',
  ),
) as { $id: string };

describe('the SchemaStore catalogue entry', () => {
  it('has exactly the fields of a catalogue entry', () => {
    expect(Object.keys(entry).sort()).toEqual(['description', 'fileMatch', 'name', 'url']);
    expect(typeof entry.name).toBe('string');
    expect(typeof entry.description).toBe('string');
  });

  it('points at the schema by its $id and matches the file names the CLI reads', () => {
    expect(entry.url).toBe(shipped.$id);
    expect(entry.url).toBe(configSchema.$id);
    expect(entry.url).toMatch(/^https:\/\/cdn\.jsdelivr\.net\/npm\/gatehouse-ci\//);
    expect(entry.fileMatch).toEqual([...DEFAULT_CONFIG_NAMES]);
  });
});
