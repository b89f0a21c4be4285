/**
 * The verdict of a plain `docker build .`: the generated Dockerfile's verdict stage runs
 * this code (bundled, see scripts/bundle-verdict.mjs) over every gate's exported result,
 * so the build refuses to make an image exactly when `gatehouse run` would fail: exit
 * codes, evidence, policies and modes, judged by the same functions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GateResult, ResolvedGate, RunReport } from '@gatehouse-ci/core';
import { judgeExportedGate } from './docker.js';
import { computeVerdict } from './verdict.js';

/** What the in-image judge knows of the pipeline: written by the dockerfile target as JSON. */
export interface DockerVerdictSpec {
  format: 1;
  /** The gates' working directory in the image: tool paths in evidence are relative to it. */
  workdir: string;
  /** The resolved gates, as the config defines them (modes, evidence, policies). */
  gates: ResolvedGate[];
}

/**
 * The spec of `gates`, for the verdict stage: what judging reads (kind, mode, needs,
 * evidence, policy, timeout). Commands, env and images are left out: they do not decide a
 * verdict, and the spec stays small enough to ride in the Dockerfile itself.
 */
export function dockerVerdictSpec(
  workdir: string,
  gates: readonly ResolvedGate[],
): DockerVerdictSpec {
  return {
    format: 1,
    workdir,
    gates: gates.map((g) => ({
      ...g,
      run: '',
      description: null,
      env: {},
      secrets: [],
      inputs: [],
      outputs: [],
      tools: {},
      image: '',
    })),
  };
}

/**
 * Judge every gate's exported directory under `resultsDir` (`<dir>/<id>/result.json`, …)
 * and the run as a whole.
 */
export async function judgeDockerResults(
  spec: DockerVerdictSpec,
  resultsDir: string,
): Promise<{ gates: GateResult[]; verdict: RunReport['verdict'] }> {
  if (spec.format !== 1) throw new Error(`unknown verdict spec format ${String(spec.format)}`);
  const gates: GateResult[] = [];
  for (const gate of spec.gates) {
    gates.push(
      await judgeExportedGate(join(resultsDir, gate.id), gate, 'docker', {
        rootDir: spec.workdir,
        sourceRoots: [spec.workdir],
      }),
    );
  }
  return { gates, verdict: computeVerdict(gates, spec) };
}

let judgeSource: string | null = null;

/**
 * The bundled judge (`dist/docker-verdict.mjs`, made by this package's build), as text:
 * the dockerfile target writes it next to the Dockerfile for the verdict stage to run.
 */
export function dockerVerdictJudge(): string {
  if (judgeSource === null) {
    const url = new URL('../dist/docker-verdict.mjs', import.meta.url);
    try {
      judgeSource = readFileSync(url, 'utf8');
    } catch (err) {
      throw new Error(
        `the verdict judge ${url.pathname} is missing: build @gatehouse-ci/report first (pnpm build)`,
        { cause: err },
      );
    }
  }
  return judgeSource;
}
