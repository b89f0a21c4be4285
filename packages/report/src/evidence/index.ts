import type { EvidenceFormat } from '@gatehouse-ci/core';
export { EvidenceError } from './types.js';
export type { ParsedEvidence, ParseContext } from './types.js';
export { parseEslint } from './eslint.js';
export { parseSarif } from './sarif.js';
export { parseJunit, readJunitCases, testSummaryOf, type JunitCase } from './junit.js';
export { parseIstanbul, parseLcov } from './coverage.js';
export { parsePa11y, parseAxe } from './a11y.js';
export { parseSonar } from './sonarqube.js';
export { parseCtrf } from './ctrf.js';
export { parseCobertura } from './cobertura.js';
export { parseEvidence, mergeEvidence } from './dispatch.js';
/** Formats that read a file (every format but `exitcode`). */
export const FILE_FORMATS: EvidenceFormat[] = [
  'eslint',
  'sarif',
  'junit',
  'istanbul',
  'lcov',
  'pa11y',
  'axe',
  'sonarqube',
  'ctrf',
  'cobertura',
];
