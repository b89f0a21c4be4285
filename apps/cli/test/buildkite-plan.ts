/**
 * The Buildkite plan step of a monorepo, run as an agent would: compile the `buildkite` target in
 * a repository, then run the step's commands in a clone of it with a stand-in `buildkite-agent`
 * that keeps what `pipeline upload` was given.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseDocument } from 'yaml';
import type { BuildkitePipeline } from '@gatehouse-ci/plugin-buildkite';
import { runCli } from './helpers.js';

/**
 * Compiles `root`'s Buildkite pipeline (one plan step, removed again from `root`) and clones
 * `root` into `work`; returns a function that runs the plan step there on `branch` (the default
 * branch is `main`) and gives the pipeline it uploaded.
 */
export async function buildkitePlanRunner(
  root: string,
  work: string,
): Promise<(branch: string) => BuildkitePipeline> {
  const compiled = await runCli(['compile', '--target', 'buildkite'], root);
  expect(compiled.code, compiled.err).toBe(0);
  const file = parseDocument(
    readFileSync(join(root, '.buildkite/pipeline.yml'), 'utf8'),
  ).toJS() as BuildkitePipeline;
  rmSync(join(root, '.buildkite'), { recursive: true });
  expect(file.steps.map((s) => s.key)).toEqual(['gatehouse-plan']);
  // What the agent runs after the upload-time interpolation turned each `$$` into `$`.
  const script = file.steps[0]!.commands.map((c) => c.replace(/\$\$/g, '$')).join('\n');
  const clone = join(work, 'buildkite-agent-checkout');
  const cloned = spawnSync('git', ['clone', '-q', root, clone], { encoding: 'utf8' });
  expect(cloned.status, cloned.stderr).toBe(0);
  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'buildkite-agent'), '#!/bin/sh\ncp "$3" "$UPLOADED"\n', {
    mode: 0o755,
  });
  return (branch) => {
    const out = join(work, `uploaded-${branch}.yml`);
    const r = spawnSync('sh', ['-c', script], {
      cwd: clone,
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: process.env.HOME,
        UPLOADED: out,
        BUILDKITE_BRANCH: branch,
        BUILDKITE_PIPELINE_DEFAULT_BRANCH: 'main',
      },
      encoding: 'utf8',
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    return parseDocument(readFileSync(out, 'utf8')).toJS() as BuildkitePipeline;
  };
}
