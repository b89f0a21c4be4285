import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv2020 as Ajv2020Type, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';

/** The report JSON Schema's `$id`. */
export const REPORT_SCHEMA_ID = 'https://gatehouse.dev/schema/report/v1.json';

let compiled: { report: ValidateFunction; gate: ValidateFunction } | null = null;

/** The JSON Schema of `report.json` (schemaVersion 1), as shipped in `schema/report.schema.json`. */
export function reportSchema(): Record<string, unknown> {
  return JSON.parse(
    readFileSync(new URL('../schema/report.schema.json', import.meta.url), 'utf8'),
  ) as Record<string, unknown>;
}

function validators(): { report: ValidateFunction; gate: ValidateFunction } {
  if (!compiled) {
    // Loaded on first use: Ajv costs more start-up time than rendering a large report.
    const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020') as {
      Ajv2020: typeof Ajv2020Type;
    };
    const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
    ajv.addSchema(reportSchema());
    compiled = {
      report: ajv.getSchema(REPORT_SCHEMA_ID)!,
      gate: ajv.compile({ $ref: `${REPORT_SCHEMA_ID}#/$defs/gateResult` }),
    };
  }
  return compiled;
}

function problemsOf(v: ValidateFunction, data: unknown): string[] {
  if (v(data)) return [];
  return (v.errors ?? []).map(
    (e: ErrorObject) =>
      `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
  );
}

/** Validate data against the report schema; returns readable problems (empty when valid). */
export function validateReportSchema(data: unknown): string[] {
  return problemsOf(validators().report, data);
}

/** Validate one gate result (a `--result-file`) against the schema's `gateResult` definition. */
export function validateGateResultSchema(data: unknown): string[] {
  return problemsOf(validators().gate, data);
}
