// `gatehouse compile` of the storefront example to every target, against the cost of starting Node.
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const name = 'compile';

/** The targets the example lists; the benchmark checks that compile wrote a file for each. */
const EXPECTED_FILES = [
  'Dockerfile',
  'Jenkinsfile',
  '.github/workflows/gatehouse.yml',
  '.buildkite/pipeline.yml',
];

export async function run(ctx) {
  const bin = join(ctx.root, 'apps/cli/bin/gatehouse.js');
  if (!existsSync(join(ctx.root, 'apps/cli/dist/index.js'))) {
    throw new Error(
      'apps/cli/dist is missing: run `pnpm build` (or `pnpm bench`, which builds first)',
    );
  }
  const example = join(ctx.root, 'examples/storefront/gatehouse.yml');
  if (!existsSync(example)) throw new Error(`${example} is missing`);
  // Compile reads only the config (no plugins: list in the example), so that one file is
  // the whole input; the generated files are written next to it, in the temporary directory.
  const dir = ctx.tmpdir();
  const config = join(dir, 'gatehouse.yml');
  copyFileSync(example, config);

  const node = process.execPath;
  const args = [bin, 'compile', '--config', config];
  const baseline1 = ctx.hyperfineLike(node, ['-e', '0'], { runs: 15, warmup: 3 });
  const compileT = ctx.hyperfineLike(node, args, { runs: 15, warmup: 3, cwd: dir });
  const baseline2 = ctx.hyperfineLike(node, ['-e', '0'], { runs: 15, warmup: 3 });
  const baseMs = ctx.median([...baseline1.samples, ...baseline2.samples]);

  const missing = EXPECTED_FILES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) {
    throw new Error(
      `compile did not write ${missing.join(', ')} (wrote: ${readdirSync(dir).join(', ')})`,
    );
  }
  ctx.log(
    `node -e 0 ${baseMs.toFixed(1)} ms; compile 6 gates, 4 targets ${compileT.medianMs.toFixed(1)} ms`,
  );

  return [
    {
      metric: 'node -e 0 (baseline)',
      value: baseMs,
      unit: 'ms',
      note: 'median of 30 runs, two batches around the compile runs',
    },
    { metric: 'compile example, 4 targets', value: compileT.medianMs, unit: 'ms' },
    {
      metric: 'compile example, 4 targets / node -e 0',
      value: compileT.medianMs / baseMs,
      unit: 'x',
      target: { op: '<=', value: 3 },
    },
  ];
}
