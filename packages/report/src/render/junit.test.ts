import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostileString } from '@gatehouse-ci/test-utils';
import type { RunReport, TestCaseResult } from '@gatehouse-ci/core';
import { mergeEvidence, parseEvidence } from '../evidence/dispatch.js';
import { MAX_TEST_CASES, parseJunit } from '../evidence/junit.js';
import { render } from './index.js';
import { sampleReport } from '../../test/sample.js';
import { judgeJunit } from '../../test/junit-oracle.js';

const CASES: TestCaseResult[] = [
  { name: 'adds', suite: 'test/math.spec.js › math', status: 'passed', durationMs: 3 },
  {
    name: 'is wrong',
    suite: 'test/math.spec.js › math',
    status: 'failed',
    durationMs: 5,
    message: 'expected 4 to be 5',
  },
  { name: 'later', suite: 'test/math.spec.js', status: 'skipped' },
];

/** The sample, its unit gate listing each of its tests. */
function withCases(status: 'passed' | 'failed' = 'passed', cases = CASES): RunReport {
  const r = sampleReport();
  const unit = r.gates.find((g) => g.id === 'unit')!;
  unit.status = status;
  unit.evidence.tests = {
    total: cases.length,
    passed: cases.filter((c) => c.status === 'passed').length,
    failed: cases.filter((c) => c.status === 'failed').length,
    skipped: cases.filter((c) => c.status === 'skipped').length,
    failures: [],
    cases,
  };
  return r;
}

describe('JUnit, one test case per test', () => {
  it('lists each test of a gate whose evidence lists them; the gate itself stands in only when it did not pass', () => {
    const { problems, cases } = judgeJunit(render(withCases(), 'junit'));
    expect(problems).toEqual([]);
    const unitSuite = cases.filter((c) => c.suite === 'unit: tests');
    expect(unitSuite).toEqual([
      {
        suite: 'unit: tests',
        classname: 'unit.test/math.spec.js › math',
        name: 'adds',
        outcome: 'passed',
      },
      {
        suite: 'unit: tests',
        classname: 'unit.test/math.spec.js › math',
        name: 'is wrong',
        outcome: 'failure',
        message: 'expected 4 to be 5',
      },
      {
        suite: 'unit: tests',
        classname: 'unit.test/math.spec.js',
        name: 'later',
        outcome: 'skipped',
      },
    ]);
    const gateSuite = cases.filter((c) => c.suite === 'gatehouse: storefront').map((c) => c.name);
    expect(gateSuite).toEqual(['lint', 'a11y', 'sonar', 'e2e']);
    // A gate that failed on a threshold with every test passing still shows as a failure.
    const failed = judgeJunit(render(withCases('failed', [CASES[0]!]), 'junit'));
    expect(failed.problems).toEqual([]);
    expect(failed.cases.find((c) => c.name === 'unit')).toMatchObject({ outcome: 'failure' });
  });

  it('falls back to one case per gate, with the failures the report kept, when the evidence lists no tests', () => {
    const { problems, cases } = judgeJunit(render(sampleReport(), 'junit'));
    expect(problems).toEqual([]);
    expect(cases.filter((c) => c.suite === 'gatehouse: storefront').map((c) => c.name)).toEqual([
      'lint',
      'unit',
      'a11y',
      'sonar',
      'e2e',
    ]);
  });

  it('from real JUnit evidence to one case per test', () => {
    const xml = `<?xml version="1.0"?>
<testsuites><testsuite name="test/a.spec.js" tests="3">
  <testcase classname="test/a.spec.js" name="a &gt; one" time="0.002"/>
  <testcase classname="test/a.spec.js" name="a &gt; two" time="0.010"><failure message="boom">stack</failure></testcase>
  <testcase classname="test/a.spec.js" name="a &gt; three"><skipped/></testcase>
</testsuite></testsuites>`;
    const tests = parseJunit(xml).tests!;
    expect(tests.cases).toEqual([
      { name: 'a > one', suite: 'test/a.spec.js', status: 'passed', durationMs: 2 },
      {
        name: 'a > two',
        suite: 'test/a.spec.js',
        status: 'failed',
        durationMs: 10,
        message: 'boom',
      },
      { name: 'a > three', suite: 'test/a.spec.js', status: 'skipped' },
    ]);
    const r = withCases('failed', tests.cases);
    const judged = judgeJunit(render(r, 'junit'));
    expect(judged.problems).toEqual([]);
    expect(judged.cases.filter((c) => c.suite === 'unit: tests').map((c) => c.outcome)).toEqual([
      'passed',
      'failure',
      'skipped',
    ]);
  });

  it('keeps only counts past 5,000 tests, and lists the tests of several files together', () => {
    const many = `<testsuite name="s">${'<testcase name="t"/>'.repeat(MAX_TEST_CASES + 1)}</testsuite>`;
    const big = parseJunit(many).tests!;
    expect(big.total).toBe(MAX_TEST_CASES + 1);
    expect(big.cases).toBeUndefined();
    const one = '<testsuite name="s"><testcase name="a"/></testsuite>';
    const two = '<testsuite name="t"><testcase name="b"><skipped/></testcase></testsuite>';
    const ctx = { sourceRoots: [] };
    const both = mergeEvidence([
      parseEvidence('junit', one, ctx),
      parseEvidence('junit', two, ctx),
    ]);
    expect(both.tests).toMatchObject({ total: 2, passed: 1, skipped: 1 });
    expect(both.tests!.cases).toEqual([
      { name: 'a', suite: 's', status: 'passed' },
      { name: 'b', suite: 't', status: 'skipped' },
    ]);
    // A file that lists no tests (counts only) leaves the whole without a list.
    const counted = { ...parseEvidence('junit', one, ctx) };
    counted.tests = { ...counted.tests!, cases: undefined };
    delete counted.tests.cases;
    expect(mergeEvidence([counted, parseEvidence('junit', two, ctx)]).tests!.cases).toBeUndefined();
    expect(
      mergeEvidence([parseEvidence('junit', many, ctx), parseEvidence('junit', two, ctx)]).tests!
        .cases,
    ).toBeUndefined();
  });

  it('stays valid for any test name, suite and message (property)', () => {
    fc.assert(
      fc.property(hostileString(), hostileString(), hostileString(), (name, suite, message) => {
        const r = withCases('failed', [
          { name, suite, status: 'failed', message },
          { name: suite, status: 'passed' },
        ]);
        const { problems, cases } = judgeJunit(render(r, 'junit'));
        expect(problems).toEqual([]);
        expect(cases.filter((c) => c.suite === 'unit: tests')).toHaveLength(2);
      }),
      { numRuns: 200 },
    );
  });

  it('the oracle is not vacuous: counts that disagree with the cases fail it', () => {
    const xml = render(withCases(), 'junit').replace('tests="3"', 'tests="4"');
    expect(judgeJunit(xml).problems).toEqual(['unit: tests: tests="4" but 3 cases']);
    expect(judgeJunit('<testsuite name="x"/>').problems).toEqual(['no <testsuites> root']);
    expect(
      judgeJunit(
        '<testsuites tests="1" failures="1" errors="0" skipped="1"><testsuite name="s" tests="1" failures="1" errors="0" skipped="1"><testcase name="n" classname="c"><failure/><skipped/></testcase></testsuite></testsuites>',
      ).problems,
    ).toEqual([
      's: a testcase has failure and skipped',
      's: skipped="1" but 0 cases',
      'testsuites: skipped="1" but 0 cases',
    ]);
  });
});
