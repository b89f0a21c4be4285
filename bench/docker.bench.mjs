// The Docker executor: 4 independent `sleep 2` gates after a trivial setup, run through
// BuildKit in one build, against (a) the pipeline's critical path (setup + 2 s) and
// (b) building each gate's stage one build after another, as a CI without parallel
// stages would. Every sample gets a fresh setup input so no stage comes from the cache.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

export const name = 'docker';

const GATES = ['g1', 'g2', 'g3', 'g4'];
const SLEEP_S = 2;
const SAMPLES = 3;

function configYaml(image) {
  const gates = GATES.map((id) => `  ${id}: { run: sleep ${SLEEP_S} }`).join('\n');
  return `version: 1\nname: bench-docker\nimage: ${image}\nsetup:\n  run: cat package.json > /dev/null\n  inputs: [package.json]\ngates:\n${gates}\ntargets:\n  dockerfile: { ca: none, npmCache: false }\n`;
}

/** Newest offline test base image; made by the test-utils test when there is none. */
function baseImage(root, log) {
  const find = () =>
    spawnSync('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', 'gatehouse-test-base'], {
      encoding: 'utf8',
    })
      .stdout.split('\n')
      .filter(Boolean)[0];
  let tag = find();
  if (!tag) {
    log('no gatehouse-test-base image yet: building it through its test');
    const r = spawnSync('pnpm', ['vitest', 'run', 'packages/test-utils/src/docker.test.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    if (r.status !== 0)
      throw new Error(`could not build the test base image:\n${r.stdout}${r.stderr}`);
    tag = find();
  }
  if (!tag) throw new Error('no gatehouse-test-base image');
  return tag;
}

function pipelineIn(dir, image) {
  const gate = (id) => ({
    id,
    kind: 'custom',
    run: `sleep ${SLEEP_S}`,
    description: null,
    needs: [],
    image,
    env: {},
    secrets: [],
    inputs: [],
    outputs: [],
    timeoutMs: 60_000,
    mode: 'blocking',
    evidence: [{ format: 'exitcode', path: null }],
    policy: {},
    tools: {},
  });
  return {
    version: 1,
    name: 'bench-docker',
    configPath: join(dir, 'gatehouse.yml'),
    rootDir: dir,
    configSha256: '0'.repeat(64),
    image,
    workdir: '/app',
    setup: {
      run: 'cat package.json > /dev/null',
      inputs: ['package.json'],
      env: {},
      secrets: [],
      timeoutMs: 60_000,
    },
    gates: GATES.map(gate),
    release: null,
    targets: { dockerfile: { ca: 'none', npmCache: false } },
    plugins: [],
  };
}

export async function run(ctx) {
  const ping = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
  });
  if (ping.status !== 0)
    throw new Error(`the docker benchmark needs a Docker engine: ${ping.stderr.trim()}`);
  const { executeDocker, buildPipelineImage } = await import(
    pathToFileURL(join(ctx.root, 'plugins/docker/dist/index.js')).href
  );
  const image = baseImage(ctx.root, ctx.log);
  const dir = ctx.tmpdir();
  writeFileSync(join(dir, 'gatehouse.yml'), 'version: 1\n');
  const p = pipelineIn(dir, image);
  const bust = () => writeFileSync(join(dir, 'package.json'), `{"nonce":"${randomUUID()}"}\n`);

  const parallel = [];
  const critical = [];
  const sequential = [];
  for (let i = 0; i < SAMPLES; i++) {
    bust();
    let setupMs = 0;
    const t0 = performance.now();
    const report = await executeDocker(p, {
      gates: [],
      concurrency: 0,
      failFast: false,
      noCache: false,
      env: { PATH: process.env.PATH },
      signal: new globalThis.AbortController().signal,
      onEvent: (e) => {
        if (e.type === 'setup-end') setupMs = e.durationMs;
      },
      stateDir: join(dir, '.gatehouse'),
    });
    const wall = performance.now() - t0;
    const bad = report.gates.filter((g) => g.status !== 'passed');
    if (bad.length)
      throw new Error(
        `gates did not pass: ${bad.map((g) => `${g.id} ${g.status} ${g.reason ?? ''}`).join('; ')}`,
      );
    parallel.push(wall);
    critical.push(setupMs + SLEEP_S * 1000);

    bust();
    const s0 = performance.now();
    for (const id of GATES) {
      const tag = `gatehouse-bench:${id}-${i}`;
      const built = await buildPipelineImage(p, {
        tag,
        target: `result-${id}`,
        env: { PATH: process.env.PATH },
      });
      spawnSync('docker', ['rmi', '-f', tag]);
      if (built.error) throw new Error(`building result-${id}: ${built.error}`);
    }
    sequential.push(performance.now() - s0);
    ctx.log(
      `sample ${i + 1}: parallel ${Math.round(wall)} ms (critical path ${Math.round(critical.at(-1))} ms), sequential ${Math.round(sequential.at(-1))} ms`,
    );
  }
  const wall = ctx.median(parallel);
  const cp = ctx.median(critical);
  const seq = ctx.median(sequential);

  // ---- the CLI, start to exit, against one build of setup + the longest gate ---------------
  // Interleaved: `gatehouse run --executor docker` (4 gates), the same with `--gate g1`, and
  // one BuildKit build of `result-g1` through the engine (setup + one gate: the critical path).
  writeFileSync(join(dir, 'gatehouse.yml'), configYaml(image));
  const cli = join(ctx.root, 'apps', 'cli', 'bin', 'gatehouse.js');
  const runCli = (args) => {
    bust();
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, 'run', '--executor', 'docker', ...args], {
      cwd: dir,
      env: { ...process.env, CI: 'true' },
      encoding: 'utf8',
    });
    const ms = performance.now() - t0;
    if (r.status !== 0)
      throw new Error(
        `gatehouse run ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`,
      );
    return ms;
  };
  const cli4 = [];
  const cli1 = [];
  const one = [];
  const loads = [];
  for (let i = 0; i < SAMPLES; i++) {
    loads.push(loadavg()[0]);
    cli4.push(runCli([]));
    cli1.push(runCli(['--gate', 'g1']));
    bust();
    const tag = `gatehouse-bench:one-${i}`;
    const t0 = performance.now();
    const built = await buildPipelineImage(p, {
      tag,
      target: 'result-g1',
      env: { PATH: process.env.PATH },
    });
    one.push(performance.now() - t0);
    spawnSync('docker', ['rmi', '-f', tag]);
    if (built.error) throw new Error(`building result-g1: ${built.error}`);
    ctx.log(
      `sample ${i + 1}: CLI 4 gates ${Math.round(cli4.at(-1))} ms, CLI 1 gate ${Math.round(cli1.at(-1))} ms, one build ${Math.round(one.at(-1))} ms`,
    );
  }
  const load = Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 10) / 10;
  const c4 = ctx.median(cli4);
  const c1 = ctx.median(cli1);
  const ob = ctx.median(one);
  return [
    {
      metric: 'CLI wall, 4 gates / one build of setup + the longest gate',
      value: Math.round((c4 / ob) * 100) / 100,
      unit: 'x',
      target: { op: '<=', value: 1.3 },
      note: `${Math.round(c4)} ms vs ${Math.round(ob)} ms, medians of ${SAMPLES} interleaved, load ${load}`,
    },
    {
      metric: 'CLI wall, 4 gates / 1 gate',
      value: Math.round((c4 / c1) * 100) / 100,
      unit: 'x',
      note: `${Math.round(c4)} ms vs ${Math.round(c1)} ms: what parallelism costs, apart from the fixed cost`,
    },
    {
      metric: 'CLI wall, 1 gate / one build of setup + that gate',
      value: Math.round((c1 / ob) * 100) / 100,
      unit: 'x',
      note: 'the fixed cost of the CLI and the executor around one build',
    },
    { metric: 'wall, 4 parallel gates of sleep 2', value: Math.round(wall), unit: 'ms' },
    { metric: 'critical path (setup + 2 s)', value: Math.round(cp), unit: 'ms' },
    { metric: 'sequential per-gate builds', value: Math.round(seq), unit: 'ms' },
    {
      metric: 'wall / critical path',
      value: Math.round((wall / cp) * 100) / 100,
      unit: 'x',
      target: { op: '<=', value: 1.5 },
    },
    {
      metric: 'wall / sequential',
      value: Math.round((wall / seq) * 100) / 100,
      unit: 'x',
      target: { op: '<=', value: 0.5 },
    },
  ];
}
