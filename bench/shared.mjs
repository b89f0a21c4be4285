// Helpers several benchmarks share: quiet processes, peak memory, the pinned turbo and nx,
// interleaved samples that count only when they did the work they claim, a seeded PRNG.
// Not a benchmark itself (the harness loads only `*.bench.mjs`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/** The environment of every measured tool: no telemetry, update notices or daemons. */
export const quietEnv = () => ({
  ...process.env,
  CI: 'true',
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
  npm_config_update_notifier: 'false',
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
});

/** Runs a command to its end; `{ ms, out, status }`. Throws when it fails unless `allowFailure`. */
export function exec(cmd, args, cwd, { allowFailure = false, env = {} } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...quietEnv(), ...env },
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

/** Max RSS in MB of a command, from GNU time. */
export function peakRssMb(cmd, args, cwd) {
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

/** The 1-minute load average, one decimal. */
export const load1 = () => Math.round(loadavg()[0] * 10) / 10;

/**
 * An npm package installed once into bench/.work/<name>-<version> (ignored by git), so a
 * benchmark can compare against a version the product does not depend on. Returns the
 * package's directory; checks that the installed version is the pinned one.
 */
export function pinnedPackage(ctx, pkg, version) {
  const dir = join(ctx.root, 'bench', '.work', `${pkg}-${version}`);
  const pkgDir = join(dir, 'node_modules', pkg);
  if (!existsSync(join(pkgDir, 'package.json'))) {
    ctx.log(`installing ${pkg}@${version} into ${dir}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
    exec('npm', ['install', '--no-audit', '--no-fund', `${pkg}@${version}`], dir);
  }
  const v = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).version;
  if (v !== version) throw new Error(`${pkgDir} is ${pkg} ${v}, not ${version}`);
  return pkgDir;
}

/**
 * The newest turbo on npm, pinned here (not in the product): the bars of issues 13 and 18 are
 * against it. turbo is a native binary with no `engines` field, so it runs on every Node we
 * support. The repository's own turbo (2.5.8) is measured beside it by the runner benchmark.
 */
export const TURBO_PINNED = '2.11.13';

/** The pinned turbo's binary. */
export function pinnedTurbo(ctx) {
  const dir = pinnedPackage(ctx, 'turbo', TURBO_PINNED);
  const bin = join(dir, '..', '.bin', 'turbo');
  // Outside the install directory turbo would hand over to the repository's own turbo.
  const v = exec(bin, ['--version'], dir).out.trim();
  if (v !== TURBO_PINNED) throw new Error(`${bin} is turbo ${v}, not ${TURBO_PINNED}`);
  return bin;
}

/**
 * Interleaved samples of several commands: each round runs each command once, in turn, and
 * keeps its time only when `valid(out)` says it did the work it claims; a round is repeated
 * (at most `samples` extra times) until every command has `samples` valid times.
 */
export function interleaved(samples, cmds) {
  const times = cmds.map(() => []);
  const rejected = cmds.map(() => 0);
  const loads = [];
  for (let round = 0; round < samples * 2 && times.some((t) => t.length < samples); round++) {
    loads.push(loadavg()[0]);
    cmds.forEach((c, i) => {
      if (times[i].length >= samples) return;
      c.prepare?.();
      const r = c.run();
      if (c.valid(r.out)) times[i].push(r.ms);
      else rejected[i]++;
    });
  }
  cmds.forEach((c, i) => {
    if (times[i].length < samples)
      throw new Error(`${c.name}: only ${times[i].length} of ${samples} samples did the work`);
  });
  return {
    times,
    rejected,
    load: Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 10) / 10,
  };
}

/** The latest report of a gatehouse project. */
export function readReport(dir) {
  return JSON.parse(readFileSync(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'));
}

/** The latest report has `count` gates, every one from the cache. */
export function allCached(dir, count) {
  const r = readReport(dir);
  return r.gates.length === count && r.gates.every((g) => g.status === 'cached');
}

/** Deterministic PRNG (mulberry32): the same seed gives the same generated input every run. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
