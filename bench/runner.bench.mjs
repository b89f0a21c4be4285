// The local runner against turbo (the usual tool for running package scripts in a
// monorepo): 50 trivial tasks cold and fully cached, a DAG of sleeping gates against its
// critical path, per-gate overhead, and peak memory of the runner process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

export const name = 'runner';

const TASKS = 50;
const SAMPLES = 3;

const quietEnv = () => ({
  ...process.env,
  CI: 'true',
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  npm_config_update_notifier: 'false',
});

function exec(cmd, args, cwd, { allowFailure = false } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd,
    env: quietEnv(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0 && !allowFailure) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${r.status}:\n${(r.stderr || r.stdout).split('\n').slice(-15).join('\n')}`,
    );
  }
  return { ms, out: r.stdout + r.stderr, status: r.status };
}

/** Median wall time of `samples` runs, each after `prepare()`. */
function timed(samples, prepare, fn, median) {
  const ms = [];
  for (let i = 0; i < samples; i++) {
    prepare();
    ms.push(fn().ms);
  }
  return median(ms);
}

/** A workspace turbo users would have (npm workspaces, one script per package) plus the same graph as gatehouse.yml. */
function makeWorkspace(dir) {
  const npmVersion = spawnSync('npm', ['-v'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: 'bench-ws',
        private: true,
        packageManager: `npm@${npmVersion}`,
        workspaces: ['pkgs/*'],
      },
      null,
      2,
    ),
  );
  writeFileSync(
    join(dir, 'turbo.json'),
    JSON.stringify(
      { $schema: 'https://turbo.build/schema.json', tasks: { t: { outputs: [] } } },
      null,
      2,
    ),
  );
  const gates = [];
  for (let i = 0; i < TASKS; i++) {
    mkdirSync(join(dir, 'pkgs', `p${i}`), { recursive: true });
    writeFileSync(
      join(dir, 'pkgs', `p${i}`, 'package.json'),
      JSON.stringify({ name: `p${i}`, version: '1.0.0', scripts: { t: `echo p${i}` } }, null, 2),
    );
    gates.push(`  p${i}:\n    run: echo p${i}\n    inputs: [pkgs/p${i}/**]`);
  }
  writeFileSync(
    join(dir, 'gatehouse.yml'),
    `version: 1\nname: bench\ngates:\n${gates.join('\n')}\n`,
  );
  // Links the workspaces and writes the lockfile turbo wants; nothing to download.
  exec('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], dir);
}

/** Max RSS in MB of a command, from GNU time. */
function peakRssMb(cmd, args, cwd) {
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], {
    cwd,
    env: quietEnv(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no RSS from /usr/bin/time:\n${r.stderr.slice(-500)}`);
  return Number(m[1]) / 1024;
}

/** Longest chain of `needs` by duration. */
function criticalPathMs(gates) {
  const memo = new Map();
  const longest = (id) => {
    if (!memo.has(id)) memo.set(id, gates[id].ms + Math.max(0, ...gates[id].needs.map(longest)));
    return memo.get(id);
  };
  return Math.max(...Object.keys(gates).map(longest));
}

function reportWallMs(dir) {
  const r = JSON.parse(readFileSync(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'));
  return Date.parse(r.finishedAt) - Date.parse(r.startedAt);
}

export async function run(ctx) {
  const cli = join(ctx.root, 'apps', 'cli', 'bin', 'gatehouse.js');
  if (!existsSync(join(ctx.root, 'apps', 'cli', 'dist', 'index.js')))
    throw new Error('build first: pnpm build');
  const turbo = join(ctx.root, 'node_modules', '.bin', 'turbo');
  const jobs = availableParallelism();
  const rows = [];

  // ---- 50 trivial tasks: cold and fully cached -------------------------------------------
  const ws = ctx.tmpdir();
  makeWorkspace(ws);
  const gh = (...args) => exec(process.execPath, [cli, 'run', ...args], ws);
  const tb = () => exec(turbo, ['run', 't', `--concurrency=${jobs}`, '--output-logs=none'], ws);
  const clearGh = () => rmSync(join(ws, '.gatehouse'), { recursive: true, force: true });
  const clearTurbo = () => rmSync(join(ws, '.turbo'), { recursive: true, force: true });

  ctx.log(`turbo cold x${SAMPLES} (${TASKS} npm scripts, concurrency ${jobs})`);
  const turboCold = timed(SAMPLES, clearTurbo, tb, ctx.median);
  ctx.log(`gatehouse cold x${SAMPLES}`);
  const ghCold = timed(SAMPLES, clearGh, () => gh(`--concurrency=${jobs}`), ctx.median);

  tb();
  const turboWarm = tb();
  if (!/Cached:\s+50 cached, 50 total/.test(turboWarm.out))
    throw new Error(`turbo did not replay from its cache:\n${turboWarm.out.slice(-400)}`);
  const turboCached = timed(SAMPLES, () => undefined, tb, ctx.median);
  gh(`--concurrency=${jobs}`);
  const warm = gh(`--concurrency=${jobs}`);
  if (!warm.out.includes(`${TASKS} cached`))
    throw new Error(`gatehouse did not replay from its cache:\n${warm.out.slice(-400)}`);
  const ghCached = timed(
    SAMPLES,
    () => undefined,
    () => gh(`--concurrency=${jobs}`),
    ctx.median,
  );

  rows.push(
    { metric: `cold ${TASKS} tasks: turbo`, value: turboCold / 1000, unit: 's' },
    { metric: `cold ${TASKS} tasks: gatehouse`, value: ghCold / 1000, unit: 's' },
    {
      metric: `cold ${TASKS} tasks: gatehouse/turbo`,
      value: ghCold / turboCold,
      unit: 'x',
      target: { op: '<=', value: 0.1 },
      note: 'turbo starts `npm run` (a Node process) per task; gatehouse starts /bin/sh',
    },
    { metric: `cached ${TASKS} tasks: turbo (FULL TURBO)`, value: turboCached, unit: 'ms' },
    { metric: `cached ${TASKS} tasks: gatehouse`, value: ghCached, unit: 'ms' },
    {
      metric: `cached ${TASKS} tasks: gatehouse/turbo`,
      value: ghCached / turboCached,
      unit: 'x',
      target: { op: '<=', value: 0.8 },
    },
  );

  // ---- per-gate overhead: trivial gates one at a time --------------------------------------
  clearGh();
  gh('--concurrency=1', '--no-cache');
  const serial = [];
  for (let i = 0; i < SAMPLES; i++) {
    gh('--concurrency=1', '--no-cache');
    serial.push(reportWallMs(ws) / TASKS);
  }
  rows.push({
    metric: 'per-gate time, trivial gate, serial',
    value: ctx.median(serial),
    unit: 'ms',
    note: 'executor wall / gates with --concurrency=1: spawn of /bin/sh, log, hashing inputs, judging, cache store',
  });

  // ---- memory ----------------------------------------------------------------------------
  clearGh();
  rows.push({
    metric: `peak RSS, ${TASKS}-gate run (cold)`,
    value: peakRssMb(process.execPath, [cli, 'run', `--concurrency=${jobs}`], ws),
    unit: 'MB',
  });
  const flood = ctx.tmpdir();
  writeFileSync(
    join(flood, 'gatehouse.yml'),
    `version: 1\nname: flood\ngates:\n  flood:\n    run: yes 'gatehouse output flood 0123456789' | head -c 200000000\n`,
  );
  rows.push({
    metric: 'peak RSS, one gate printing 200 MB',
    value: peakRssMb(process.execPath, [cli, 'run'], flood),
    unit: 'MB',
    target: { op: '<=', value: 150 },
  });

  // ---- DAG of sleeping gates against its critical path -----------------------------------
  const dag = {
    a: { ms: 1000, needs: [] },
    b: { ms: 1500, needs: ['a'] },
    c: { ms: 500, needs: [] },
    d: { ms: 500, needs: ['c'] },
    e: { ms: 1000, needs: ['b', 'd'] },
    f: { ms: 2000, needs: [] },
    g: { ms: 500, needs: ['f'] },
    h: { ms: 1000, needs: ['e', 'g'] },
  };
  const critical = criticalPathMs(dag);
  const dagDir = ctx.tmpdir();
  const gateYaml = Object.entries(dag)
    .map(([id, g]) => `  ${id}:\n    run: sleep ${g.ms / 1000}\n    needs: [${g.needs.join(', ')}]`)
    .join('\n');
  writeFileSync(join(dagDir, 'gatehouse.yml'), `version: 1\nname: dag\ngates:\n${gateYaml}\n`);
  const procWall = [];
  const execWall = [];
  for (let i = 0; i < SAMPLES; i++) {
    procWall.push(exec(process.execPath, [cli, 'run', '--concurrency=8', '--no-cache'], dagDir).ms);
    execWall.push(reportWallMs(dagDir));
  }
  rows.push(
    {
      metric: `DAG of sleeps: process wall / critical path (${critical} ms)`,
      value: ctx.median(procWall) / critical,
      unit: 'x',
      target: { op: '<=', value: 1.1 },
      note: 'includes Node start-up and config loading of the CLI',
    },
    {
      metric: 'DAG of sleeps: executor wall / critical path',
      value: ctx.median(execWall) / critical,
      unit: 'x',
      target: { op: '<=', value: 1.1 },
    },
  );
  return rows;
}
