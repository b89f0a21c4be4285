// The storefront example's pipeline, run end to end by gitlab-ci-local in native mode: every job
// installs with `npm ci` from the npm registry and runs its gate with the real tools (ESLint,
// Vitest with coverage, the build, axe-core in Chromium); the report job merges the results.
// The merged report must say what `gatehouse run` says on the same tree.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CLI,
  jobResults,
  localReport,
  mergedReport,
  requireGitlabCiLocal,
  runPipeline,
  statuses,
} from './oracle.js';

const STOREFRONT = fileURLToPath(new URL('../../../examples/storefront/', import.meta.url));
/** Files of the example a copy must not take: installs, builds and run state. */
const LOCAL_ONLY = new Set(['node_modules', 'dist', 'coverage', 'reports', '.gatehouse']);
const PIPELINE_TIMEOUT_MS = 15 * 60_000;

const chromiumPresent = existsSync('/usr/bin/chromium');
if (process.env.CI === 'true' && !chromiumPresent)
  throw new Error('CI=true and /usr/bin/chromium is missing: the storefront pipeline needs it');

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

// No SonarQube server unless a test sets one (gitlab-ci-local passes its environment to the jobs;
// each test file runs in its own process).
delete process.env.SONAR_HOST_URL;
delete process.env.SONAR_TOKEN;

/** The environment of a run: this process's, with `extra`. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) out[k] = v;
  return { ...out, ...extra };
}

function cli(args: string[], cwd: string, extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: env(extra),
    encoding: 'utf8',
    timeout: PIPELINE_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/**
 * A committed copy of the example (as the CLI's end-to-end tests copy it), whose jobs call the CLI
 * of this repository, with `.gitlab-ci.yml` compiled from it; `plant` changes files first.
 */
async function storefront(plant: Record<string, [string, string]> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-gitlab-storefront-'));
  dirs.push(dir);
  await cp(STOREFRONT, dir, {
    recursive: true,
    filter: (src) => !LOCAL_ONLY.has(relative(STOREFRONT, src).split('/')[0] ?? ''),
  });
  const edits: Record<string, [string, string]> = {
    ...plant,
    'gatehouse.yml': ['  gitlab: { checkout_dir: . }', `  gitlab: { cli: node ${CLI} }`],
  };
  for (const [file, [from, to]] of Object.entries(edits)) {
    const text = await readFile(join(dir, file), 'utf8');
    if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
    await writeFile(join(dir, file), text.replace(from, to));
  }
  const compiled = cli(['compile', '--target', 'gitlab'], dir);
  if (compiled.status !== 0) throw new Error(`compile: ${compiled.stderr}`);
  await writeFile(join(dir, '.gitignore'), 'node_modules\ndist\n.gatehouse/\n.gitlab-ci-local/\n');
  const git = (...args: string[]): void => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-qm', 'storefront');
  return dir;
}

async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await f();
  } finally {
    console.info(`${label}: ${((Date.now() - start) / 1000).toFixed(0)} s`);
  }
}

describe.skipIf(!requireGitlabCiLocal('the storefront pipeline test') || !chromiumPresent)(
  'gitlab-ci-local runs the storefront pipeline, native mode',
  () => {
    it(
      'every gate job passes with the real tools, and the merged report equals gatehouse run',
      async () => {
        const dir = await storefront();
        const doc = parse(await readFile(join(dir, '.gitlab-ci.yml'), 'utf8')) as Record<
          string,
          { allow_failure?: boolean }
        >;
        expect(doc['gate-sonar']!.allow_failure).toBe(true);
        const run = await timed('storefront pipeline, passing', () => runPipeline(dir, env()));
        expect(run.output).toContain('json schema validated');
        expect(run.ok, run.output).toBe(true);
        expect(jobResults(run)).toEqual({
          'gate-lint': 'PASS',
          'gate-unit': 'PASS',
          'gate-build': 'PASS',
          'gate-a11y': 'PASS',
          'gate-sonar': 'PASS',
          'gatehouse-report': 'PASS',
        });
        expect(run.output).toMatch(/gate-unit\s+> gatehouse coverage: lines \d+\.\d\d%$/m);
        const report = await mergedReport(dir);
        expect(report.verdict.status).toBe('passed');
        expect(statuses(report)).toEqual({
          lint: 'passed',
          unit: 'passed',
          build: 'passed',
          a11y: 'passed',
          sonar: 'skipped',
        });
        const unit = report.gates.find((g) => g.id === 'unit')!;
        expect(unit.evidence.tests?.failed).toBe(0);
        expect(unit.evidence.coverage?.lines).toBeGreaterThan(80);
        expect(report.gates.find((g) => g.id === 'a11y')!.evidence.a11y).toMatchObject({
          pages: 2,
          violations: 0,
        });
        // The widgets' files: the tests' JUnit of the unit job, and the merged report's.
        expect(
          await readFile(
            join(dir, '.gitlab-ci-local/artifacts/gate-unit/gatehouse-evidence/unit/junit.xml'),
            'utf8',
          ),
        ).toContain('<testsuite');
        const local = await timed('gatehouse run, passing', () =>
          localReport(dir, env(), PIPELINE_TIMEOUT_MS),
        );
        expect(local.verdict.status).toBe(report.verdict.status);
        expect(statuses(local)).toEqual(statuses(report));
      },
      2 * PIPELINE_TIMEOUT_MS,
    );

    it(
      'a failing test fails exactly the unit job and the verdict; the erroring advisory sonar gate does not',
      async () => {
        const dir = await storefront({ 'test/cart.test.js': ["toBe('€14.50')", "toBe('€14.51')"] });
        const doc = parse(await readFile(join(dir, '.gitlab-ci.yml'), 'utf8')) as Record<
          string,
          { allow_failure?: boolean }
        >;
        expect(doc['gate-sonar']!.allow_failure).toBe(true);
        expect(doc['gate-unit']!.allow_failure).toBeUndefined();
        // A SonarQube server that refuses connections: the advisory sonar gate runs and fails.
        const sonar = { SONAR_HOST_URL: 'http://127.0.0.1:9', SONAR_TOKEN: 'not-a-token' };
        const run = await timed('storefront pipeline, failing', () => runPipeline(dir, env(sonar)));
        expect(run.ok).toBe(false);
        expect(jobResults(run), run.output).toEqual({
          'gate-lint': 'PASS',
          'gate-unit': 'FAIL',
          'gate-build': 'PASS',
          'gate-a11y': 'PASS',
          // A failed advisory gate fails its job, which `allow_failure` shows as a warning.
          'gate-sonar': 'WARN',
          'gatehouse-report': 'PASS',
        });
        const report = await mergedReport(dir);
        expect(report.verdict.status).toBe('failed');
        expect(statuses(report)).toEqual({
          lint: 'passed',
          unit: 'failed',
          build: 'passed',
          a11y: 'passed',
          // The scanner failed without writing its report-task.txt evidence.
          sonar: 'error',
        });
        const sonarGate = report.gates.find((g) => g.id === 'sonar')!;
        expect(sonarGate.mode).toBe('advisory');
        expect(sonarGate.exitCode).not.toBe(0);
        expect(sonarGate.logTail).toContain('ECONNREFUSED');
        const unit = report.gates.find((g) => g.id === 'unit')!;
        expect(unit.evidence.tests?.failed).toBe(1);
        expect(unit.evidence.tests?.failures[0]?.name).toMatch(/formats cents/);
        const local = await timed('gatehouse run, failing', () =>
          localReport(dir, env(sonar), PIPELINE_TIMEOUT_MS),
        );
        expect(local.verdict.status).toBe(report.verdict.status);
        expect(statuses(local)).toEqual(statuses(report));
      },
      2 * PIPELINE_TIMEOUT_MS,
    );
  },
);
