/**
 * `packages.direct`: a package's script started without its package manager, against the same
 * script run by the real npm. A shim `npm` on PATH records every start of npm, so the tests see
 * which way each gate ran (in a file beside the workspace: a file of its root is an input of
 * every package's gate).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateReportSchema } from '@gatehouse-ci/report';
import { runCli, type CliResult } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const REAL_NPM = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();

/**
 * An npm workspace: `tell` is a tool installed at the root (`node_modules/.bin`), `own-tool` one
 * installed in package a only; a's `check` script uses both and npm's variables, b's fails.
 */
async function workspace(direct: boolean, extra: Record<string, string> = {}) {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'gatehouse-direct-')));
  dirs.push(root, `${root}.npm-starts`);
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'ws', private: true, workspaces: ['packages/*'] }),
    'package-lock.json': '{"lockfileVersion":3,"packages":{}}\n',
    'node_modules/.bin/tell': '#!/bin/sh\necho "tell: $*"\n',
    'packages/a/node_modules/.bin/own-tool': '#!/bin/sh\necho "own-tool in $(basename "$PWD")"\n',
    'packages/a/package.json': JSON.stringify({
      name: '@acme/a',
      version: '1.2.3',
      scripts: {
        check:
          'tell "$npm_package_name@$npm_package_version" "$npm_lifecycle_event" && own-tool && echo "$npm_lifecycle_script" > "$GATEHOUSE_OUT/script.txt"',
      },
    }),
    'packages/b/package.json': JSON.stringify({
      name: '@acme/b',
      version: '0.0.1',
      scripts: { check: 'tell b; exit 3' },
    }),
    'bin/npm': `#!/bin/sh\necho "$PWD $*" >> "${root}.npm-starts"\nexec ${REAL_NPM} "$@"\n`,
    'gatehouse.yml': `version: 1
name: ws
gates:
  check:
    kind: lint
    packages: { script: check${direct ? ', direct: true' : ''} }
`,
    ...extra,
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
    if (rel.includes('bin/')) await chmod(join(root, rel), 0o755);
  }
  return root;
}

async function gatehouse(root: string, argv: string[]): Promise<CliResult> {
  return runCli(argv, root, {
    PATH: `${join(root, 'bin')}:${process.env.PATH}`,
    HOME: process.env.HOME,
    CI: 'true',
  });
}

/** Each gate's status in the run's report, and its log. */
async function outcome(root: string) {
  const report = JSON.parse(
    readFileSync(join(root, '.gatehouse', 'report', 'report.json'), 'utf8'),
  ) as { gates: Array<{ id: string; status: string; direct?: boolean }> };
  const logs: Record<string, string> = {};
  const runs = join(root, '.gatehouse', 'runs');
  for (const run of existsSync(runs) ? await readdir(runs) : [])
    for (const id of ['a-check', 'b-check']) {
      const log = join(runs, run, 'logs', `${id}.log`);
      if (existsSync(log)) logs[id] = readFileSync(log, 'utf8');
    }
  expect(validateReportSchema(report)).toEqual([]);
  return {
    status: Object.fromEntries(report.gates.map((g) => [g.id, g.status])),
    direct: Object.fromEntries(report.gates.map((g) => [g.id, g.direct ?? false])),
    logs,
    npmStarts: existsSync(`${root}.npm-starts`)
      ? readFileSync(`${root}.npm-starts`, 'utf8').trim().split('\n')
      : [],
  };
}

describe('packages.direct', () => {
  it('gives the verdicts and script environment npm gives, without starting npm', async () => {
    const viaNpm = await workspace(false);
    const r1 = await gatehouse(viaNpm, ['run']);
    const direct = await workspace(true);
    const r2 = await gatehouse(direct, ['run']);
    expect([r1.code, r2.code]).toEqual([1, 1]);
    const a = await outcome(viaNpm);
    const b = await outcome(direct);
    expect(a.status).toEqual({ 'a-check': 'passed', 'b-check': 'failed' });
    expect(b.status).toEqual(a.status);
    // npm ran both gates in the first workspace, and none in the second.
    expect(a.npmStarts.map((l) => l.replace(viaNpm, '.'))).toEqual(
      expect.arrayContaining(['./packages/a run check', './packages/b run check']),
    );
    expect(b.npmStarts).toEqual([]);
    // The report says which way each gate ran.
    expect(a.direct).toEqual({ 'a-check': false, 'b-check': false });
    expect(b.direct).toEqual({ 'a-check': true, 'b-check': true });
    // The same tools were found, with the same variables, from the package directory.
    for (const o of [a, b]) {
      expect(o.logs['a-check']).toContain('tell: @acme/a@1.2.3 check');
      expect(o.logs['a-check']).toContain('own-tool in a');
      expect(o.logs['b-check']).toContain('tell: b');
    }
    expect(b.logs['a-check']).toContain(
      '> @acme/a@1.2.3 check (started directly, not through npm)',
    );
  });

  it('runs through the package manager when a pre script, or an .npmrc setting, asks for it', async () => {
    const pre = await workspace(true, {
      'packages/a/package.json': JSON.stringify({
        name: '@acme/a',
        scripts: { precheck: 'tell pre', check: 'tell main' },
      }),
      'packages/b/.npmrc': 'script-shell=/bin/sh\n',
    });
    const r = await gatehouse(pre, ['run']);
    const o = await outcome(pre);
    expect(r.out + r.err).toContain(
      'gate a-check runs through npm, not directly: it has a precheck script',
    );
    expect(r.out + r.err).toMatch(
      /gate b-check runs through npm, not directly: .*\.npmrc sets script-shell/,
    );
    // npm ran the pre script, as it does.
    expect(o.logs['a-check']).toContain('tell: pre');
    expect(o.npmStarts.length).toBe(2);
  });

  it('keeps results of the two ways apart in the cache', async () => {
    const root = await workspace(false);
    await gatehouse(root, ['run']);
    expect((await outcome(root)).status['a-check']).toBe('passed');
    await gatehouse(root, ['run']);
    expect((await outcome(root)).status['a-check']).toBe('cached');
    await writeFile(
      join(root, 'gatehouse.yml'),
      readFileSync(join(root, 'gatehouse.yml'), 'utf8').replace(
        '{ script: check }',
        '{ script: check, direct: true }',
      ),
    );
    const ex = await gatehouse(root, ['explain']);
    expect(ex.out).toContain('script now started directly');
    await gatehouse(root, ['run']);
    expect((await outcome(root)).status['a-check']).toBe('passed');
  });
});
