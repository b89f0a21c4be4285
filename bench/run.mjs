#!/usr/bin/env node
// Benchmark harness: `pnpm bench` (builds first) or `node bench/run.mjs [--only NAME]... [--keep]`.
//
// Every `bench/*.bench.mjs` module exports `name` and `async run(ctx)` returning rows
// `{ metric, value, unit, target?: { op: '<=', value }, note? }`. Benchmarks report; they
// do not gate: the exit code is non-zero only when a benchmark throws.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');
const workDir = join(benchDir, '.work');

const UNITS = new Set(['x', 'ms', 'MB', 's']);

function usage() {
  return [
    'Usage: node bench/run.mjs [--only NAME]... [--keep] [--list]',
    '',
    '  --only NAME  run only the named benchmark (repeatable)',
    '  --keep       keep the temporary directories under bench/.work/tmp',
    '  --list       list the benchmarks and exit',
    '',
  ].join('\n');
}

/** Median of a non-empty list of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Runs `cmd args` `warmup` times unmeasured, then `runs` times, timing each with the
 * wall clock of this process (spawn to exit). Throws when a run fails, because the time
 * of a command that failed measures nothing.
 */
export function hyperfineLike(cmd, args = [], opts = {}) {
  const {
    runs = 10,
    warmup = 2,
    cwd = root,
    env = process.env,
    input,
    allowFailure = false,
  } = opts;
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`hyperfineLike: runs must be a positive integer, got ${runs}`);
  const once = () => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, {
      cwd,
      env,
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
    if (r.status !== 0 && !allowFailure) {
      const tail = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-15).join('\n');
      throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}:\n${tail}`);
    }
    return ms;
  };
  for (let i = 0; i < warmup; i++) once();
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(once());
  return {
    medianMs: median(samples),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    samples,
  };
}

function checkRow(bench, row) {
  const where = `benchmark ${bench}`;
  if (!row || typeof row.metric !== 'string' || !row.metric)
    throw new Error(`${where}: row without a metric name`);
  if (typeof row.value !== 'number' || Number.isNaN(row.value))
    throw new Error(`${where}: ${row.metric}: value is not a number`);
  if (!UNITS.has(row.unit))
    throw new Error(`${where}: ${row.metric}: unit must be one of ${[...UNITS].join(', ')}`);
  if (
    row.target !== undefined &&
    (row.target.op !== '<=' || typeof row.target.value !== 'number')
  ) {
    throw new Error(`${where}: ${row.metric}: target must be { op: '<=', value: number }`);
  }
}

function verdict(row) {
  if (!row.target) return '-';
  return row.value <= row.target.value ? 'PASS' : 'MISS';
}

function fmt(value, unit) {
  const digits = unit === 'x' ? 2 : unit === 'ms' ? 1 : unit === 'MB' ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

function table(rows) {
  const head = ['benchmark', 'metric', 'value', 'target', 'result'];
  const body = rows.map((r) => [
    r.bench,
    r.metric,
    fmt(r.value, r.unit),
    r.target ? `${r.target.op} ${fmt(r.target.value, r.unit)}` : '-',
    r.status,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const b of body) out.push(line(b));
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.bench} / ${r.metric}: ${r.note}`);
  if (notes.length) out.push('', 'notes:', ...notes);
  return out.join('\n');
}

async function main(argv) {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        only: { type: 'string', multiple: true },
        keep: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`bench: ${err.message}\n${usage()}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(usage());
    return 0;
  }
  const files = readdirSync(benchDir)
    .filter((f) => f.endsWith('.bench.mjs'))
    .sort();
  const modules = [];
  for (const f of files) {
    const mod = await import(pathToFileURL(join(benchDir, f)).href);
    if (typeof mod.name !== 'string' || typeof mod.run !== 'function') {
      throw new Error(`bench/${f} must export \`name\` (string) and \`run(ctx)\` (async function)`);
    }
    modules.push({ file: f, name: mod.name, run: mod.run });
  }
  if (args.list) {
    for (const m of modules) process.stdout.write(`${m.name}\t(bench/${m.file})\n`);
    return 0;
  }
  const only = args.only ?? [];
  const unknown = only.filter((n) => !modules.some((m) => m.name === n));
  if (unknown.length) {
    process.stderr.write(
      `bench: unknown benchmark ${unknown.join(', ')}; known: ${modules.map((m) => m.name).join(', ')}\n`,
    );
    return 2;
  }
  const selected = only.length ? modules.filter((m) => only.includes(m.name)) : modules;

  mkdirSync(join(workDir, 'tmp'), { recursive: true });
  const startedAt = new Date().toISOString();
  const machine = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? null,
    loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);
  log(`node ${machine.node}, ${machine.cpus} cpus, load ${machine.loadavgAtStart.join(' ')}`);

  const results = [];
  const errors = [];
  for (const m of selected) {
    const tmpdirs = [];
    const ctx = {
      root,
      log: (msg) => log(`${m.name}: ${msg}`),
      tmpdir: () => {
        const d = mkdtempSync(join(workDir, 'tmp', `${m.name}-`));
        tmpdirs.push(d);
        return d;
      },
      hyperfineLike,
      median,
    };
    log(`${m.name}: running`);
    const t0 = process.hrtime.bigint();
    try {
      const rows = await m.run(ctx);
      if (!Array.isArray(rows))
        throw new Error(`benchmark ${m.name}: run() must return an array of rows`);
      for (const row of rows) {
        checkRow(m.name, row);
        results.push({ bench: m.name, ...row, status: verdict(row) });
      }
    } catch (err) {
      errors.push({ bench: m.name, message: err && err.stack ? err.stack : String(err) });
      log(`${m.name}: FAILED: ${err && err.message ? err.message : String(err)}`);
    } finally {
      if (!args.keep) for (const d of tmpdirs) rmSync(d, { recursive: true, force: true });
    }
    log(`${m.name}: done in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)}s`);
  }

  process.stdout.write(`${results.length ? table(results) : '(no results)'}\n`);
  for (const e of errors) process.stdout.write(`\nbenchmark ${e.bench} threw:\n${e.message}\n`);

  const out = {
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { ...machine, loadavgAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
    results,
    errors,
  };
  const tmp = join(workDir, `results.json.${process.pid}`);
  writeFileSync(tmp, `${JSON.stringify(out, null, 2)}\n`);
  renameSync(tmp, join(workDir, 'results.json'));
  log(`results written to bench/.work/results.json`);
  return errors.length ? 1 : 0;
}

// Imported by benchmarks' own tests for `median`/`hyperfineLike`; only run when executed.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`bench: ${err && err.stack ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
