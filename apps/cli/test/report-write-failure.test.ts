// A full disk while the report is written: `gatehouse run` says which file and why, still
// prints the summary, and exits 1 (not a stack trace and exit 70). The failure is injected
// into the report package's atomic writer, which every report file goes through.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from './helpers.js';

const inject = vi.hoisted(() => ({ failing: null as RegExp | null, attempts: [] as string[] }));

vi.mock('../../../packages/report/src/util.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('@gatehouse-ci/report')>();
  return {
    ...real,
    async writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): Promise<void> {
      if (inject.failing?.test(path)) {
        inject.attempts.push(path);
        // What node's fs gives for a full disk: the temporary file's path, code and errno.
        throw Object.assign(new Error(`ENOSPC: no space left on device, write`), {
          code: 'ENOSPC',
          errno: -28,
          syscall: 'write',
          path: `${path}.1234.tmp`,
        });
      }
      return real.writeFileAtomic(path, data, mode);
    },
  };
});

const dirs: string[] = [];
afterEach(() => {
  inject.failing = null;
  inject.attempts = [];
});
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function project(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-enospc-'));
  dirs.push(dir);
  await writeFile(
    join(dir, 'gatehouse.yml'),
    'version: 1\nname: full\ngates:\n  lint: { run: echo lint }\n  unit: { run: echo unit; exit 3 }\n',
  );
  return dir;
}

const run = (argv: string[], cwd: string) =>
  runCli(argv, cwd, { PATH: process.env.PATH, CI: 'true' });

describe('gatehouse run on a full disk', () => {
  it.each([
    ['report.html', /report\.html$/],
    ['report.json', /runs\/[^/]+\/report\.json$/],
  ])('names %s and ENOSPC, keeps the summary, exits 1', async (file, failing) => {
    const dir = await project();
    inject.failing = failing;
    const r = await run(['run'], dir);
    expect(inject.attempts.length).toBeGreaterThan(0);
    expect(r.code, r.err).toBe(1);
    const runId = (await readdir(join(dir, '.gatehouse', 'runs')))[0]!;
    expect(r.err).toContain(
      `gatehouse run: error GH_REPORT_WRITE: cannot write .gatehouse/runs/${runId}/${file}: ENOSPC (no space left on device)`,
    );
    expect(r.err).not.toMatch(/internal error|\n\s+at /);
    // The summary is still there: the verdict, the counts, the failing gate's log tail.
    expect(r.out).toContain('✖ FAILED');
    expect(r.out).toMatch(/1 passed/);
    expect(r.out).toContain('── unit failed');
    expect(r.out).toContain('report: not written');
    expect(existsSync(join(dir, '.gatehouse', 'runs', runId, 'report.json'))).toBe(false);
  });

  it('names the --result-file when that is what cannot be written', async () => {
    const dir = await project();
    inject.failing = /out\/lint\.json$/;
    const r = await run(['run', '--only', 'lint', '--result-file', 'out/lint.json'], dir);
    expect(r.code, r.err).toBe(1);
    expect(r.err).toContain(
      'gatehouse run: error GH_REPORT_WRITE: cannot write out/lint.json: ENOSPC (no space left on device)',
    );
    expect(r.out).toContain('✔ PASSED');
  });
});
