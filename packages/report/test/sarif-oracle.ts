/**
 * Judges of a SARIF log: the SARIF 2.1.0 JSON Schemas (vendored, see vendor/README.md) and the
 * rules GitHub code scanning applies to an upload.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { PKG_DIR } from './helpers.js';

const vendor = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(PKG_DIR, 'test', 'vendor', name), 'utf8')) as Record<
    string,
    unknown
  >;

const URI = /^[a-z][a-z0-9+.-]*:/i;

function formats(ajv: Ajv | Ajv2020): void {
  ajv.addFormat('uri', (s: string) => URI.test(s));
  ajv.addFormat('uri-reference', () => true);
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
  ajv.addFormat('uuid', (s: string) => /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(s));
}

/** The OASIS 2.1.0 schema (JSON Schema 2020-12), the one `$schema` of report.sarif names. */
function standard(): ValidateFunction {
  const schema = vendor('sarif-schema-2.1.0.json');
  delete schema.$schema;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  formats(ajv);
  return ajv.compile(schema);
}

/** The 2.1.0 rtm.5 schema (draft-04, loaded as draft-07). */
function rtm5(): ValidateFunction {
  const schema = vendor('sarif-2.1.0-rtm.5.json');
  // Its only draft-04 construct is the top-level `id`.
  schema.$id = schema.id;
  delete schema.id;
  delete schema.$schema;
  // Its language pattern has a stray `]`, legal only in non-unicode regular expressions.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  formats(ajv);
  return ajv.compile(schema);
}

const validators: Array<[string, ValidateFunction]> = [
  ['sarif-schema-2.1.0', standard()],
  ['sarif-2.1.0-rtm.5', rtm5()],
];

/** Schema errors of a SARIF log under each vendored schema, `[]` when both accept it. */
export function sarifSchemaProblems(log: unknown): string[] {
  const out: string[] = [];
  for (const [name, validate] of validators) {
    if (!validate(log))
      for (const e of validate.errors ?? [])
        out.push(`${name}: ${e.instancePath || '/'} ${e.message ?? ''}`);
  }
  return out;
}

/**
 * GitHub code scanning's documented limits on an upload (runs per file 20, results and rules
 * per run 25,000, tool extensions per run 100, locations per result 1,000, tags per rule 20,
 * 10 MB gzipped) and what it reads from each run: a driver name, a message text per result,
 * a `ruleIndex` that points at its rule, and a category (`automationDetails.id` up to its last
 * `/`) that no other run of the file has.
 * @see https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit
 */
export function githubUploadProblems(text: string): string[] {
  const out: string[] = [];
  if (gzipSync(text).length > 10 * 1024 * 1024) out.push('file is over 10 MB gzipped');
  const log = JSON.parse(text) as {
    version?: unknown;
    runs?: Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  if (log.version !== '2.1.0') out.push('version is not 2.1.0');
  const runs = log.runs ?? [];
  if (!Array.isArray(runs) || runs.length === 0) out.push('no run');
  if (runs.length > 20) out.push(`${runs.length} runs (limit 20)`);
  const categories = new Set<string>();
  runs.forEach((run, r) => {
    const driver = run.tool?.driver;
    if (typeof driver?.name !== 'string' || driver.name === '')
      out.push(`runs[${r}] has no driver name`);
    const rules = (driver?.rules ?? []) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (rules.length > 25_000) out.push(`runs[${r}] has ${rules.length} rules (limit 25,000)`);
    if ((run.tool?.extensions ?? []).length > 100) out.push(`runs[${r}] has over 100 extensions`);
    rules.forEach((rule, i) => {
      if ((rule.properties?.tags ?? []).length > 20) out.push(`runs[${r}].rules[${i}] tags > 20`);
    });
    const results = (run.results ?? []) as Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (!Array.isArray(run.results)) out.push(`runs[${r}] has no results array`);
    if (results.length > 25_000)
      out.push(`runs[${r}] has ${results.length} results (limit 25,000)`);
    results.forEach((res, i) => {
      if (typeof res.message?.text !== 'string' || res.message.text === '')
        out.push(`runs[${r}].results[${i}] has no message text`);
      if ((res.locations ?? []).length > 1000)
        out.push(`runs[${r}].results[${i}] has over 1,000 locations`);
      if (res.ruleIndex !== undefined && rules[res.ruleIndex]?.id !== res.ruleId)
        out.push(`runs[${r}].results[${i}] ruleIndex does not point at ${String(res.ruleId)}`);
    });
    const id = run.automationDetails?.id;
    if (typeof id !== 'string') out.push(`runs[${r}] has no automationDetails.id`);
    else {
      const category = id.slice(0, id.lastIndexOf('/') + 1);
      if (categories.has(category)) out.push(`runs[${r}] repeats category ${category}`);
      categories.add(category);
    }
  });
  return out;
}
