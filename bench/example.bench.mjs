// The storefront example (a real web app: ESLint, Vitest with coverage, a build, axe in
// Chromium) run by `gatehouse run` against the same gate commands run one after another by a
// shell script, and a fully cached rerun against the cold run. Setup (`npm ci`) is excluded
// on both sides: it runs once before anything is measured, and gatehouse's measured runs
// skip it because its inputs did not change.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readReport } from './shared.mjs';

export const name = 'example';

const SAMPLES = 3;
/** Left out of the copy: installed or produced by a run. */
const NOT_COPIED = new Set(['node_modules', 'dist', 'coverage', '.gatehouse', 'reports']);

function benchEnv() {
  const env = {
    ...process.env,
    CI: 'true',
    npm_config_update_notifier: 'false',
    npm_config_prefer_offline: 'true',
  };
  // Without a SonarQube server the sonar gate is skipped by its `when`; make sure of it.
  delete env.SONAR_HOST_URL;
  delete env.GATEHOUSE_OUT;
  return env;
}

function exec(cmd, args, cwd, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status}:\n${out.split('\n').slice(-25).join('\n')}`,
    );
  return { ms, out };
}

/** The gates a default run covers, in pipeline order, with their commands. */
async function gatesToRun(root, dir, env) {
  const core = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const pipeline = await core.loadPipeline(join(dir, 'gatehouse.yml'));
  const run = pipeline.gates.filter((g) => core.unmetCondition(g, env) === null);
  const skipped = pipeline.gates.filter((g) => !run.includes(g)).map((g) => g.id);
  return { gates: run.map((g) => ({ id: g.id, run: g.run, env: g.env })), skipped };
}

/**
 * A POSIX shell script that runs each gate's command with `sh -c`, one after another, each
 * with a fresh `GATEHOUSE_OUT`, stopping at the first failure (a failed baseline measures
 * nothing).
 */
function sequentialScript(gates, outRoot) {
  const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  const lines = ['set -e', `rm -rf ${q(outRoot)}`];
  for (const g of gates) {
    const out = join(outRoot, g.id);
    const envs = Object.entries(g.env)
      .map(([k, v]) => `${k}=${q(v)}`)
      .join(' ');
    lines.push(`mkdir -p ${q(out)}`, `GATEHOUSE_OUT=${q(out)} ${envs} sh -c ${q(g.run)}`);
  }
  return `${lines.join('\n')}\n`;
}

function checkReport(dir, gateIds, expect) {
  const r = readReport(dir);
  const bad = r.gates.filter(
    (g) =>
      gateIds.includes(g.id) &&
      (expect === 'ran'
        ? g.status !== 'passed'
        : !(g.status === 'cached' && g.cached?.status === 'passed')),
  );
  if (r.verdict.status !== 'passed' || bad.length > 0) {
    throw new Error(
      `gatehouse run: expected every gate ${expect === 'ran' ? 'passed' : 'cached'}, got ${r.gates.map((g) => `${g.id}=${g.status}`).join(', ')} (verdict ${r.verdict.status})`,
    );
  }
  return r;
}

export async function run(ctx) {
  const cli = join(ctx.root, 'apps', 'cli', 'bin', 'gatehouse.js');
  if (!existsSync(join(ctx.root, 'apps', 'cli', 'dist', 'index.js')))
    throw new Error('build first: pnpm build');
  const example = join(ctx.root, 'examples', 'storefront');
  const env = benchEnv();

  // One install in the example (as its README says), then copied: both sides start from it.
  if (!existsSync(join(example, 'node_modules', '.package-lock.json'))) {
    ctx.log('npm ci in examples/storefront (once)');
    exec('npm', ['ci', '--no-audit', '--no-fund'], example, env);
  }
  const dir = ctx.tmpdir();
  const sources = readdirSync(example).filter((n) => !NOT_COPIED.has(n));
  exec('cp', ['-a', ...sources.map((n) => join(example, n)), dir], ctx.root, env);
  exec('cp', ['-a', join(example, 'node_modules'), dir], ctx.root, env);

  const { gates, skipped } = await gatesToRun(ctx.root, dir, env);
  const ids = gates.map((g) => g.id);
  ctx.log(
    `gates: ${ids.join(', ')}${skipped.length ? `; skipped by their condition: ${skipped.join(', ')}` : ''}`,
  );
  const script = join(dir, '.bench-sequential.sh');
  writeFileSync(script, sequentialScript(gates, join(dir, '.bench-out')));

  const gh = (...args) => exec(process.execPath, [cli, 'run', ...args], dir, env);
  const coldPrep = () => {
    // Gate cache entries and index go; `cache/setup.json` stays, so setup is not rerun.
    rmSync(join(dir, '.gatehouse', 'cache', 'entries'), { recursive: true, force: true });
    rmSync(join(dir, '.gatehouse', 'cache', 'index'), { recursive: true, force: true });
    rmSync(join(dir, 'dist'), { recursive: true, force: true });
  };

  // Warm-up: the one real setup (npm ci over the copied node_modules, from npm's cache), every
  // gate once on each side (fills the OS file cache, Vitest's and ESLint's first-run costs).
  ctx.log('warm-up: gatehouse run (runs setup once), then the sequential script');
  gh();
  exec('sh', [script], dir, env);

  const seq = [];
  const cold = [];
  const loads = [];
  for (let i = 0; i < SAMPLES; i++) {
    loads.push(loadavg()[0]);
    ctx.log(`sample ${i + 1}/${SAMPLES}: sequential, then gatehouse cold`);
    rmSync(join(dir, 'dist'), { recursive: true, force: true });
    seq.push(exec('sh', [script], dir, env).ms);
    coldPrep();
    const c = gh();
    if (!c.out.includes('setup unchanged, skipped'))
      throw new Error(`gatehouse cold run reran setup:\n${c.out.slice(-600)}`);
    checkReport(dir, ids, 'ran');
    cold.push(c.ms);
  }
  const cached = [];
  for (let i = 0; i < SAMPLES; i++) {
    const c = gh();
    checkReport(dir, ids, 'cached');
    cached.push(c.ms);
  }
  const seqMs = ctx.median(seq);
  const coldMs = ctx.median(cold);
  const cachedMs = ctx.median(cached);
  ctx.log(
    `sequential ${seq.map((x) => x.toFixed(0)).join('/')} ms; cold ${cold.map((x) => x.toFixed(0)).join('/')} ms; cached ${cached.map((x) => x.toFixed(0)).join('/')} ms`,
  );

  return [
    {
      metric: `sequential script, ${ids.length} gates`,
      value: seqMs / 1000,
      unit: 's',
      note: `sh -c per gate in pipeline order (${ids.join(', ')}); setup excluded on both sides`,
    },
    { metric: 'gatehouse run, cold (setup unchanged)', value: coldMs / 1000, unit: 's' },
    {
      metric: 'cold / sequential',
      value: coldMs / seqMs,
      unit: 'x',
      target: { op: '<=', value: 0.7 },
      note: `${(coldMs / 1000).toFixed(2)} s vs ${(seqMs / 1000).toFixed(2)} s, medians of ${SAMPLES} interleaved, load ${(loads.reduce((a, b) => a + b, 0) / loads.length).toFixed(1)}`,
    },
    { metric: 'gatehouse run, fully cached', value: cachedMs / 1000, unit: 's' },
    {
      metric: 'fully cached / cold',
      value: cachedMs / coldMs,
      unit: 'x',
      target: { op: '<=', value: 0.05 },
    },
  ];
}
