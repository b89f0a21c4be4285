/** The `unit` gate: the monorepo's test task, Vitest, Jest, or the project's test script. */
import type { UserGate } from '@gatehouse-ci/core';
import { JEST_FILES, VITEST_FILES } from '../detect.js';
import {
  firstPresent,
  monorepoCommand,
  monorepoComment,
  quoteScript,
  scriptCallsTool,
  type InitContext,
  type Proposal,
} from './context.js';

/** The placeholder `npm init` writes: it fails on purpose and tests nothing. */
const NPM_PLACEHOLDER_TEST = /^echo "Error: no test specified" && exit 1$/;

export function proposeUnit({ f, pm, mono, monoHas }: InitContext): Proposal {
  const testScript =
    f.scripts.test && !NPM_PLACEHOLDER_TEST.test(f.scripts.test.trim())
      ? f.scripts.test
      : undefined;
  const vitestWhy =
    firstPresent(f, VITEST_FILES) ??
    (f.deps.has('vitest') ? 'vitest in devDependencies' : undefined) ??
    (testScript && /\bvitest\b/.test(testScript) ? 'the test script' : undefined);
  const jestWhy =
    firstPresent(f, JEST_FILES) ??
    (f.jestInPackageJson ? 'jest in package.json' : undefined) ??
    (f.deps.has('jest') ? 'jest in devDependencies' : undefined) ??
    (testScript && /\bjest\b/.test(testScript) ? 'the test script' : undefined);
  const unit = (gate: UserGate, comment: string[], detected: string): Proposal => ({
    gate: { id: 'unit', gate, comment },
    detected: [detected],
  });
  if (monoHas('test')) {
    return unit(
      {
        kind: 'unit-test',
        run: monorepoCommand(mono!, pm.exec, 'test'),
        evidence: [{ format: 'exitcode' }],
      },
      [
        `unit — ${monorepoComment(mono!, 'test')}`,
        "The exit code is the evidence; point each package's test runner at a JUnit file to get per-test results.",
      ],
      `unit: ${mono!.tool} task \`test\``,
    );
  }
  if (
    vitestWhy &&
    (testScript === undefined ||
      scriptCallsTool(testScript, 'vitest', /(^|\s)(--reporter|--outputFile|--coverage)\b/))
  ) {
    const coverage = ['@vitest/coverage-v8', '@vitest/coverage-istanbul'].find((d) =>
      f.deps.has(d),
    );
    let flags = `--reporter=default --reporter=junit --outputFile.junit="$GATEHOUSE_OUT/junit.xml"`;
    const evidence: UserGate['evidence'] = [{ format: 'junit', path: 'junit.xml' }];
    if (coverage) {
      // Without reportOnFailure Vitest writes no coverage when a test fails, and the gate would lose its evidence.
      flags +=
        ' --coverage.enabled --coverage.reportOnFailure --coverage.reporter=json-summary --coverage.reportsDirectory="$GATEHOUSE_OUT/coverage"';
      evidence.push({ format: 'istanbul', path: 'coverage/coverage-summary.json' });
    }
    // The project's own test script when it is one Vitest call (`vitest` alone watches: --run).
    const run = testScript
      ? pm.runScript(
          'test',
          /^vitest\s+run\b|(^|\s)--run\b/.test(testScript.trim()) ? flags : `--run ${flags}`,
        )
      : `${pm.exec} vitest run ${flags}`;
    return unit(
      { kind: 'unit-test', run, evidence },
      [
        `unit — ${testScript ? `your \`test\` script (${quoteScript(testScript)}), Vitest` : 'Vitest'} (found ${vitestWhy}), with a JUnit report as evidence${coverage ? ` and coverage from ${coverage}` : ''}.`,
        'A failed test fails the gate.' +
          (coverage ? ' Add policy.min_coverage to enforce a floor.' : ''),
      ],
      `unit: Vitest (${vitestWhy})${coverage ? `, coverage via ${coverage}` : ''}${jestWhy ? '; Jest also found, Vitest preferred' : ''}`,
    );
  }
  if (
    jestWhy &&
    (testScript === undefined || scriptCallsTool(testScript, 'jest', /(^|\s)--reporters\b/))
  ) {
    const junit = f.deps.has('jest-junit');
    const jest = (args: string) =>
      testScript ? pm.runScript('test', args) : `${pm.exec} jest ${args}`;
    return unit(
      junit
        ? {
            kind: 'unit-test',
            run: `JEST_JUNIT_OUTPUT_DIR="$GATEHOUSE_OUT" JEST_JUNIT_OUTPUT_NAME=junit.xml ${jest('--ci --reporters=default --reporters=jest-junit')}`,
            evidence: [{ format: 'junit', path: 'junit.xml' }],
          }
        : { kind: 'unit-test', run: jest('--ci'), evidence: [{ format: 'exitcode' }] },
      junit
        ? [`unit — Jest (found ${jestWhy}), with jest-junit writing the JUnit evidence.`]
        : [
            `unit — Jest (found ${jestWhy}). Only the exit code is evidence:`,
            'add jest-junit as a dev dependency and rerun `gatehouse init --force` for per-test results.',
          ],
      `unit: Jest (${jestWhy})${junit ? ', JUnit via jest-junit' : ', no jest-junit so exit code only'}`,
    );
  }
  if (testScript) {
    return unit(
      { kind: 'unit-test', run: pm.test, evidence: [{ format: 'exitcode' }] },
      [`unit — your \`test\` script (${quoteScript(testScript)}); its exit code decides.`],
      `unit: the test script (${vitestWhy || jestWhy ? 'not a single Vitest or Jest call' : 'no known runner'}, so exit code only)`,
    );
  }
  return { gate: null, detected: ['unit: nothing found (no Vitest, Jest or test script)'] };
}
