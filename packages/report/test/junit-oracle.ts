/**
 * What a JUnit consumer (Jenkins' `junit` step) relies on, checked on the parsed XML: a
 * `<testsuites>` root of `<testsuite>`s holding `<testcase>`s with a `name` and `classname`, at
 * most one of `<failure>`, `<error>`, `<skipped>` each, a numeric non-negative `time`, and
 * `tests`/`failures`/`errors`/`skipped` counts that match the cases (on each suite and, summed,
 * on the root). No JUnit XSD is available offline here, so this is the structural check.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type XmlNode = Record<string, any>;

export interface JunitCaseOut {
  suite: string;
  classname: string;
  name: string;
  outcome: 'passed' | 'failure' | 'error' | 'skipped';
  message?: string;
}

export function judgeJunit(xml: string): { problems: string[]; cases: JunitCaseOut[] } {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { problems: [`not well-formed: ${valid.err.msg}`], cases: [] };
  const doc = new XMLParser({
    ignoreAttributes: false,
    parseAttributeValue: false,
    trimValues: false,
    isArray: (n) => ['testsuite', 'testcase', 'failure', 'error', 'skipped'].includes(n),
  }).parse(xml) as XmlNode;
  const problems: string[] = [];
  const cases: JunitCaseOut[] = [];
  const root = doc.testsuites;
  if (!root || typeof root !== 'object') return { problems: ['no <testsuites> root'], cases };
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  const int = (v: unknown): number => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN);
  for (const suite of (root.testsuite ?? []) as Array<XmlNode>) {
    const name = String(suite['@_name'] ?? '');
    if (!name) problems.push('a testsuite has no name');
    const counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    for (const tc of (suite.testcase ?? []) as Array<XmlNode>) {
      counts.tests++;
      const kinds = (['failure', 'error', 'skipped'] as const).filter((k) => tc[k] !== undefined);
      if (kinds.length > 1) problems.push(`${name}: a testcase has ${kinds.join(' and ')}`);
      if (kinds.some((k) => (tc[k] as unknown[]).length > 1))
        problems.push(`${name}: a testcase has two of one outcome`);
      if (typeof tc['@_name'] !== 'string' || tc['@_name'] === '')
        problems.push(`${name}: a testcase has no name`);
      if (typeof tc['@_classname'] !== 'string' || tc['@_classname'] === '')
        problems.push(`${name}: testcase ${String(tc['@_name'])} has no classname`);
      const time = tc['@_time'];
      if (time !== undefined && !(Number(time) >= 0))
        problems.push(`${name}: testcase time ${String(time)} is not a number`);
      const kind = kinds[0];
      if (kind === 'failure') counts.failures++;
      if (kind === 'error') counts.errors++;
      if (kind === 'skipped') counts.skipped++;
      const first = kind ? (tc[kind] as Array<Record<string, unknown> | string>)[0] : undefined;
      const message =
        first && typeof first === 'object' && typeof first['@_message'] === 'string'
          ? first['@_message']
          : undefined;
      cases.push({
        suite: name,
        classname: String(tc['@_classname']),
        name: String(tc['@_name']),
        outcome: kind ?? 'passed',
        ...(message !== undefined ? { message } : {}),
      });
    }
    for (const k of ['tests', 'failures', 'errors', 'skipped'] as const) {
      const said = int(suite[`@_${k}`]);
      if (said !== counts[k])
        problems.push(`${name}: ${k}="${String(suite[`@_${k}`])}" but ${counts[k]} cases`);
      totals[k] += counts[k];
    }
  }
  for (const k of ['tests', 'failures', 'errors', 'skipped'] as const) {
    const said = int(root[`@_${k}`]);
    if (said !== totals[k])
      problems.push(`testsuites: ${k}="${String(root[`@_${k}`])}" but ${totals[k]} cases`);
  }
  return { problems, cases };
}
