import { describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipeline, validateConfig } from '@gatehouse-ci/core';
import { emitDockerfile, importDockerfile } from '../../src/index.js';
import { parseDockerfile } from '../../src/import/parse.js';

const here = dirname(fileURLToPath(import.meta.url));
const original = await readFile(join(here, 'Dockerfile.ci'), 'utf8');

describe('gatehouse import of a hand-written Dockerfile-as-CI', () => {
  const result = importDockerfile(original, { name: 'shop', source: 'Dockerfile.ci' });
  const found = result.findings.map((f) => `${f.line} ${f.code}`);

  test('finds every problem of the original, with its line', () => {
    expect(found).toEqual(
      expect.arrayContaining([
        '4 GH_IMPORT_SECRET_IN_ARG_ENV', // ARG NPM_TOKEN
        '5 GH_IMPORT_SECRET_IN_ARG_ENV', // ENV SONAR_TOKEN=…
        '12 GH_IMPORT_NPM_NOT_A_COMMAND', // RUN npm lint
        '14 GH_IMPORT_UNREACHABLE_STAGE', // sonarqube
        '14 GH_IMPORT_SCANNER_NEVER_RUNS',
        '20 GH_IMPORT_UNREACHABLE_STAGE', // unit-tests
        '26 GH_IMPORT_UNREACHABLE_STAGE', // access-tests
        '27 GH_IMPORT_EXEC_FORM_NOT_JSON', // curly quotes
        '29 GH_IMPORT_UNPINNED_IMAGE', // node:latest
        '34 GH_IMPORT_RUN_NEVER_ENDS', // RUN npm start
      ]),
    );
    // Reachable stages are not reported, and a pinned/ARG-pinned FROM is not either.
    expect(found).not.toContain('11 GH_IMPORT_UNREACHABLE_STAGE'); // linting: the release copies from it
    expect(found).not.toContain('23 GH_IMPORT_UNREACHABLE_STAGE'); // build
    expect(found).not.toContain('3 GH_IMPORT_UNPINNED_IMAGE'); // node:${NODE_VERSION} = node:20
    expect(found.filter((f) => f.endsWith('UNREACHABLE_STAGE'))).toHaveLength(3);
    expect(result.findings.every((f) => f.message.length > 0 && f.fix.length > 0)).toBe(true);
  });

  test('the generated config keeps the intent and fixes the bugs', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking generated data
    const c = result.config as Record<string, any>;
    expect(c['image']).toBe('node:20');
    expect(c['workdir']).toBe('/usr/src/app');
    expect(c['setup']).toEqual({
      run: 'npm ci',
      inputs: ['package.json', 'package-lock.json'],
      secrets: ['NPM_TOKEN'],
    });
    expect(Object.keys(c['gates'])).toEqual([
      'linting',
      'sonarqube',
      'unit-tests',
      'build',
      'access-tests',
    ]);
    expect(c['gates'].linting).toMatchObject({ kind: 'lint', run: 'npm run lint' });
    expect(c['gates'].sonarqube).toMatchObject({
      kind: 'sonarqube',
      mode: 'advisory',
      secrets: ['SONAR_TOKEN'],
      env: { SONAR_HOST_URL: 'https://sonar.example.com' },
      run: 'npx sonar-scanner -Dsonar.projectKey=shop -Dsonar.qualitygate.wait=true',
    });
    expect(c['gates']['unit-tests']).toMatchObject({ kind: 'unit-test', run: 'npm run test:unit' });
    expect(c['gates'].build).toMatchObject({
      kind: 'build',
      run: 'npm run build',
      outputs: ['dist/**'],
    });
    expect(c['gates']['access-tests']).toMatchObject({
      kind: 'a11y-test',
      needs: ['build'],
      run: 'npx pa11y-ci',
    });
    expect(c['release']).toMatchObject({
      from: 'build',
      cmd: ['npm', 'start'],
      expose: [3000],
      image: 'node:latest',
    });
    expect(c['release'].copy).toEqual(['dist/', 'package.json']);
    expect(result.yaml).not.toContain('changeme');
    expect(result.yaml.startsWith('# imported by `gatehouse import` from Dockerfile.ci')).toBe(
      true,
    );
  });

  test('the generated gatehouse.yml validates and compiles to a Dockerfile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-import-'));
    try {
      await writeFile(join(dir, 'gatehouse.yml'), result.yaml);
      const v = await validateConfig(join(dir, 'gatehouse.yml'));
      expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const p = await loadPipeline(join(dir, 'gatehouse.yml'));
      const { dockerfile } = emitDockerfile(p);
      expect(dockerfile).toContain('FROM gate-build AS gate-access-tests');
      expect(dockerfile).toContain('CMD ["npm", "start"]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('the reader joins continuation lines, keeps start lines, reads directives and flags', () => {
    const df = parseDockerfile(
      '# escape=`\nFROM a AS One\nRUN echo `\n  # comment\n  two\nCOPY --from=one --chown=1:1 x /y\n',
    );
    expect(df.stages[0]).toMatchObject({ name: 'one', from: 'a', line: 2 });
    expect(df.stages[0]!.instructions[0]).toMatchObject({
      keyword: 'RUN',
      line: 3,
      args: 'echo two',
    });
    expect(df.stages[0]!.instructions[1]).toMatchObject({
      keyword: 'COPY',
      line: 6,
      flags: { from: 'one', chown: '1:1' },
    });
  });

  test('a clean Dockerfile yields no unreachable or never-ending findings', () => {
    const clean = [
      'FROM node:20.19.5-bookworm-slim AS builder',
      'WORKDIR /app',
      'COPY package.json ./',
      'RUN npm ci',
      'FROM builder AS test',
      'RUN npm test',
      'FROM node:20.19.5-bookworm-slim AS serve',
      'COPY --from=test /app/package.json ./',
      'CMD ["node", "index.js"]',
      '',
    ].join('\n');
    const r = importDockerfile(clean);
    expect(r.findings.map((f) => f.code)).toEqual(['GH_IMPORT_CHECK_ABORTS_BUILD']);
  });
});

describe('gatehouse import never writes a gate that cannot fail', () => {
  const classic = readFileSync(join(here, 'Dockerfile.classic'), 'utf8');
  const r = importDockerfile(classic, { name: 'classic', source: 'Dockerfile' });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking generated data
  const c = r.config as Record<string, any>;
  const found = r.findings.map((f) => `${f.line} ${f.code}`);

  test('a scanner stage without a command becomes a real scan that waits for the quality gate', () => {
    expect(c['gates'].sonarqube).toEqual({
      kind: 'sonarqube',
      run: 'npx @sonar/scan -Dsonar.qualitygate.wait=true',
      secrets: ['SONAR_TOKEN'],
      when: { env: ['SONAR_HOST_URL'] },
      mode: 'advisory',
    });
    expect(found).toContain('10 GH_IMPORT_STAGE_WITHOUT_COMMAND');
  });

  test('another stage without a command becomes a gate that fails until it is given one', () => {
    const g = c['gates']['custom-check'];
    expect(g.run).not.toBe('true');
    const sh = spawnSync('/bin/sh', ['-c', g.run], { encoding: 'utf8' });
    expect(sh.status).toBe(1);
    expect(sh.stderr).toContain('custom-check');
    expect(found).toContain('19 GH_IMPORT_STAGE_WITHOUT_COMMAND');
  });

  test('RUN ["npm", "start"] at build time is reported and becomes the release command', () => {
    expect(found).toContain('26 GH_IMPORT_RUN_NEVER_ENDS');
    expect(c['release'].cmd).toEqual(['npm', 'start']);
  });

  test('file globs stay file globs', () => {
    expect(c['setup'].inputs).toEqual(['package*']);
    expect(c['release'].copy).toEqual(['package*', 'src/']);
    expect(c['gates'].linting.outputs).toEqual(['package*', 'src/**']);
    expect(r.yaml).not.toContain('package*/');
  });

  test('the result validates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-import-'));
    try {
      await writeFile(join(dir, 'gatehouse.yml'), r.yaml);
      const v = await validateConfig(join(dir, 'gatehouse.yml'));
      expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const emitted = emitDockerfile(await loadPipeline(join(dir, 'gatehouse.yml')));
      // The release copies from the gate it is built from, through the verdict.
      expect(emitted.dockerfile).toMatch(/^FROM gate-linting AS gatehouse-judged$/m);
      expect(emitted.dockerfile).toMatch(/^COPY --from=gatehouse-judged .*package\*/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('without any CMD the release command is not invented', () => {
    const noCmd = importDockerfile(
      'FROM node:20 AS builder\nRUN npm ci\nFROM builder AS unit\nRUN npm test\nFROM node:20-slim AS serve\nCOPY --from=unit /app/dist ./dist\n',
    );
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking generated data
    const release = (noCmd.config as Record<string, any>)['release'];
    expect(release.cmd).toEqual(['npm', 'start']);
    expect(noCmd.findings.map((f) => f.code)).toContain('GH_IMPORT_NO_CMD');
    expect(noCmd.yaml).not.toContain('index.js');
  });
});

describe('docs/migrating-from-dockerfile.md', () => {
  test('its example is what the import produces', async () => {
    const doc = await readFile(join(here, '../../../../docs/migrating-from-dockerfile.md'), 'utf8');
    const dockerfile = /```dockerfile\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const r = importDockerfile(dockerfile, { name: 'shop' });
    expect(r.yaml).toBe(yaml);
    expect(r.findings.map((f) => `${f.line} ${f.code}`)).toEqual(
      expect.arrayContaining([
        '3 GH_IMPORT_SECRET_IN_ARG_ENV',
        '9 GH_IMPORT_UNREACHABLE_STAGE',
        '10 GH_IMPORT_NPM_NOT_A_COMMAND',
        '15 GH_IMPORT_UNPINNED_IMAGE',
        '18 GH_IMPORT_RUN_NEVER_ENDS',
      ]),
    );
  });
});
