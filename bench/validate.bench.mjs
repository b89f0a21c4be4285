// `gatehouse validate` start-up and scaling, against the cost of starting Node itself.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from './shared.mjs';

export const name = 'validate';

/** A config shaped like the one in the product guide: six gates, setup, release, four targets. */
export const REALISTIC_CONFIG = `version: 1
name: storefront
image: node:22-bookworm-slim
setup:
  inputs: [package.json, package-lock.json, src/**, test/**]
  run: npm ci
gates:
  lint:
    kind: lint
    run: npx eslint . -f json -o "$GATEHOUSE_OUT/eslint.json"
    evidence: [{ format: eslint, path: eslint.json }]
    policy: { max_errors: 0 }
  typecheck:
    kind: custom
    run: npx tsc --noEmit
  sonar:
    kind: sonarqube
    run: npx @sonar/scan
    secrets: [SONAR_TOKEN]
    mode: advisory
  unit:
    kind: unit-test
    run: npx vitest run --reporter=junit --outputFile="$GATEHOUSE_OUT/junit.xml"
    evidence: [{ format: junit, path: junit.xml }]
  build:
    kind: build
    needs: [typecheck]
    run: npm run build
    outputs: [dist/**]
  a11y:
    kind: a11y-test
    needs: [build]
    run: npx pa11y-ci --json > "$GATEHOUSE_OUT/pa11y.json"
    evidence: [{ format: pa11y, path: pa11y.json }]
    policy: { max_violations: 0 }
release:
  from: build
  copy: [dist/, package.json]
  cmd: [node, dist/server.js]
targets:
  dockerfile: {}
  github: {}
  jenkins: {}
  buildkite: {}
`;

/**
 * A random DAG of `n` gates: gate i needs 0-3 distinct gates with a smaller index, so the
 * graph is acyclic by construction, and ids are written in shuffled order so the validator
 * cannot rely on the file order.
 */
export function largeConfig(n, seed = 20251128) {
  const rand = prng(seed);
  const id = (i) => `g${String(i).padStart(4, '0')}`;
  const kinds = ['lint', 'unit-test', 'build', 'custom'];
  const gates = [];
  for (let i = 0; i < n; i++) {
    const needs = new Set();
    const count = i === 0 ? 0 : Math.floor(rand() * 4);
    for (let k = 0; k < count; k++) needs.add(id(Math.floor(rand() * i)));
    gates.push({ id: id(i), kind: kinds[i % kinds.length], needs: [...needs].sort() });
  }
  for (let i = gates.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [gates[i], gates[j]] = [gates[j], gates[i]];
  }
  const lines = [
    'version: 1',
    'name: large',
    'image: node:22-bookworm-slim',
    'setup:',
    '  run: npm ci',
    'gates:',
  ];
  for (const g of gates) {
    lines.push(`  ${g.id}:`);
    lines.push(`    kind: ${g.kind}`);
    lines.push(`    run: ./scripts/check.sh ${g.id}`);
    if (g.needs.length) lines.push(`    needs: [${g.needs.join(', ')}]`);
  }
  lines.push('targets:', '  dockerfile: {}', '  github: {}');
  return `${lines.join('\n')}\n`;
}

export async function run(ctx) {
  const bin = join(ctx.root, 'apps/cli/bin/gatehouse.js');
  if (!existsSync(join(ctx.root, 'apps/cli/dist/index.js'))) {
    throw new Error(
      'apps/cli/dist is missing: run `pnpm build` (or `pnpm bench`, which builds first)',
    );
  }
  const dir = ctx.tmpdir();
  const small = join(dir, 'gatehouse.yml');
  writeFileSync(small, REALISTIC_CONFIG);
  const large = join(dir, 'large.yml');
  writeFileSync(large, largeConfig(2000));

  const node = process.execPath;
  // Interleave baseline and subject so background load on a shared machine hits both alike.
  const baseline1 = ctx.hyperfineLike(node, ['-e', '0'], { runs: 15, warmup: 3 });
  const smallT = ctx.hyperfineLike(node, [bin, 'validate', '--config', small], {
    runs: 15,
    warmup: 3,
    cwd: dir,
  });
  const baseline2 = ctx.hyperfineLike(node, ['-e', '0'], { runs: 15, warmup: 3 });
  const largeT = ctx.hyperfineLike(node, [bin, 'validate', '--config', large], {
    runs: 7,
    warmup: 1,
    cwd: dir,
  });
  const baseMs = ctx.median([...baseline1.samples, ...baseline2.samples]);
  ctx.log(
    `node -e 0 ${baseMs.toFixed(1)} ms; validate 6 gates ${smallT.medianMs.toFixed(1)} ms; 2000 gates ${largeT.medianMs.toFixed(1)} ms`,
  );

  return [
    {
      metric: 'node -e 0 (baseline)',
      value: baseMs,
      unit: 'ms',
      note: 'median of 30 runs, two batches around the 6-gate runs',
    },
    { metric: 'validate 6 gates', value: smallT.medianMs, unit: 'ms' },
    {
      metric: 'validate 6 gates / node -e 0',
      value: smallT.medianMs / baseMs,
      unit: 'x',
      target: { op: '<=', value: 3 },
    },
    { metric: 'validate 2000 gates', value: largeT.medianMs, unit: 'ms' },
    {
      metric: 'validate 2000 gates / node -e 0',
      value: largeT.medianMs / baseMs,
      unit: 'x',
      target: { op: '<=', value: 10 },
    },
  ];
}
