// The published schema is what editors check against; ajv (a real JSON Schema 2020-12
// implementation) must agree with `gatehouse validate` on structure.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { publishedSchema, validateBytes } from '../src/index.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
const check = ajv.compile(publishedSchema());

const VALID = `version: 1
name: storefront
image: node:22-bookworm-slim
workdir: /srv
setup: { inputs: [package.json, "src/**"], run: npm ci, env: { CI: "1" }, secrets: [NPM_TOKEN], timeout: 10m }
gates:
  lint: { kind: lint, run: npx eslint ., evidence: [{ format: eslint, path: eslint.json }], policy: { max_errors: 0, max_warnings: 10 } }
  sonar: { kind: sonarqube, run: npx @sonar/scan, secrets: [SONAR_TOKEN], mode: blocking, policy: { sonar_quality_gate: true } }
  unit: { kind: unit-test, run: npx vitest run, timeout: 600, evidence: [{ format: junit }, { format: lcov }], policy: { min_coverage: { lines: 80 } }, tools: { vitest: "3.2.4" } }
  build: { kind: build, run: npm run build, outputs: ["dist/**"], inputs: ["src/**", "!src/**/*.test.ts"] }
  a11y: { kind: a11y-test, needs: [build], run: npx pa11y-ci, policy: { max_violations: { serious: 0 } }, description: pages }
release: { from: build, copy: [dist/, package.json], cmd: [node, dist/server.js], expose: [8080], user: node, env: { NODE_ENV: production } }
targets: { dockerfile: {}, github: { mode: docker }, jenkins: }
plugins: [gatehouse-plugin-x]
`;

const structural: Array<[string, string]> = [
  ['unknown key', VALID.replace('workdir: /srv', 'workdri: /srv')],
  ['wrong type', VALID.replace('name: storefront', 'name: [storefront]')],
  ['missing run', VALID.replace('run: npm run build, ', '')],
  ['bad version', VALID.replace('version: 1', 'version: 2')],
  ['bad mode', VALID.replace('mode: blocking', 'mode: blocker')],
  ['bad evidence format', VALID.replace('format: lcov', 'format: lcv')],
  [
    'bad gate id',
    VALID.replace('  build:', '  Build:')
      .replace('needs: [build]', 'needs: [Build]')
      .replace('from: build', 'from: Build'),
  ],
  ['reserved secret', VALID.replace('[SONAR_TOKEN]', '[GITHUB_TOKEN]')],
  ['bad env name', VALID.replace('NODE_ENV', 'node-env')],
  ['bad timeout', VALID.replace('timeout: 10m', 'timeout: 10 minutes')],
  ['empty cmd', VALID.replace('cmd: [node, dist/server.js]', 'cmd: []')],
  ['empty gates', 'version: 1\nname: x\ngates: {}\n'],
  ['coverage over 100', VALID.replace('lines: 80', 'lines: 101')],
];

describe('published schema vs the validator', () => {
  it('both accept a full valid config', () => {
    expect(validateBytes(Buffer.from(VALID), '/p/gatehouse.yml').diagnostics).toEqual([]);
    expect(check(parse(VALID)), JSON.stringify(check.errors)).toBe(true);
  });

  it('accepts a config that takes its name and gates from a preset, and only then', () => {
    expect(check(parse('version: 1\nextends: [./presets/web.yml]\n'))).toBe(true);
    expect(check(parse('version: 1\n'))).toBe(false);
    expect(check(parse('version: 1\nname: x\n'))).toBe(false);
    expect(check(parse('extends: [./presets/web.yml]\n'))).toBe(false);
  });

  it.each(structural)('both reject: %s', (_name, yaml) => {
    const errors = validateBytes(Buffer.from(yaml), '/p/gatehouse.yml').diagnostics.filter(
      (d) => d.severity === 'error',
    );
    expect(errors.length).toBeGreaterThan(0);
    expect(check(parse(yaml))).toBe(false);
  });
});

describe('published schema and presets', () => {
  it('accepts removed gates and appended lists in a config that extends presets, and only there', () => {
    const extending = `version: 1
extends: [./presets/web.yml]
plugins+: [gatehouse-plugin-x]
setup: { inputs+: [.npmrc] }
gates:
  sonar: null
  lint: { inputs+: [test/**] }
  unit: { kind: unit-test, run: npx vitest run }
`;
    expect(check(parse(extending)), JSON.stringify(check.errors)).toBe(true);
    expect(
      validateBytes(Buffer.from(extending), '/p/gatehouse.yml').diagnostics.map((d) => d.code),
    ).not.toContain('GH_UNKNOWN_KEY');
    const plain = 'version: 1\nname: x\ngates:\n  lint: { run: eslint . }\n';
    expect(check(parse(plain))).toBe(true);
    for (const bad of [
      plain.replace('  lint: { run: eslint . }', '  lint: { run: eslint ., inputs+: [a] }'),
      `${plain}  sonar: null\n`,
      `${plain}plugins+: [a]\n`,
      `${plain}setup: { run: npm ci, inputs+: [a] }\n`,
    ]) {
      expect(check(parse(bad)), bad).toBe(false);
      expect(
        validateBytes(Buffer.from(bad), '/p/gatehouse.yml').diagnostics.length,
        bad,
      ).toBeGreaterThan(0);
    }
  });
});
