import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/** The report JSON Schema's `$id`. */
export const REPORT_SCHEMA_ID = 'https://gatehouse.dev/schema/report/v1.json';

let compiled: ValidateFunction | null = null;

/** The JSON Schema of `report.json` (schemaVersion 1), as shipped in `schema/report.schema.json`. */
export function reportSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL('../schema/report.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Validate data against the report schema; returns readable problems (empty when valid). */
export function validateReportSchema(data: unknown): string[] {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addFormat('date-time', { type: 'string', validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) });
    compiled = ajv.compile(reportSchema());
  }
  if (compiled(data)) return [];
  return (compiled.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}
