import { createRequire } from 'node:module';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, requireChromium } from '@gatehouse-ci/test-utils';
import type { RunReport } from '@gatehouse-ci/core';
import {
  parseAxe,
  parseCobertura,
  parseCtrf,
  parseEslint,
  parseEvidence,
  parseIstanbul,
  parseJunit,
  parseLcov,
  parsePa11y,
  parseSarif,
  parseSonar,
  EvidenceError,
  readJunitCases,
} from './index.js';
import { toSarif } from '../render/sarif.js';
import { BIN, PKG_DIR, run, tempDir, writeFiles } from '../../test/helpers.js';

const FIX = join(PKG_DIR, 'test', 'fixtures');
const fixture = (p: string): Promise<string> => readFile(join(FIX, p), 'utf8');
const ctx = { sourceRoots: ['/app'] };

describe('ESLint JSON and SARIF (real eslint)', () => {
  let eslintJson = '';
  let root = '';
  beforeAll(async () => {
    root = await tempDir();
    await writeFiles(root, {
      'package.json': '{"type":"module"}',
      'eslint.config.js':
        "export default [{ files: ['**/*.js'], rules: { 'no-unused-vars': 'error', 'no-undef': 'error', 'no-empty': 'warn' } }];\n",
      'src/a.js': 'const a = 1;\nif (b) {}\n',
      'src/clean.js': 'export const c = 1;\n',
      'src/broken.js': 'const = ;\n',
    });
    const r = await run(BIN('eslint'), ['-f', 'json', 'src'], { cwd: root });
    expect(r.code).toBe(1);
    eslintJson = r.stdout;
  });

  it('counts errors, warnings, files and rules, with paths relative to the project', () => {
    const p = parseEslint(eslintJson, { sourceRoots: [root] });
    // files: with findings; checked: every file ESLint linted (src/clean.js too).
    expect(p.lint).toMatchObject({ errors: 3, warnings: 1, files: 2, checked: 3 });
    expect(p.lint!.rules).toEqual(
      expect.arrayContaining([
        { rule: 'fatal', count: 1 },
        { rule: 'no-empty', count: 1 },
      ]),
    );
    expect(new Set(p.findings.map((f) => f.file))).toEqual(new Set(['src/a.js', 'src/broken.js']));
    expect(p.findings.find((f) => f.rule === 'no-undef')).toMatchObject({
      level: 'error',
      line: 2,
      column: 5,
    });
  });

  it('round-trips ESLint findings through our SARIF renderer and the SARIF parser', () => {
    const p = parseEslint(eslintJson, { sourceRoots: [root] });
    const report = {
      runId: 'R',
      pipeline: 'p',
      git: { commit: null, branch: null, dirty: null },
      gates: [{ id: 'lint', evidence: { findings: p.findings } }],
    } as unknown as RunReport;
    const back = parseSarif(JSON.stringify(toSarif(report)), { sourceRoots: [root] });
    // SARIF lists results, not the files checked without findings.
    const { checked, ...withFindings } = p.lint!;
    expect(checked).toBe(3);
    expect(back.lint).toEqual(withFindings);
    expect(back.findings.map((f) => f.fingerprint).sort()).toEqual(
      p.findings.map((f) => f.fingerprint).sort(),
    );
  });

  it('reads a third-party SARIF: rule default levels, ruleIndex, suppressions and kind', async () => {
    const p = parseSarif(await fixture('sarif/codeql-like.sarif'), ctx);
    expect(p.findings.map((f) => [f.tool, f.rule, f.level, f.file, f.line])).toEqual([
      ['CodeQL', 'js/xss', 'error', 'src/view page.js', 12],
      ['CodeQL', 'js/unused-local-variable', 'note', 'src/util.js', 3],
      ['CodeQL', 'js/missing-rate-limiting', 'warning', 'server.js', 40],
    ]);
    expect(p.lint).toMatchObject({ errors: 1, warnings: 1, files: 3 });
  });

  it.each([
    ['not JSON', 'nope', /not valid JSON/],
    ['wrong version', '{"version":"2.0.0","runs":[]}', /not supported/],
    ['no runs', '{"version":"2.1.0"}', /no "runs"/],
    [
      'bad level',
      '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"r","level":"fatal","message":{"text":"m"}}]}]}',
      /unknown level/,
    ],
    [
      'no message',
      '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"r"}]}]}',
      /no message/,
    ],
  ])('SARIF %s is an EvidenceError', (_n, text, msg) => {
    expect(() => parseSarif(text, ctx)).toThrow(EvidenceError);
    expect(() => parseSarif(text, ctx)).toThrow(msg);
  });

  it('rejects ESLint output of the wrong shape', () => {
    expect(() => parseEslint('{"results":[]}', ctx)).toThrow(/JSON array/);
    expect(() => parseEslint('[{"filePath":"a"}]', ctx)).toThrow(/no filePath\/messages/);
  });
});

describe('CTRF and Cobertura', () => {
  const ctrf = (tests: unknown[], extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      reportFormat: 'CTRF',
      specVersion: '0.0.0',
      results: {
        tool: { name: 'vitest', version: '3.2.4' },
        summary: {
          tests: 99,
          passed: 99,
          failed: 0,
          pending: 0,
          skipped: 0,
          other: 0,
          start: 0,
          stop: 1,
        },
        tests,
      },
      ...extra,
    });

  it('counts CTRF tests from the tests, not the summary; pending is skipped, other is failed', () => {
    const p = parseEvidence(
      'ctrf',
      ctrf([
        { name: 'adds', status: 'passed', duration: 3 },
        {
          name: 'totals with tax',
          status: 'failed',
          duration: 9,
          message: 'expected 107, got 100',
          suite: ['cart', 'totals'],
        },
        { name: 'later', status: 'pending', duration: 0 },
        { name: 'off', status: 'skipped', duration: 0 },
        { name: 'odd', status: 'other', duration: 1, filePath: 'test/odd.spec.js' },
      ]),
      ctx,
    );
    expect(p.tests).toEqual({
      total: 5,
      passed: 1,
      failed: 2,
      skipped: 2,
      failures: [
        { name: 'totals with tax', suite: 'cart › totals', message: 'expected 107, got 100' },
        { name: 'odd', suite: 'test/odd.spec.js' },
      ],
      cases: [
        { name: 'adds', status: 'passed', durationMs: 3 },
        {
          name: 'totals with tax',
          suite: 'cart › totals',
          status: 'failed',
          durationMs: 9,
          message: 'expected 107, got 100',
        },
        { name: 'later', status: 'skipped' },
        { name: 'off', status: 'skipped' },
        { name: 'odd', suite: 'test/odd.spec.js', status: 'failed', durationMs: 1 },
      ],
    });
    expect(p.tools).toEqual([{ name: 'vitest', version: '3.2.4' }]);
    // Older reporters write only `results`.
    expect(
      parseCtrf(JSON.stringify({ results: { tool: { name: 'jest' }, summary: {}, tests: [] } }))
        .tests!.total,
    ).toBe(0);
  });

  it.each([
    ['not CTRF', '{"reportFormat":"JUnit","results":{}}', /reportFormat/],
    ['no results', '{"reportFormat":"CTRF"}', /no "results"/],
    ['no tool', '{"results":{"tests":[]}}', /tool has no "name"/],
    ['tests not an array', '{"results":{"tool":{"name":"x"},"tests":{}}}', /not an array/],
    [
      'bad status',
      '{"results":{"tool":{"name":"x"},"tests":[{"name":"a","status":"green"}]}}',
      /passed\/failed/,
    ],
  ])('CTRF %s is an EvidenceError', (_n, text, msg) => {
    expect(() => parseCtrf(text)).toThrow(EvidenceError);
    expect(() => parseCtrf(text)).toThrow(msg);
  });

  it('reads Cobertura counts, else rates, and refuses what is not Cobertura', () => {
    expect(
      parseCobertura(
        '<?xml version="1.0"?><coverage line-rate="0.5" branch-rate="0.25" lines-covered="2" lines-valid="3" branches-covered="0" branches-valid="0" version="7.4.0"><packages/></coverage>',
      ).coverage,
    ).toEqual({ lines: 66.66, branches: 100 });
    expect(
      parseCobertura('<coverage line-rate="0.79999" branch-rate="1"></coverage>').coverage,
    ).toEqual({ lines: 79.99, branches: 100 });
    expect(() => parseCobertura('<coverage><packages/></coverage>')).toThrow(/neither/);
    expect(() => parseCobertura('<report line-rate="1"/>')).toThrow(/no <coverage> root/);
    expect(() => parseCobertura('<coverage line-rate="1.5"/>')).toThrow(/more than 1/);
    expect(() => parseCobertura('<coverage lines-covered="4" lines-valid="3"/>')).toThrow(
      /more than lines-valid/,
    );
    expect(() => parseCobertura('<coverage line-rate="x"/>')).toThrow(/not a number/);
    expect(() => parseCobertura('<coverage')).toThrow(/malformed/);
  });
});

describe('JUnit and coverage (real vitest with @vitest/coverage-v8)', () => {
  let out = '';
  beforeAll(async () => {
    out = await tempDir();
    const r = await run(
      join(PKG_DIR, '..', '..', 'node_modules', '.bin', 'vitest'),
      [
        'run',
        '--reporter=junit',
        `--outputFile=${join(out, 'junit.xml')}`,
        '--coverage.enabled',
        '--coverage.provider=v8',
        '--coverage.reporter=json-summary',
        '--coverage.reporter=lcov',
        '--coverage.reporter=cobertura',
        `--coverage.reportsDirectory=${join(out, 'coverage')}`,
        '--coverage.include=src/**',
        '--coverage.reportOnFailure',
      ],
      {
        cwd: join(FIX, 'vitest-project'),
        env: {
          CI: 'true',
          VITEST: undefined,
          VITEST_WORKER_ID: undefined,
          VITEST_POOL_ID: undefined,
          NODE_OPTIONS: undefined,
        },
      },
    );
    // One test fails on purpose.
    expect(r.code, r.stderr).toBe(1);
  }, 120_000);

  it('counts vitest junit test cases, and lists each', async () => {
    const p = parseJunit(await readFile(join(out, 'junit.xml'), 'utf8'));
    expect(p.tests).toMatchObject({ total: 4, passed: 2, failed: 1, skipped: 1 });
    expect(p.tests!.cases!.map((c) => [c.suite, c.name, c.status])).toEqual(
      expect.arrayContaining([
        ['test/math.spec.js', 'math > is wrong on purpose', 'failed'],
        expect.arrayContaining(['skipped']),
      ]),
    );
    expect(p.tests!.cases).toHaveLength(4);
    expect(p.tests!.cases!.filter((c) => c.status === 'passed')).toHaveLength(2);
    expect(p.tests!.failures).toEqual([
      {
        name: 'math > is wrong on purpose',
        suite: 'test/math.spec.js',
        message: 'expected 4 to be 5 // Object.is equality',
      },
    ]);
  });

  it('reads istanbul json-summary and lcov written by coverage-v8, and they agree', async () => {
    const summary = parseIstanbul(
      await readFile(join(out, 'coverage', 'coverage-summary.json'), 'utf8'),
    );
    const lcov = parseLcov(await readFile(join(out, 'coverage', 'lcov.info'), 'utf8'));
    expect(summary.coverage).toEqual({
      lines: 54.54,
      statements: 54.54,
      functions: 66.66,
      branches: 66.66,
    });
    expect(lcov.coverage).toEqual({ lines: 54.54, functions: 66.66, branches: 66.66 });
  });

  it('reads the Cobertura XML written by coverage-v8 (istanbul cobertura), agreeing with the summary', async () => {
    const xml = await readFile(join(out, 'coverage', 'cobertura-coverage.xml'), 'utf8');
    expect(xml).toMatch(/<coverage [^>]*lines-valid="/);
    expect(parseCobertura(xml).coverage).toEqual({ lines: 54.54, branches: 66.66 });
  });

  it('reads jest-junit, mocha-junit-reporter and mocha xunit shapes', async () => {
    expect(parseJunit(await fixture('junit/jest-junit.xml')).tests).toMatchObject({
      total: 4,
      passed: 2,
      failed: 1,
      skipped: 1,
    });
    const mocha = parseJunit(await fixture('junit/mocha-junit-reporter.xml')).tests!;
    expect(mocha).toMatchObject({ total: 3, passed: 2, failed: 1, skipped: 0 });
    expect(mocha.failures[0]).toEqual({
      name: 'Array #push() grows',
      suite: 'Array',
      message: 'expected 2 to equal 3',
    });
    expect(parseJunit(await fixture('junit/mocha-xunit.xml')).tests).toMatchObject({
      total: 3,
      passed: 1,
      failed: 1,
      skipped: 1,
    });
  });

  it('walks nested suites and treats <error> as failed', () => {
    const cases = readJunitCases(
      '<testsuites><testsuite name="a"><testsuite name="b"><testcase name="t"><error message="boom"/></testcase></testsuite><testcase name="u"/></testsuite></testsuites>',
    );
    expect(cases.map((c) => [c.suite, c.name, c.status])).toEqual([
      ['a', 'u', 'passed'],
      ['a › b', 't', 'failed'],
    ]);
  });

  it.each([
    ['truncated', '<testsuites><testsuite name="a"><testcase name="t">', /malformed/],
    ['not junit', '<html><body/></html>', /neither <testsuites> nor <testsuite>/],
    ['not xml', 'PASS 3 tests', /malformed/],
  ])('%s JUnit is an EvidenceError', (_n, text, msg) => {
    expect(() => parseJunit(text)).toThrow(msg);
  });

  it.each([
    ['no total', '{"files":{}}', /no "total"/],
    ['covered > total', '{"total":{"lines":{"total":1,"covered":2}}}', /covered/],
    ['empty total', '{"total":{}}', /none of/],
  ])('istanbul %s is an EvidenceError', (_n, text, msg) => {
    expect(() => parseIstanbul(text)).toThrow(msg);
  });

  it('lcov edge cases: nothing instrumented is 100%, broken records are errors', () => {
    expect(parseLcov('SF:a.js\nLF:0\nLH:0\nend_of_record\n').coverage).toEqual({
      lines: 100,
      branches: 100,
      functions: 100,
    });
    expect(() => parseLcov('SF:a.js\nLF:3\n')).toThrow(/missing end_of_record/);
    expect(() => parseLcov('')).toThrow(/no SF records/);
    expect(() => parseLcov('SF:a\nLH:x\nend_of_record')).toThrow(/not a count/);
  });
});

describe.skipIf(!requireChromium('axe-core evidence tests'))(
  'axe-core (real axe in Debian Chromium)',
  () => {
    it('finds the missing alt text and the low contrast of a local page', async () => {
      const dir = await tempDir();
      const page = join(dir, 'index.html');
      await writeFile(
        page,
        '<!DOCTYPE html><html lang="en"><head><title>Shop</title></head><body><main><h1>Shop</h1>' +
          '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">' +
          '<p style="color:#bbb;background:#fff">Hard to read</p></main></body></html>',
      );
      const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;
      const browser = await launchChromium();
      let results: unknown;
      try {
        const p = await browser.newPage();
        await p.goto(pathToFileURL(page).href);
        await p.addScriptTag({ content: axeSource });
        results = await p.evaluate('axe.run()');
      } finally {
        await browser.close();
      }
      await mkdir(join(dir, 'out'));
      await writeFile(join(dir, 'out', 'axe.json'), JSON.stringify(results));
      const parsed = parseAxe(await readFile(join(dir, 'out', 'axe.json'), 'utf8'), {
        sourceRoots: [dir],
      });
      expect(parsed.a11y).toMatchObject({
        pages: 1,
        violations: 2,
        byImpact: { critical: 1, serious: 1, moderate: 0, minor: 0, unknown: 0 },
      });
      expect(
        parsed.findings
          .filter((f) => f.level === 'error')
          .map((f) => [f.rule, f.page, f.selector])
          .sort(),
      ).toEqual([
        ['color-contrast', 'index.html', 'p'],
        ['image-alt', 'index.html', 'img'],
      ]);
      // @axe-core/cli --save writes an array of such results.
      expect(
        parseAxe(JSON.stringify([results, results]), { sourceRoots: [dir] }).a11y!.violations,
      ).toBe(4);
    }, 60_000);
  },
);

describe('axe, pa11y and SonarQube shapes', () => {
  it('axe: malformed input is an EvidenceError', () => {
    expect(() => parseAxe('[]', ctx)).toThrow(/no page was tested/);
    expect(() => parseAxe('{"passes":[]}', ctx)).toThrow(/no "violations"/);
  });

  it('pa11y JSON reporter: errors are violations, notices are not', async () => {
    const p = parsePa11y(await fixture('pa11y/pa11y.json'), ctx);
    expect(p.a11y).toEqual({
      pages: 1,
      violations: 2,
      byImpact: { critical: 0, serious: 0, moderate: 0, minor: 0, unknown: 2 },
    });
    expect(p.findings).toHaveLength(3);
    expect(p.findings[2]!.level).toBe('note');
  });

  it('pa11y-ci JSON: pages, axe impacts, and a page that could not be tested', async () => {
    const p = parsePa11y(await fixture('pa11y/pa11y-ci.json'), ctx);
    expect(p.a11y).toEqual({
      pages: 2,
      violations: 3,
      byImpact: { critical: 1, serious: 1, moderate: 0, minor: 0, unknown: 1 },
    });
    expect(p.findings[0]).toMatchObject({
      page: 'http://localhost:8080/cart',
      selector: '.price',
      impact: 'serious',
      tool: 'pa11y/axe',
    });
    const pageError = await fixture('pa11y/pa11y-ci-page-error.json');
    expect(() => parsePa11y(pageError, ctx)).toThrow(
      'pa11y could not test http://localhost:8080/checkout: net::ERR_CONNECTION_REFUSED',
    );
    expect(() => parsePa11y('{"total":0}', ctx)).toThrow(/neither/);
  });

  it('SonarQube quality gate API response and report-task.txt', async () => {
    expect(parseSonar(await fixture('sonar/qualitygate-error.json')).sonar).toEqual({
      status: 'ERROR',
      conditions: [
        { metric: 'new_coverage', status: 'ERROR', actual: '71.4', threshold: 'LT 80' },
        { metric: 'new_duplicated_lines_density', status: 'OK', actual: '0.0', threshold: 'GT 3' },
        {
          metric: 'new_security_hotspots_reviewed',
          status: 'OK',
          actual: '100.0',
          threshold: 'LT 100',
        },
      ],
    });
    expect(parseSonar(await fixture('sonar/report-task.txt')).sonar).toEqual({
      status: 'NONE',
      dashboardUrl: 'http://localhost:9000/dashboard?id=storefront',
      conditions: [],
    });
    expect(() => parseSonar('{"errors":[{"msg":"Insufficient privileges"}]}')).toThrow(
      /no "projectStatus"/,
    );
    expect(() => parseSonar('hello world')).toThrow(/key=value/);
    expect(() => parseSonar('{"projectStatus":{"status":"MAYBE"}}')).toThrow(
      /not OK\/WARN\/ERROR\/NONE/,
    );
  });
});
