import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sha256, type RunReport } from '@gatehouse-ci/core';
import { runCli } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const PRESET = `version: 1
name: web standard
gates:
  lint:
    kind: lint
    run: "true"
    policy: { max_warnings: 10 }
  unit:
    kind: unit-test
    run: "true"
    needs: [lint]
  sonar:
    kind: sonarqube
    run: "true"
    mode: blocking
`;

async function project(config: string, files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-presets-cli-'));
  dirs.push(dir);
  const all = { 'gatehouse.yml': config, 'presets/web.yml': PRESET, ...files };
  for (const [p, text] of Object.entries(all)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), text);
  }
  return dir;
}

const EXTENDS = 'version: 1\nname: shop\nextends: [./presets/web.yml]\n';
const ENV = { PATH: process.env.PATH, CI: 'true' };

describe('gatehouse validate with presets', () => {
  it('prints the merged config as YAML with --print-resolved, the summary on stderr', async () => {
    const dir = await project(`${EXTENDS}gates:\n  sonar: null\n  unit:\n    needs+: [lint]\n`);
    const r = await runCli(['validate', '--print-resolved'], dir);
    expect(r.code, r.err).toBe(0);
    expect(parse(r.out)).toEqual({
      version: 1,
      name: 'shop',
      gates: {
        lint: { kind: 'lint', run: 'true', policy: { max_warnings: 10 } },
        unit: { kind: 'unit-test', run: 'true', needs: ['lint', 'lint'] },
      },
    });
    expect(r.err).toContain('0 errors, 0 warnings');
    // The printed config is itself a valid config without presets.
    const again = await project(r.out);
    expect((await runCli(['validate'], again)).code).toBe(0);
  });

  it('gives the merged config and the presets in the JSON output', async () => {
    const dir = await project(EXTENDS);
    const r = await runCli(['validate', '--format', 'json', '--print-resolved'], dir);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { resolved: { gates: object }; presets: unknown };
    expect(Object.keys(out.resolved.gates)).toEqual(['lint', 'unit', 'sonar']);
    expect(out.presets).toEqual([{ name: 'presets/web.yml', sha256: sha256(Buffer.from(PRESET)) }]);
  });

  it('locates an error in the preset and names the chain', async () => {
    const dir = await project(EXTENDS, {
      'presets/web.yml': PRESET.replace('needs: [lint]', 'needs: [lnt]'),
    });
    const r = await runCli(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('presets/web.yml:11:13');
    expect(r.out).toContain('unknown gate `lnt` (via gatehouse.yml:3:11 extends[0])');
    expect(r.out).toContain('> 11 |     needs: [lnt]');
  });
});

describe('target options written in a preset', () => {
  it('are located in the preset, without a frame drawn from the config', async () => {
    const dir = await project(EXTENDS, {
      'presets/web.yml': `${PRESET}targets:\n  github: { bogus: 1 }\n`,
    });
    const r = await runCli(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('presets/web.yml:17:13 error GH_UNKNOWN_KEY targets.github.bogus');
    expect(r.out).not.toMatch(/^\s*> \d+ \|/m);
  });
});

describe('gatehouse drift', () => {
  it('exits 0 with no drift, listing additions', async () => {
    const dir = await project(`${EXTENDS}gates:\n  e2e: { run: "true", needs: [unit] }\n`);
    const r = await runCli(['drift'], dir);
    expect(r.out).toBe(
      [
        'gatehouse.yml extends presets/web.yml',
        '  added      e2e',
        'no drift: the config only adds gates or tightens thresholds',
        '',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
  });

  it('exits 1 on drift, in text and JSON', async () => {
    const dir = await project(
      `${EXTENDS}gates:\n  sonar: { mode: advisory }\n  unit: null\n  lint:\n    policy: { max_warnings: 50 }\n`,
    );
    const text = await runCli(['drift'], dir);
    expect(text.code).toBe(1);
    expect(text.out).toBe(
      [
        'gatehouse.yml extends presets/web.yml',
        '  loosened   lint.policy.max_warnings: 10 -> 50',
        '  removed    unit',
        '  loosened   sonar.mode: "blocking" -> "advisory"',
        'drift: 3 difference(s) remove, loosen or change what the presets define',
        '',
      ].join('\n'),
    );
    const json = await runCli(['drift', '--json'], dir);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toEqual({
      version: 1,
      file: 'gatehouse.yml',
      presets: [{ name: 'presets/web.yml', sha256: sha256(Buffer.from(PRESET)) }],
      drift: true,
      counts: { removed: 1, added: 0, loosened: 2, tightened: 0, changed: 0 },
      differences: [
        {
          gate: 'lint',
          change: 'loosened',
          key: 'policy.max_warnings',
          preset: 10,
          config: 50,
        },
        { gate: 'unit', change: 'removed' },
        { gate: 'sonar', change: 'loosened', key: 'mode', preset: 'blocking', config: 'advisory' },
      ],
    });
  });

  it('exits 2 when there is nothing to compare or the config is invalid', async () => {
    const plain = await project('version: 1\nname: shop\ngates:\n  a: { run: "true" }\n');
    const r = await runCli(['drift'], plain);
    expect(r.code).toBe(2);
    expect(r.err).toContain('extends no preset');
    const broken = await project(EXTENDS, { 'presets/web.yml': 'version: 1\ngates: 3\n' });
    expect((await runCli(['drift', '--json'], broken)).code).toBe(2);
    const missing = await project(EXTENDS);
    expect((await runCli(['drift', '--config', 'nope.yml'], missing)).code).toBe(2);
  });
});

describe('the report of a config with presets', () => {
  it('records each preset with its digest, renders it, and still verifies', async () => {
    const PLAIN = 'version: 1\ngates:\n  a: { run: "true" }\n  b: { run: "true", needs: [a] }\n';
    const dir = await project(`${EXTENDS}gates:\n  b: null\n`, { 'presets/web.yml': PLAIN });
    const run = await runCli(['run', '--no-cache'], dir, ENV);
    expect(run.code, run.err + run.out).toBe(0);
    const reportFile = join(dir, '.gatehouse', 'report', 'report.json');
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as RunReport;
    expect(report.gates.map((g) => [g.id, g.status])).toEqual([['a', 'passed']]);
    expect(report.presets).toEqual([
      { name: 'presets/web.yml', sha256: sha256(Buffer.from(PLAIN)) },
    ]);
    const v = await runCli(['report', 'verify', '--schema', reportFile], dir, ENV);
    expect(v.code, v.out + v.err).toBe(0);
    expect(v.out).toMatch(/^OK /);
    const md = await readFile(join(dir, '.gatehouse', 'report', 'report.md'), 'utf8');
    expect(md).toContain(
      `preset \`presets/web.yml\` sha256 \`${sha256(Buffer.from(PLAIN)).slice(0, 12)}\``,
    );
    const html = await readFile(join(dir, '.gatehouse', 'report', 'report.html'), 'utf8');
    expect(html).toContain('<dt>Preset</dt><dd><code>presets/web.yml</code>');

    // An edit of the preset record breaks the seal.
    const text = await readFile(reportFile, 'utf8');
    await writeFile(reportFile, text.replace('presets/web.yml', 'presets/other.yml'));
    expect((await runCli(['report', 'verify', reportFile], dir, ENV)).code).toBe(1);
  });
});
