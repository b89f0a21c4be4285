// The local runner against turbo (the usual tool for running package scripts in a
// monorepo): 50 trivial tasks cold and fully cached, a DAG of sleeping gates against its
// critical path, per-gate overhead, and peak memory of the runner process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  allCached,
  exec,
  interleaved,
  load1,
  peakRssMb,
  pinnedTurbo,
  readReport,
  TURBO_PINNED,
} from './shared.mjs';

export const name = 'runner';

const TASKS = 50;
const SAMPLES = 3;

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
  const r = readReport(dir);
  return Date.parse(r.finishedAt) - Date.parse(r.startedAt);
}

export async function run(ctx) {
  const cli = join(ctx.root, 'apps', 'cli', 'bin', 'gatehouse.js');
  if (!existsSync(join(ctx.root, 'apps', 'cli', 'dist', 'index.js')))
    throw new Error('build first: pnpm build');
  const turbo = pinnedTurbo(ctx);
  const repoTurbo = join(ctx.root, 'node_modules', '.bin', 'turbo');
  const repoTurboVersion = exec(repoTurbo, ['--version'], ctx.root).out.trim();
  const jobs = availableParallelism();
  const rows = [];

  // ---- 50 trivial tasks: cold and fully cached -------------------------------------------
  const ws = ctx.tmpdir();
  makeWorkspace(ws);
  const gh = (...args) => exec(process.execPath, [cli, 'run', ...args], ws);
  // Each turbo keeps its own cache directory.
  const tb = (bin, tag) => () =>
    exec(
      bin,
      [
        'run',
        't',
        `--concurrency=${jobs}`,
        '--output-logs=none',
        `--cache-dir=.turbo/cache-${tag}`,
      ],
      ws,
    );
  const turboNew = tb(turbo, TURBO_PINNED);
  const turboRepo = tb(repoTurbo, repoTurboVersion);
  const clearGh = () => rmSync(join(ws, '.gatehouse'), { recursive: true, force: true });
  const clearTurbo = () => rmSync(join(ws, '.turbo'), { recursive: true, force: true });
  const turboRan = (out) => new RegExp(`Cached:\\s+0 cached, ${TASKS} total`).test(out);
  const fullTurbo = (out) =>
    new RegExp(`Cached:\\s+${TASKS} cached, ${TASKS} total`).test(out) && /FULL TURBO/.test(out);
  const ghRan = (out) => out.includes(`${TASKS} passed`);

  ctx.log(
    `cold x${SAMPLES}, interleaved: turbo ${TURBO_PINNED} and gatehouse (${TASKS} tasks, concurrency ${jobs})`,
  );
  const cold = interleaved(SAMPLES, [
    { name: `turbo ${TURBO_PINNED} cold`, prepare: clearTurbo, run: turboNew, valid: turboRan },
    {
      name: 'gatehouse cold',
      prepare: clearGh,
      run: () => gh(`--concurrency=${jobs}`),
      valid: ghRan,
    },
  ]);
  const [turboCold, ghCold] = cold.times.map(ctx.median);

  // Warm every cache, then sample the three fully cached reruns in turn.
  turboNew();
  turboRepo();
  gh(`--concurrency=${jobs}`);
  const CACHED_SAMPLES = SAMPLES * 3;
  ctx.log(
    `fully cached x${CACHED_SAMPLES}, interleaved: turbo ${TURBO_PINNED}, turbo ${repoTurboVersion}, node -e 0, gatehouse`,
  );
  const cached = interleaved(CACHED_SAMPLES, [
    { name: `turbo ${TURBO_PINNED} FULL TURBO`, run: turboNew, valid: fullTurbo },
    { name: `turbo ${repoTurboVersion} FULL TURBO`, run: turboRepo, valid: fullTurbo },
    { name: 'node -e 0', run: () => exec(process.execPath, ['-e', '0'], ws), valid: () => true },
    {
      name: 'gatehouse fully cached',
      run: () => gh(`--concurrency=${jobs}`),
      valid: (out) => out.includes(`${TASKS} cached`) && allCached(ws, TASKS),
    },
  ]);
  const [turboCached, repoTurboCached, nodeBare, ghCached] = cached.times.map(ctx.median);
  const ms = (v) => `${Math.round(v)} ms`;

  rows.push(
    {
      metric: `cold ${TASKS} tasks: gatehouse / turbo ${TURBO_PINNED}`,
      value: ghCold / turboCold,
      unit: 'x',
      target: { op: '<=', value: 0.1 },
      note: `${(ghCold / 1000).toFixed(2)} s vs ${(turboCold / 1000).toFixed(2)} s, medians of ${SAMPLES} interleaved, load ${cold.load}; turbo starts \`npm run\` (a Node process) per task, gatehouse /bin/sh`,
    },
    {
      metric: `fully cached ${TASKS} tasks: gatehouse / turbo ${TURBO_PINNED} FULL TURBO`,
      value: ghCached / turboCached,
      unit: 'x',
      target: { op: '<=', value: 0.5 },
      note: `${ms(ghCached)} vs ${ms(turboCached)}, medians of ${CACHED_SAMPLES} interleaved, load ${cached.load}; samples not counted (turbo without FULL TURBO, a gate not cached): ${cached.rejected.join('/')}`,
    },
    {
      metric: `floor: node -e 0 / turbo ${TURBO_PINNED} FULL TURBO`,
      value: nodeBare / turboCached,
      unit: 'x',
      note: `${ms(nodeBare)} vs ${ms(turboCached)}, same samples: what starting Node alone costs against the bar`,
    },
    {
      metric: `fully cached ${TASKS} tasks: gatehouse / turbo ${repoTurboVersion} (the repo's own)`,
      value: ghCached / repoTurboCached,
      unit: 'x',
      note: `${ms(ghCached)} vs ${ms(repoTurboCached)}, same samples`,
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
  const dagLoad = load1();
  for (let i = 0; i < SAMPLES; i++) {
    procWall.push(exec(process.execPath, [cli, 'run', '--concurrency=8', '--no-cache'], dagDir).ms);
    execWall.push(reportWallMs(dagDir));
  }
  rows.push(
    {
      metric: `DAG of sleeps: process wall / critical path (${critical} ms)`,
      value: ctx.median(procWall) / critical,
      unit: 'x',
      target: { op: '<=', value: 1.05 },
      note: `includes Node start-up and config loading of the CLI; median of ${SAMPLES}, load ${dagLoad}`,
    },
    {
      metric: 'DAG of sleeps: executor wall / critical path',
      value: ctx.median(execWall) / critical,
      unit: 'x',
      target: { op: '<=', value: 1.05 },
    },
  );

  // ---- the same with fewer slots than ready gates: critical path first ----------------------
  // Three 1 s gates listed first, and a chain of 1 s then 2 s: with 2 slots, starting the chain
  // first finishes in 3 s (the critical path); first come, first served takes 4 s.
  const slotDag = {
    s1: { ms: 1000, needs: [] },
    s2: { ms: 1000, needs: [] },
    s3: { ms: 1000, needs: [] },
    long: { ms: 1000, needs: [] },
    long2: { ms: 2000, needs: ['long'] },
  };
  const slotCritical = criticalPathMs(slotDag);
  const slotDir = ctx.tmpdir();
  writeFileSync(
    join(slotDir, 'gatehouse.yml'),
    `version: 1\nname: slots\ngates:\n${Object.entries(slotDag)
      .map(
        ([id, g]) => `  ${id}:\n    run: sleep ${g.ms / 1000}\n    needs: [${g.needs.join(', ')}]`,
      )
      .join('\n')}\n`,
  );
  const slotWall = [];
  for (let i = 0; i < SAMPLES; i++) {
    exec(process.execPath, [cli, 'run', '--concurrency=2', '--no-cache'], slotDir);
    slotWall.push(reportWallMs(slotDir));
  }
  rows.push({
    metric: `DAG of sleeps, 2 slots for 4 ready gates: executor wall / critical path (${slotCritical} ms)`,
    value: ctx.median(slotWall) / slotCritical,
    unit: 'x',
    note: `first come, first served would be ${((slotCritical + 1000) / slotCritical).toFixed(2)} x; load ${load1()}`,
  });
  return rows;
}
