import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunReport } from '@gatehouse-ci/core';
import { validateReportSchema } from '@gatehouse-ci/report';
import { requireBwrap } from '@gatehouse-ci/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

const hasBwrap = requireBwrap('the `run --sandbox` command tests');

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-sandbox-'));
  dirs.push(dir);
  for (const [p, c] of Object.entries(files)) {
    await mkdir(dirname(join(dir, p)), { recursive: true });
    await writeFile(join(dir, p), c);
  }
  return dir;
}

const CONFIG = `version: 1
name: sandboxed
gates:
  build:
    run: mkdir -p dist && cp src/app.js dist/app.js
    inputs: [src/app.js]
    outputs: [dist/**]
  page:
    needs: [build]
    run: cat dist/app.js src/style.css
    inputs: [src/app.js]
`;

const env = { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true' };

describe.skipIf(!hasBwrap)('gatehouse run --sandbox', () => {
  it('names the undeclared file, exits 1, and records the sandbox in the report', async () => {
    const dir = await project({
      'gatehouse.yml': CONFIG,
      'src/app.js': 'app\n',
      'src/style.css': 'css\n',
    });
    const plain = await runCli(['run'], dir, env);
    expect(plain.code, plain.out).toBe(0);

    const r = await runCli(['run', '--sandbox'], dir, env);
    expect(r.code, r.out + r.err).toBe(1);
    expect(r.out).toMatch(/✔ build passed/);
    expect(r.out).toMatch(
      /✖ page error \S+: inputs incomplete: it reads src\/style\.css, not shown in the sandbox/,
    );
    const report = JSON.parse(
      readFileSync(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'),
    ) as RunReport;
    expect(validateReportSchema(report)).toEqual([]);
    expect(report.gates.map((g) => [g.id, g.status, g.sandbox])).toEqual([
      ['build', 'passed', true],
      ['page', 'error', true],
    ]);

    // Declared, it passes in the sandbox.
    await writeFile(
      join(dir, 'gatehouse.yml'),
      CONFIG.replace(/(page:[\s\S]*inputs: )\[src\/app\.js\]/, '$1[src/app.js, src/style.css]'),
    );
    const fixed = await runCli(['run', '--sandbox'], dir, env);
    expect(fixed.code, fixed.out).toBe(0);
    expect(fixed.out).toMatch(/✔ PASSED/);
  });
});

describe('gatehouse run --sandbox, refused', () => {
  it('exits 2 with one clear line when bwrap is missing, running nothing', async () => {
    const dir = await project({
      'gatehouse.yml': 'version: 1\nname: x\ngates:\n  g:\n    run: touch ran\n',
    });
    const r = await runCli(['run', '--sandbox'], dir, { PATH: '/nonexistent', CI: 'true' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^gatehouse run: error GH_SANDBOX_UNAVAILABLE: --sandbox needs bubblewrap, and no `bwrap` is on PATH; nothing was run\n {2}hint: install bubblewrap \(Debian\/Ubuntu: apt-get install bubblewrap\)/,
    );
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(existsSync(join(dir, '.gatehouse', 'runs'))).toBe(false);
  });

  it('refuses --sandbox with another executor', async () => {
    const dir = await project({
      'gatehouse.yml': 'version: 1\nname: x\ngates:\n  g:\n    run: touch ran\n',
    });
    const r = await runCli(['run', '--sandbox', '--executor', 'docker'], dir, env);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--sandbox runs gates locally under bubblewrap/);
  });

  it('lists --sandbox in `run --help`', async () => {
    const r = await runCli(['run', '--help'], process.cwd(), env);
    expect(r.out).toMatch(/--sandbox\s+Prove inputs complete/);
  });
});
