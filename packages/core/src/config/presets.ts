/**
 * Built-in gate kinds and their defaults. A plugin can add kinds (`gateKinds`); it cannot
 * replace a built-in one.
 */
import type { GateKindPreset } from '../plugin.js';
import type { EvidenceFormat } from '../model.js';

/** Defaults applied to gates by kind. */
export const BUILTIN_PRESETS: Record<string, GateKindPreset> = {
  lint: {
    description: 'Static analysis (ESLint, Stylelint, …).',
    defaults: { timeout: '10m', mode: 'blocking' },
  },
  // A scan depends on a server the team may not control; it blocks only when asked to.
  sonarqube: {
    description: 'SonarQube / SonarCloud scan and quality gate.',
    defaults: { timeout: '15m', mode: 'advisory' },
  },
  'unit-test': {
    description: 'Unit tests, optionally with coverage.',
    defaults: { timeout: '20m', mode: 'blocking' },
  },
  'a11y-test': {
    description: 'Accessibility tests (pa11y, axe).',
    defaults: { timeout: '15m', mode: 'blocking' },
  },
  build: {
    description: 'Build the artefact the release is made from.',
    defaults: { timeout: '20m', mode: 'blocking' },
  },
  custom: {
    description: 'Anything else; judged by exit code unless evidence is given.',
    defaults: { timeout: '30m', mode: 'blocking' },
  },
};

/** Default timeout of `setup`. */
export const SETUP_TIMEOUT = '30m';
/** Default runtime image when the config names none. */
export const DEFAULT_IMAGE = 'node:20-bookworm-slim';
/** Default working directory inside containers. */
export const DEFAULT_WORKDIR = '/app';

/** Policy keys each built-in kind measures; kinds from plugins accept every key. */
export const POLICY_KEYS_BY_KIND: Record<string, string[]> = {
  lint: ['max_errors', 'max_warnings', 'baseline'],
  sonarqube: ['sonar_quality_gate', 'baseline'],
  'unit-test': ['max_failed', 'min_coverage', 'baseline'],
  'a11y-test': ['max_violations', 'baseline'],
  build: [],
  custom: [
    'max_errors',
    'max_warnings',
    'max_failed',
    'min_coverage',
    'max_violations',
    'sonar_quality_gate',
    'baseline',
  ],
};

/** Evidence file name used when an `evidence` entry gives a format but no `path`. */
export const DEFAULT_EVIDENCE_PATHS: Record<EvidenceFormat, string | null> = {
  eslint: 'eslint.json',
  sarif: 'results.sarif',
  junit: 'junit.xml',
  istanbul: 'coverage-summary.json',
  lcov: 'lcov.info',
  ctrf: 'ctrf.json',
  cobertura: 'cobertura-coverage.xml',
  pa11y: 'pa11y.json',
  axe: 'axe.json',
  sonarqube: 'sonarqube.json',
  exitcode: null,
};
