import { sha256 } from '@gatehouse-ci/core';
import { canonicalForms } from '../canonical.js';
import type { RunReport } from '@gatehouse-ci/core';
import { effectiveStatus } from '../build.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const TEST_RESULT_PREDICATE = 'https://in-toto.io/attestation/test-result/v0.1';

/** An in-toto ResourceDescriptor (only the members used here). */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest: Record<string, string>;
  annotations?: Record<string, unknown>;
}

/** in-toto Statement v1 with a test-result v0.1 predicate. */
export interface TestResultStatement {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: typeof TEST_RESULT_PREDICATE;
  predicate: {
    result: 'PASSED' | 'WARNED' | 'FAILED';
    configuration: ResourceDescriptor[];
    url?: string;
    passedTests: string[];
    warnedTests: string[];
    failedTests: string[];
  };
}

/** Options of {@link toStatement}. */
export interface StatementOptions {
  /** Digest of the release image built in this run (`sha256:…`), added as a subject. */
  imageDigest?: string | null;
  /** Name of that image, e.g. `registry/app`. @default 'release-image' */
  imageName?: string;
}

/**
 * The report as an in-toto Statement: the subject is the commit (and the release image
 * when known), the predicate a test result whose "tests" are the gates. Passed gates are
 * `passedTests`; failed/error/timeout/interrupted blocking gates `failedTests`; advisory
 * problems `warnedTests`. The configuration lists the config file hash and the report
 * digest, which binds this statement to exactly one report.
 * @see https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md
 */
export function toStatement(report: RunReport, opts: StatementOptions = {}): TestResultStatement {
  const reportDigest = sha256(canonicalForms(report, 'integrity').compact);
  const subject: ResourceDescriptor[] = [];
  if (report.git.commit)
    subject.push({ name: 'git+commit', digest: { gitCommit: report.git.commit } });
  if (opts.imageDigest) {
    const [alg, hex] = opts.imageDigest.includes(':')
      ? opts.imageDigest.split(':', 2)
      : ['sha256', opts.imageDigest];
    subject.push({ name: opts.imageName ?? 'release-image', digest: { [alg!]: hex! } });
  }
  // A statement needs a subject: without a commit or image, the report itself is it.
  if (!subject.length) subject.push({ name: 'gatehouse-report', digest: { sha256: reportDigest } });
  const passed: string[] = [];
  const warned: string[] = [];
  const failed: string[] = [];
  for (const g of report.gates) {
    const s = effectiveStatus(g);
    if (s === 'passed') passed.push(g.id);
    else if (s === 'skipped') continue;
    else if (g.mode === 'advisory') warned.push(g.id);
    else failed.push(g.id);
  }
  const result =
    report.verdict.status === 'failed' ? 'FAILED' : warned.length ? 'WARNED' : 'PASSED';
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: TEST_RESULT_PREDICATE,
    predicate: {
      result,
      configuration: [
        { name: 'gatehouse.yml', digest: { sha256: report.configSha256 } },
        { name: 'report.json', digest: { sha256: reportDigest } },
      ],
      ...(report.context.ci?.buildUrl ? { url: report.context.ci.buildUrl } : {}),
      passedTests: passed,
      warnedTests: warned,
      failedTests: failed,
    },
  };
}

/** The Statement as JSON (what `--format intoto` prints). */
export function renderIntoto(report: RunReport, opts: StatementOptions = {}): string {
  return `${JSON.stringify(toStatement(report, opts), null, 2)}\n`;
}
