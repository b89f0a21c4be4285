import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as run } from './helpers.js';

const fixture = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../plugins/dockerfile/test/import/Dockerfile.ci',
);
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function shop(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-import-cli-'));
  dirs.push(dir);
  await copyFile(fixture, join(dir, 'Dockerfile'));
  return dir;
}

describe('gatehouse import', () => {
  it('prints the config on stdout and the findings with FILE:LINE on stderr', async () => {
    const dir = await shop();
    const r = await run(['import'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# imported by `gatehouse import` from Dockerfile/);
    expect(r.out).toContain('run: "npm run lint"');
    expect(r.err).toContain('Dockerfile:34: GH_IMPORT_RUN_NEVER_ENDS:');
    expect(r.err).toContain('Dockerfile:14: GH_IMPORT_SCANNER_NEVER_RUNS:');
    expect(r.err).toMatch(/\d+ problems found in Dockerfile/);
  });

  it('writes -o, refuses to overwrite without --force, and the result validates', async () => {
    const dir = await shop();
    expect((await run(['import', 'Dockerfile', '-o', 'gatehouse.yml'], dir)).code).toBe(0);
    expect(await readFile(join(dir, 'gatehouse.yml'), 'utf8')).toContain('gates:');
    const again = await run(['import', '-o', 'gatehouse.yml'], dir);
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('already exists');
    expect((await run(['import', '-o', 'gatehouse.yml', '--force'], dir)).code).toBe(0);
    const v = await run(['validate'], dir);
    expect(v.code, v.out + v.err).toBe(0);
  });

  it('--format json lists the findings as data', async () => {
    const dir = await shop();
    const r = await run(['import', '--format', 'json'], dir);
    const doc = JSON.parse(r.out) as {
      version: number;
      findings: Array<{ line: number; code: string }>;
      config: string;
    };
    expect(doc.version).toBe(1);
    expect(doc.findings).toContainEqual(
      expect.objectContaining({ line: 27, code: 'GH_IMPORT_EXEC_FORM_NOT_JSON' }),
    );
    expect(doc.config).toContain('version: 1');
  });

  it('a missing Dockerfile is a located error', async () => {
    const dir = await shop();
    const r = await run(['import', 'nope/Dockerfile'], dir);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('cannot read nope/Dockerfile');
  });
});
