// Issue 13: a generated pnpm workspace of 50 packages, each with lint, test and build, run by
// gatehouse, turbo and nx configured for the same tasks: a cold full run, a fully cached rerun,
// an affected run after one leaf package changed, and `gatehouse affected` against starting
// Node. Each tool works in its own copy of the same workspace (same files, same git history),
// so no tool's cache, outputs or state reaches another's.
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  allCached,
  exec,
  interleaved,
  load1,
  peakRssMb,
  pinnedPackage,
  pinnedTurbo,
  prng,
  readReport,
  TURBO_PINNED,
} from './shared.mjs';

export const name = 'monorepo';

/**
 * nx as the repository's nx plugin is built and tested against (plugins/nx devDependencies),
 * installed into bench/.work like the pinned turbo.
 */
export const NX_PINNED = '21.6.4';

const SEED = 20261205;
const SCOPE = '@bench';
/** Layers from the bottom: leaf utilities, libraries, features, apps (50 packages). */
const LAYERS = [
  { kind: 'util', count: 6, dir: 'packages' },
  { kind: 'lib', count: 20, dir: 'packages' },
  { kind: 'feature', count: 16, dir: 'packages' },
  { kind: 'app', count: 8, dir: 'apps' },
];
const TASKS = ['lint', 'test', 'build'];
const COLD_SAMPLES = 1;
const CACHED_SAMPLES = 5;
const AFFECTED_SAMPLES = 2;
const GRAPH_SAMPLES = 10;

/**
 * The one command behind every package script: `build` joins the package's sources into
 * dist/ and fails when a workspace dependency was not built first; `test` checks dist/ against
 * the sources; `lint` rejects trailing spaces, long lines and `debugger`.
 */
const TASK_SCRIPT = `import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';

const task = process.argv[2];
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const files = readdirSync('src').filter((f) => f.endsWith('.js')).sort();
const sources = files.map((f) => [f, readFileSync('src/' + f, 'utf8')]);
const fail = (msg) => {
  console.error(pkg.name + ': ' + msg);
  process.exit(1);
};
if (task === 'lint') {
  const problems = [];
  for (const [f, text] of sources)
    text.split('\\n').forEach((line, i) => {
      if (/\\s$/.test(line) || line.length > 100 || /\\bdebugger\\b/.test(line))
        problems.push(f + ':' + (i + 1));
    });
  if (problems.length) fail('lint: ' + problems.join(', '));
  console.log(pkg.name + ': ' + files.length + ' files clean');
} else if (task === 'build') {
  const deps = Object.keys(pkg.dependencies ?? {}).sort();
  const depHashes = deps.map((d) => {
    try {
      return JSON.parse(readFileSync('node_modules/' + d + '/dist/manifest.json', 'utf8')).hash;
    } catch {
      return fail('build: ' + d + ' is not built');
    }
  });
  const body = sources.map(([f, text]) => '// ' + f + '\\n' + text).join('\\n');
  const hash = createHash('sha256').update(body).update(depHashes.join(',')).digest('hex');
  mkdirSync('dist', { recursive: true });
  writeFileSync('dist/index.js', body);
  writeFileSync('dist/manifest.json', JSON.stringify({ name: pkg.name, files, deps, hash }));
  console.log(pkg.name + ': built ' + hash.slice(0, 12));
} else if (task === 'test') {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync('dist/manifest.json', 'utf8'));
  } catch {
    fail('test: not built');
  }
  const body = readFileSync('dist/index.js', 'utf8');
  if (manifest.name !== pkg.name) fail('test: dist/ is another package');
  for (const [f, text] of sources)
    if (!body.includes('// ' + f + '\\n' + text)) fail('test: dist/ is older than src/' + f);
  console.log(pkg.name + ': ' + files.length + ' tests passed');
} else fail('unknown task ' + task);
`;

const GATEHOUSE_YML = `version: 1
name: bench-monorepo
gates:
  build: { kind: build, packages: { script: build }, needs: [^build], outputs: [dist/**] }
  lint: { kind: lint, packages: { script: lint }, inputs: [src/**, package.json] }
  test: { kind: unit-test, packages: { script: test }, needs: [build] }
`;

const TURBO_JSON = {
  $schema: 'https://turbo.build/schema.json',
  tasks: {
    build: { dependsOn: ['^build'], outputs: ['dist/**'] },
    lint: {},
    test: { dependsOn: ['build'] },
  },
};

const NX_JSON = {
  defaultBase: 'main',
  namedInputs: { default: ['{projectRoot}/**/*'] },
  targetDefaults: {
    build: { dependsOn: ['^build'], outputs: ['{projectRoot}/dist'], cache: true },
    lint: { inputs: ['default'], cache: true },
    test: { dependsOn: ['build'], cache: true },
  },
  // nx 21 cannot read a lockfile without external packages; the graph is the same.
  pluginsConfig: { '@nx/js': { analyzeLockfile: false } },
};

/**
 * The packages: layer by layer from the bottom, each package above the leaves depending on
 * 1-4 packages of lower layers (seeded, so every run builds the same graph).
 */
export function monorepoPackages(seed = SEED) {
  const rand = prng(seed);
  const pkgs = [];
  for (const layer of LAYERS) {
    const below = pkgs.map((p) => p.name);
    for (let i = 0; i < layer.count; i++) {
      const deps = new Set();
      if (below.length > 0) {
        const want = 1 + Math.floor(rand() * 4);
        while (deps.size < Math.min(want, below.length))
          deps.add(below[Math.floor(rand() * below.length)]);
      }
      const base = `${layer.kind}-${String.fromCharCode(97 + i)}`;
      pkgs.push({
        name: `${SCOPE}/${base}`,
        dir: `${layer.dir}/${base}`,
        kind: layer.kind,
        deps: [...deps].sort(),
        modules: 2 + Math.floor(rand() * 3),
      });
    }
  }
  return pkgs;
}

/** Every package that depends on `name`, directly or not. */
export function dependentsOf(pkgs, name) {
  const out = new Set();
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of pkgs)
      if (!out.has(p.name) && p.deps.some((d) => d === name || out.has(d))) {
        out.add(p.name);
        grew = true;
      }
  }
  return out;
}

function sourceFile(p, m) {
  const lines = [`// ${p.name}, module ${m}`];
  for (const d of p.deps)
    lines.push(`import * as ${d.split('/')[1].replace('-', '_')} from '${d}';`);
  for (let f = 0; f < 6; f++)
    lines.push(`export function f${m}_${f}(x) {`, `  return x * ${m + 2} + ${f};`, '}');
  return `${lines.join('\n')}\n`;
}

/** Write the workspace into `dir`, install it offline and commit it on `main`. */
export function makeMonorepo(dir, pkgs) {
  const json = (v) => `${JSON.stringify(v, null, 2)}\n`;
  const write = (path, text) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    'package.json',
    json({ name: 'bench-monorepo', private: true, packageManager: 'pnpm@10.34.8' }),
  );
  write('pnpm-workspace.yaml', "packages:\n  - 'packages/*'\n  - 'apps/*'\n");
  write('tools/task.mjs', TASK_SCRIPT);
  write('gatehouse.yml', GATEHOUSE_YML);
  write('turbo.json', json(TURBO_JSON));
  write('nx.json', json(NX_JSON));
  write('.gitignore', 'node_modules/\ndist/\n.gatehouse/\n.turbo/\n.nx/\n');
  for (const p of pkgs) {
    write(
      `${p.dir}/package.json`,
      json({
        name: p.name,
        version: '1.0.0',
        private: true,
        type: 'module',
        scripts: Object.fromEntries(TASKS.map((t) => [t, `node ../../tools/task.mjs ${t}`])),
        dependencies: Object.fromEntries(p.deps.map((d) => [d, 'workspace:*'])),
      }),
    );
    write(
      `${p.dir}/src/index.js`,
      Array.from({ length: p.modules }, (_, m) => `export * from './m${m}.js';\n`).join(''),
    );
    for (let m = 0; m < p.modules; m++) write(`${p.dir}/src/m${m}.js`, sourceFile(p, m));
  }
  // Links the workspace packages and writes the lockfile turbo reads; nothing to download.
  exec('pnpm', ['install', '--offline', '--silent'], dir);
  const git = (...args) => exec('git', args, dir);
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'bench@example.com');
  git('config', 'user.name', 'Bench');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
}

/** The packages turbo says are in scope, from the header of `turbo run`. */
export function turboScope(out) {
  const m = /Packages in scope: (.*)/.exec(out);
  return m
    ? m[1]
        .split(', ')
        .map((s) => s.trim())
        .sort()
    : [];
}

/** `{ cached, total }` tasks of a `turbo run` summary, or null. */
export function turboCounts(out) {
  const m = /Cached:\s+(\d+) cached, (\d+) total/.exec(out);
  return m ? { cached: Number(m[1]), total: Number(m[2]) } : null;
}

/** The projects `nx run-many` / `nx affected` runs the targets of, from its header. */
export function nxScope(out) {
  const at = out.indexOf('Running targets');
  if (at < 0) return [];
  const names = [];
  for (const line of out.slice(at).split('\n').slice(1)) {
    const m = /^- (\S+)$/.exec(line.trim());
    if (m) names.push(m[1]);
    else if (names.length > 0) break;
  }
  return names.sort();
}

/** `{ cached, total }` tasks of an nx run (static output), or null when it did not succeed. */
export function nxCounts(out) {
  if (!/Successfully ran targets/.test(out)) return null;
  const total = (out.match(/^> nx run \S+:\S+/gm) ?? []).length;
  const m =
    /read the output from the cache instead of running the command for (\d+) out of (\d+) tasks/.exec(
      out,
    );
  return { cached: m ? Number(m[1]) : 0, total: m ? Number(m[2]) : total };
}

/** `{ passed, cached, packages }` of gatehouse's latest report (packages: those with a test gate). */
function ghCounts(dir, pkgs) {
  const r = readReport(dir);
  const bySlug = new Map(pkgs.map((p) => [p.name.split('/')[1], p.name]));
  const count = (s) => r.gates.filter((g) => g.status === s).length;
  return {
    passed: count('passed'),
    cached: count('cached'),
    total: r.gates.length,
    verdict: r.verdict.status,
    packages: r.gates
      .filter((g) => g.id.endsWith('-test'))
      .map((g) => bySlug.get(g.id.slice(0, -'-test'.length)))
      .sort(),
  };
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
const ms = (v) => `${Math.round(v)} ms`;

export async function run(ctx) {
  const cli = join(ctx.root, 'apps', 'cli', 'bin', 'gatehouse.js');
  if (!existsSync(join(ctx.root, 'apps', 'cli', 'dist', 'index.js')))
    throw new Error('build first: pnpm build');
  const turbo = pinnedTurbo(ctx);
  const nxDir = pinnedPackage(ctx, 'nx', NX_PINNED);
  const nx = join(nxDir, 'bin', 'nx.js');
  const jobs = availableParallelism();
  const pkgs = monorepoPackages();
  const TOTAL = pkgs.length * TASKS.length;

  // One workspace, then one copy per tool (relative links, same commit).
  const top = ctx.tmpdir();
  const base = join(top, 'base');
  mkdirSync(base);
  makeMonorepo(base, pkgs);
  // nx runs from the workspace's node_modules, as in a real nx workspace.
  symlinkSync(nxDir, join(base, 'node_modules', 'nx'), 'dir');
  const dirs = {};
  for (const t of ['turbo', 'nx', 'gatehouse', 'direct']) {
    dirs[t] = join(top, t);
    exec('cp', ['-a', base, dirs[t]], top);
  }
  // The same gates with `packages.direct`: each script started without pnpm.
  writeFileSync(
    join(dirs.direct, 'gatehouse.yml'),
    GATEHOUSE_YML.replace(
      /packages: \{ script: (\w+) \}/g,
      'packages: { script: $1, direct: true }',
    ),
  );
  exec('git', ['commit', '-q', '-a', '-m', 'direct'], dirs.direct);
  ctx.log(`${pkgs.length} packages, ${TOTAL} tasks, concurrency ${jobs} for every tool`);

  const turboRun = (...extra) =>
    exec(
      turbo,
      ['run', ...TASKS, `--concurrency=${jobs}`, '--output-logs=none', ...extra],
      dirs.turbo,
      { env: { TURBO_SCM_BASE: 'HEAD~1' } },
    );
  const nxRun = (...cmd) =>
    exec(
      process.execPath,
      [nx, ...cmd, '-t', ...TASKS, `--parallel=${jobs}`, '--outputStyle=static'],
      dirs.nx,
    );
  const ghRun = (...extra) =>
    exec(process.execPath, [cli, 'run', `--concurrency=${jobs}`, ...extra], dirs.gatehouse);
  const directRun = (...extra) =>
    exec(process.execPath, [cli, 'run', `--concurrency=${jobs}`, ...extra], dirs.direct);
  const rmDist = (dir) => {
    for (const p of pkgs) rmSync(join(dir, p.dir, 'dist'), { recursive: true, force: true });
  };

  // Unmeasured: each tool reads the workspace once (nx's project graph, gatehouse's config
  // cache and hash index), so the one-time costs are not in the first cold sample.
  exec(turbo, ['run', ...TASKS, '--dry=json'], dirs.turbo);
  exec(process.execPath, [nx, 'show', 'projects'], dirs.nx);
  exec(process.execPath, [cli, 'explain'], dirs.gatehouse);
  exec(process.execPath, [cli, 'explain'], dirs.direct);

  // ---- cold: every task runs; each tool's task cache and every dist/ removed first --------
  ctx.log(`cold x${COLD_SAMPLES}, interleaved: turbo ${TURBO_PINNED}, nx ${NX_PINNED}, gatehouse`);
  const cold = interleaved(COLD_SAMPLES, [
    {
      name: 'turbo cold',
      prepare: () => {
        rmSync(join(dirs.turbo, '.turbo', 'cache'), { recursive: true, force: true });
        rmDist(dirs.turbo);
      },
      run: () => turboRun(),
      valid: (out) => {
        const c = turboCounts(out);
        return c !== null && c.cached === 0 && c.total === TOTAL;
      },
    },
    {
      name: 'nx cold',
      prepare: () => {
        rmSync(join(dirs.nx, '.nx', 'cache'), { recursive: true, force: true });
        rmDist(dirs.nx);
      },
      run: () => nxRun('run-many'),
      valid: (out) => {
        const c = nxCounts(out);
        return c !== null && c.cached === 0 && c.total === TOTAL;
      },
    },
    {
      name: 'gatehouse cold',
      prepare: () => {
        for (const d of ['entries', 'index'])
          rmSync(join(dirs.gatehouse, '.gatehouse', 'cache', d), { recursive: true, force: true });
        rmDist(dirs.gatehouse);
      },
      run: () => ghRun(),
      valid: () => {
        const c = ghCounts(dirs.gatehouse, pkgs);
        return c.verdict === 'passed' && c.passed === TOTAL;
      },
    },
    {
      name: 'gatehouse cold, packages.direct',
      prepare: () => {
        for (const d of ['entries', 'index'])
          rmSync(join(dirs.direct, '.gatehouse', 'cache', d), { recursive: true, force: true });
        rmDist(dirs.direct);
      },
      run: () => directRun(),
      valid: (out) => {
        const c = ghCounts(dirs.direct, pkgs);
        return c.verdict === 'passed' && c.passed === TOTAL && !out.includes('not directly');
      },
    },
  ]);
  const [turboCold, nxCold, ghCold, directCold] = cold.times.map(ctx.median);

  // What one task costs through the package manager, against its command alone.
  const leafDir = join(dirs.gatehouse, pkgs[0].dir);
  const perTask = interleaved(3, [
    { name: 'pnpm run lint', run: () => exec('pnpm', ['run', 'lint'], leafDir), valid: () => true },
    {
      name: 'the lint command',
      run: () => exec(process.execPath, ['../../tools/task.mjs', 'lint'], leafDir),
      valid: () => true,
    },
  ]);
  const [pnpmTask, bareTask] = perTask.times.map(ctx.median);

  // ---- fully cached rerun ------------------------------------------------------------------
  turboRun();
  nxRun('run-many');
  ghRun();
  ctx.log(`fully cached x${CACHED_SAMPLES}, interleaved: turbo, nx, node -e 0, gatehouse`);
  const cached = interleaved(CACHED_SAMPLES, [
    {
      name: 'turbo FULL TURBO',
      run: () => turboRun(),
      valid: (out) => /FULL TURBO/.test(out) && turboCounts(out)?.cached === TOTAL,
    },
    {
      name: 'nx cached',
      run: () => nxRun('run-many'),
      valid: (out) => {
        const c = nxCounts(out);
        return c !== null && c.cached === TOTAL && c.total === TOTAL;
      },
    },
    {
      name: 'node -e 0',
      run: () => exec(process.execPath, ['-e', '0'], dirs.gatehouse),
      valid: () => true,
    },
    {
      name: 'gatehouse fully cached',
      run: () => ghRun(),
      valid: (out) => out.includes(`${TOTAL} cached`) && allCached(dirs.gatehouse, TOTAL),
    },
  ]);
  const [turboCached, nxCached, nodeBare, ghCached] = cached.times.map(ctx.median);
  const rss = peakRssMb(process.execPath, [cli, 'run', `--concurrency=${jobs}`], dirs.gatehouse);
  if (!allCached(dirs.gatehouse, TOTAL)) throw new Error('the peak RSS run was not fully cached');

  // ---- one leaf changed, compared with the commit before -----------------------------------
  // The leaf utility with the fewest dependents; each sample amends the change commit with a
  // new edit, so every tool has that change to run and HEAD~1 stays the first commit.
  const leaf = pkgs
    .filter((p) => p.deps.length === 0)
    .map((p) => ({ p, n: dependentsOf(pkgs, p.name).size }))
    .sort((a, b) => a.n - b.n)[0].p;
  const affected = [leaf.name, ...dependentsOf(pkgs, leaf.name)].sort();
  const ranAffected = 1 + 2 * affected.length; // the leaf's lint, every affected build and test
  const edits = { turbo: 0, nx: 0, gatehouse: 0, direct: 0 };
  const change = (tool) => {
    const n = ++edits[tool];
    writeFileSync(
      join(dirs[tool], leaf.dir, 'src', 'm0.js'),
      `${sourceFile(leaf, 0)}export const revision = ${n};\n`,
    );
    exec(
      'git',
      ['commit', '-q', '-a', ...(n > 1 ? ['--amend', '--no-edit'] : ['-m', 'change'])],
      dirs[tool],
    );
  };
  for (const t of Object.keys(dirs)) change(t);
  // Every tool names the same packages (a check, not measured).
  const named = {
    turbo: JSON.parse(
      exec(turbo, ['ls', '--affected', '--output=json'], dirs.turbo, {
        env: { TURBO_SCM_BASE: 'HEAD~1' },
      }).out.replace(/^[^{]*/, ''),
    ).packages.items.map((p) => p.name),
    nx: exec(process.execPath, [nx, 'show', 'projects', '--affected', '--base=HEAD~1'], dirs.nx)
      .out.split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
    gatehouse: JSON.parse(
      exec(process.execPath, [cli, 'affected', '--base', 'HEAD~1', '--json'], dirs.gatehouse).out,
    ).packages,
    direct: JSON.parse(
      exec(process.execPath, [cli, 'affected', '--base', 'HEAD~1', '--json'], dirs.direct).out,
    ).packages,
  };
  for (const [tool, list] of Object.entries(named))
    if (!same([...list].sort(), affected))
      throw new Error(
        `${tool} names ${list.length} affected packages, expected ${affected.length}: ${[...list].sort().join(', ')}`,
      );
  ctx.log(
    `affected x${AFFECTED_SAMPLES}: ${leaf.name} changed, ${affected.length} packages, ${ranAffected} tasks to run`,
  );
  const aff = interleaved(AFFECTED_SAMPLES, [
    {
      name: 'turbo run --affected',
      prepare: () => change('turbo'),
      run: () => turboRun('--affected'),
      valid: (out) => {
        const c = turboCounts(out);
        return c !== null && c.total - c.cached === ranAffected && same(turboScope(out), affected);
      },
    },
    {
      name: 'nx affected',
      prepare: () => change('nx'),
      run: () => nxRun('affected', '--base=HEAD~1'),
      valid: (out) => {
        const c = nxCounts(out);
        return c !== null && c.total - c.cached === ranAffected && same(nxScope(out), affected);
      },
    },
    {
      name: 'gatehouse run --affected',
      prepare: () => change('gatehouse'),
      run: () => ghRun('--affected', '--base', 'HEAD~1'),
      valid: () => {
        const c = ghCounts(dirs.gatehouse, pkgs);
        return (
          c.verdict === 'passed' &&
          c.passed === ranAffected &&
          c.passed + c.cached === c.total &&
          same(c.packages, affected)
        );
      },
    },
    {
      name: 'gatehouse run --affected, packages.direct',
      prepare: () => change('direct'),
      run: () => directRun('--affected', '--base', 'HEAD~1'),
      valid: (out) => {
        const c = ghCounts(dirs.direct, pkgs);
        return (
          c.verdict === 'passed' &&
          c.passed === ranAffected &&
          c.passed + c.cached === c.total &&
          same(c.packages, affected) &&
          !out.includes('not directly')
        );
      },
    },
  ]);
  const [turboAff, nxAff, ghAff, directAff] = aff.times.map(ctx.median);

  // ---- the affected set alone, against starting Node ---------------------------------------
  const graph = interleaved(GRAPH_SAMPLES, [
    {
      name: 'node -e 0',
      run: () => exec(process.execPath, ['-e', '0'], dirs.gatehouse),
      valid: () => true,
    },
    {
      name: 'gatehouse graph --affected',
      run: () =>
        exec(process.execPath, [cli, 'graph', '--affected', '--base', 'HEAD~1'], dirs.gatehouse),
      valid: (out) => out.includes(`: ${affected.length} packages (`),
    },
    {
      name: 'gatehouse affected',
      run: () => exec(process.execPath, [cli, 'affected', '--base', 'HEAD~1'], dirs.gatehouse),
      valid: (out) => out.includes(`${affected.length} packages affected`),
    },
  ]);
  const [graphNode, graphGh, affectedGh] = graph.times.map(ctx.median);

  const vs = (what, a, b) => `${what}: ${secs(a)} vs ${secs(b)}`;
  const bar = (value) => ({ op: '<=', value });
  return [
    {
      metric: `cold, ${TOTAL} tasks: gatehouse / turbo ${TURBO_PINNED}`,
      value: ghCold / turboCold,
      unit: 'x',
      target: bar(0.5),
      note: `${vs('gatehouse vs turbo', ghCold, turboCold)}, median of ${COLD_SAMPLES} interleaved, load ${cold.load}`,
    },
    {
      metric: `cold, ${TOTAL} tasks: gatehouse / nx ${NX_PINNED}`,
      value: ghCold / nxCold,
      unit: 'x',
      target: bar(0.5),
      note: `${vs('gatehouse vs nx', ghCold, nxCold)}, same samples`,
    },
    {
      metric: `cold, ${TOTAL} tasks: gatehouse with packages.direct / turbo ${TURBO_PINNED}`,
      value: directCold / turboCold,
      unit: 'x',
      target: bar(0.5),
      note: `${vs('gatehouse (direct) vs turbo', directCold, turboCold)}, same samples`,
    },
    {
      metric: `cold, ${TOTAL} tasks: gatehouse with packages.direct / nx ${NX_PINNED}`,
      value: directCold / nxCold,
      unit: 'x',
      target: bar(0.5),
      note: `${vs('gatehouse (direct) vs nx', directCold, nxCold)}, same samples`,
    },
    {
      metric: 'one task: `pnpm run lint` / its command alone',
      value: pnpmTask / bareTask,
      unit: 'x',
      note: `${ms(pnpmTask)} vs ${ms(bareTask)}, medians of 3, load ${perTask.load}: every tool starts pnpm (a Node process) for each of the ${TOTAL} tasks`,
    },
    {
      metric: `fully cached: gatehouse / turbo ${TURBO_PINNED} FULL TURBO`,
      value: ghCached / turboCached,
      unit: 'x',
      target: bar(0.5),
      note: `${ms(ghCached)} vs ${ms(turboCached)}, medians of ${CACHED_SAMPLES} interleaved, load ${cached.load}; samples not counted (turbo, nx, node, gatehouse): ${cached.rejected.join('/')}`,
    },
    {
      metric: `fully cached: gatehouse / nx ${NX_PINNED} cached`,
      value: ghCached / nxCached,
      unit: 'x',
      target: bar(0.5),
      note: `${ms(ghCached)} vs ${ms(nxCached)}, same samples`,
    },
    {
      metric: `floor: node -e 0 / turbo ${TURBO_PINNED} FULL TURBO`,
      value: nodeBare / turboCached,
      unit: 'x',
      note: `${ms(nodeBare)} vs ${ms(turboCached)}, same samples: what starting Node alone costs against the bar`,
    },
    {
      metric: `peak RSS, gatehouse fully cached rerun (${TOTAL} gates)`,
      value: rss,
      unit: 'MB',
      target: { op: '<=', value: 150 },
      note: `GNU time, load ${load1()}`,
    },
    {
      metric: `affected (${leaf.name} changed): gatehouse / turbo ${TURBO_PINNED} --affected`,
      value: ghAff / turboAff,
      unit: 'x',
      target: bar(0.5),
      note: `${vs('gatehouse vs turbo', ghAff, turboAff)}, medians of ${AFFECTED_SAMPLES} interleaved, load ${aff.load}; ${affected.length} packages, ${ranAffected} tasks run, the rest from the cache; samples not counted: ${aff.rejected.join('/')}`,
    },
    {
      metric: `affected (${leaf.name} changed): gatehouse / nx ${NX_PINNED} affected`,
      value: ghAff / nxAff,
      unit: 'x',
      target: bar(0.5),
      note: `${vs('gatehouse vs nx', ghAff, nxAff)}, same samples`,
    },
    {
      metric: `affected (${leaf.name} changed): gatehouse with packages.direct / turbo ${TURBO_PINNED} --affected`,
      value: directAff / turboAff,
      unit: 'x',
      target: bar(0.5),
      note: `${vs('gatehouse (direct) vs turbo', directAff, turboAff)}, same samples`,
    },
    {
      metric: `affected (${leaf.name} changed): gatehouse with packages.direct / nx ${NX_PINNED} affected`,
      value: directAff / nxAff,
      unit: 'x',
      target: bar(0.5),
      note: `${vs('gatehouse (direct) vs nx', directAff, nxAff)}, same samples`,
    },
    {
      metric: '`gatehouse graph --affected` / `node -e 0`',
      value: graphGh / graphNode,
      unit: 'x',
      target: bar(3),
      note: `${ms(graphGh)} vs ${ms(graphNode)}, medians of ${GRAPH_SAMPLES} interleaved, load ${graph.load}; the graph of the affected gates of the ${pkgs.length} packages; samples not counted (node, graph, affected): ${graph.rejected.join('/')}`,
    },
    {
      metric: '`gatehouse affected` / `node -e 0`',
      value: affectedGh / graphNode,
      unit: 'x',
      note: `${ms(affectedGh)} vs ${ms(graphNode)}, same samples: the selection alone, as CI's plan jobs run it`,
    },
  ];
}
