import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hostileString } from '@gatehouse-ci/test-utils';
import type { Finding, RunReport } from '@gatehouse-ci/core';
import { render } from './index.js';
import { sarifCategory, SARIF_EMPTY_RUN_TOOL, toSarif, GITHUB_SARIF_LIMITS } from './sarif.js';
import { sampleReport } from '../../test/sample.js';
import { githubUploadProblems, sarifSchemaProblems } from '../../test/sarif-oracle.js';

interface Run {
  tool: { driver: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  automationDetails: { id: string };
  results: Array<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
const runsOf = (r: RunReport): Run[] => (JSON.parse(render(r, 'sarif')) as { runs: Run[] }).runs;

/** Schema and GitHub's upload rules, both. */
function judged(r: RunReport): string[] {
  const text = render(r, 'sarif');
  return [...sarifSchemaProblems(JSON.parse(text)), ...githubUploadProblems(text)];
}

function withoutFindings(): RunReport {
  const r = sampleReport();
  for (const g of r.gates) {
    g.evidence.findings = [];
    g.evidence.findingsTotal = 0;
  }
  return r;
}

describe('SARIF', () => {
  it('is valid under both 2.1.0 schemas and GitHub’s upload rules, with locations', () => {
    expect(judged(sampleReport())).toEqual([]);
    const runs = runsOf(sampleReport());
    expect(runs.map((r) => r.tool.driver.name)).toEqual(['axe-core', 'eslint']);
    expect(runs[1]!.results[0]).toMatchObject({
      ruleId: 'no-undef',
      level: 'error',
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: 'src/a.js' },
            region: { startLine: 1, startColumn: 7 },
          },
        },
      ],
    });
    expect(runs[0]!.results[0]).toMatchObject({
      locations: [
        {
          physicalLocation: { artifactLocation: { uri: 'http://localhost/index.html' } },
          logicalLocations: [{ fullyQualifiedName: 'img' }],
        },
      ],
    });
  });

  it('gives each tool a category that stays the same from run to run (no run id in it)', () => {
    const a = sampleReport();
    const b = sampleReport();
    b.runId = '01KZZZZZZZZZZZZZZZZZZZZZZZ';
    const ids = runsOf(a).map((r) => r.automationDetails.id);
    expect(ids).toEqual(['gatehouse/storefront/axe-core/', 'gatehouse/storefront/eslint/']);
    expect(runsOf(b).map((r) => r.automationDetails.id)).toEqual(ids);
    for (const id of ids) expect(id).not.toContain(a.runId);
    // GitHub's category is the id up to its last `/`: a `/` in a name must not move it.
    expect(sarifCategory('web/app', 'pa11y/axe')).toBe('gatehouse/web%2Fapp/pa11y%2Faxe/');
  });

  it('keeps a run per tool that ran without findings, so an upload closes fixed alerts', () => {
    const runs = runsOf(withoutFindings());
    expect(runs.map((r) => [r.tool.driver.name, r.results.length])).toEqual([
      ['axe-core', 0],
      ['eslint', 0],
    ]);
    expect(judged(withoutFindings())).toEqual([]);
  });

  it('has at least one run when no gate has a finding tool at all', () => {
    const r = withoutFindings();
    for (const g of r.gates) g.evidence.files = [];
    const runs = runsOf(r);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.tool.driver.name).toBe(SARIF_EMPTY_RUN_TOOL);
    expect(runs[0]!.results).toEqual([]);
    expect(judged(r)).toEqual([]);
    r.gates = [];
    expect(runsOf(r)).toHaveLength(1);
    expect(judged(r)).toEqual([]);
  });

  it('describes every rule (short, full, help) and links real pages', () => {
    const eslint = runsOf(sampleReport())[1]!.tool.driver;
    expect(eslint.informationUri).toBe('https://eslint.org');
    expect(eslint.version).toBe('9.39.0');
    const noUndef = eslint.rules.find((x: { id: string }) => x.id === 'no-undef');
    expect(noUndef).toMatchObject({
      shortDescription: { text: 'eslint: no-undef' },
      fullDescription: { text: expect.stringContaining('lint gate') },
      help: { text: expect.stringContaining('https://eslint.org/docs/latest/rules/no-undef') },
      helpUri: 'https://eslint.org/docs/latest/rules/no-undef',
      defaultConfiguration: { level: 'error' },
    });
    for (const run of runsOf(sampleReport())) {
      const uri = run.tool.driver.informationUri as string | undefined;
      if (uri) expect(new URL(uri).hostname).not.toBe('github.com/gatehouse');
      expect(uri).not.toBe('https://github.com/gatehouse');
      for (const rule of run.tool.driver.rules as Array<Record<string, { text: string }>>) {
        expect(rule.shortDescription!.text).not.toBe('');
        expect(rule.fullDescription!.text).not.toBe('');
        expect(rule.help!.text).not.toBe('');
      }
    }
    // A plugin rule gets no made-up link.
    const r = sampleReport();
    r.gates[0]!.evidence.findings[0]!.rule = 'react/jsx-key';
    const rule = runsOf(r)[1]!.tool.driver.rules.find(
      (x: { id: string }) => x.id === 'react/jsx-key',
    );
    expect(rule.helpUri).toBeUndefined();
  });

  it('caps a run at GitHub’s 25,000 results, errors first', () => {
    const r = sampleReport();
    const lint = r.gates[0]!;
    const many: Finding[] = [];
    for (let i = 0; i < GITHUB_SARIF_LIMITS.resultsPerRun + 5; i++)
      many.push({
        fingerprint: `lint:${i}`,
        tool: 'eslint',
        rule: i === 0 ? 'no-undef' : 'eqeqeq',
        level: i === 0 ? 'error' : 'warning',
        message: 'm',
        file: 'src/a.js',
        line: 1,
      });
    lint.evidence.findings = many.reverse();
    const eslint = toSarif(r).runs.find(
      (x) => (x.tool as { driver: { name: string } }).driver.name === 'eslint',
    ) as unknown as Run;
    expect(eslint.results).toHaveLength(GITHUB_SARIF_LIMITS.resultsPerRun);
    expect(eslint.results[0]!.level).toBe('error');
    expect(githubUploadProblems(render(r, 'sarif'))).toEqual([]);
  });

  it('the judges are not vacuous: a broken log fails each of them', () => {
    const broken = JSON.parse(render(sampleReport(), 'sarif')) as { runs: Run[] };
    broken.runs[0]!.results[0]!.level = 'fatal';
    expect(sarifSchemaProblems(broken).join('\n')).toMatch(/sarif-schema-2\.1\.0: .*level/);
    expect(sarifSchemaProblems(broken).join('\n')).toMatch(/sarif-2\.1\.0-rtm\.5: .*level/);
    const log = JSON.parse(render(sampleReport(), 'sarif')) as { runs: Run[] };
    log.runs[1]!.automationDetails.id = log.runs[0]!.automationDetails.id;
    log.runs[1]!.results[0]!.ruleIndex = 0;
    log.runs[0]!.results[0]!.message = { text: '' };
    expect(githubUploadProblems(JSON.stringify(log))).toEqual([
      'runs[0].results[0] has no message text',
      'runs[1].results[0] ruleIndex does not point at no-undef',
      'runs[1] repeats category gatehouse/storefront/axe-core/',
    ]);
    expect(githubUploadProblems(JSON.stringify({ version: '2.1.0', runs: [] }))).toEqual([
      'no run',
    ]);
  });

  it('stays valid with any text in names, messages and paths (property)', () => {
    fc.assert(
      fc.property(hostileString(), hostileString(), (a, b) => {
        const r = sampleReport();
        r.pipeline = a;
        const f = r.gates[0]!.evidence.findings[0]!;
        Object.assign(f, { message: b, file: a, rule: b || 'x', tool: a || 'eslint' });
        expect(judged(r)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
