import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv2020 as Ajv2020Type, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';

/** The report JSON Schema's `$id`. */
export const REPORT_SCHEMA_ID = 'https://gatehouse.dev/schema/report/v1.json';

let compiled: ValidateFunction | null = null;

/** The JSON Schema of `report.json` (schemaVersion 1), as shipped in `schema/report.schema.json`. */
export function reportSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL('../schema/report.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** Validate data against the report schema; returns readable problems (empty when valid). */
export function validateReportSchema(data: unknown): string[] {
  if (!compiled) {
    // Loaded on first use: Ajv costs more start-up time than rendering a large report.
    const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020') as { Ajv2020: typeof Ajv2020Type };
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    compiled = ajv.compile(reportSchema());
  }
  if (compiled(data)) return [];
  return (compiled.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}
