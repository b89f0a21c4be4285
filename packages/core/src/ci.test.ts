import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ciConditionEnv,
  ciDockerGateCommands,
  ciJobSecrets,
  ciJobTimeoutMinutes,
  readCiCommonOptions,
  shellQuote,
  transitiveNeeds,
} from './ci.js';
import type { ResolvedGate, ResolvedPipeline } from './model.js';

function gate(id: string, over: Partial<ResolvedGate> = {}): ResolvedGate {
  return {
    id,
    kind: 'custom',
    run: 'true',
    description: null,
    needs: [],
    image: 'x:1',
    env: {},
    secrets: [],
    inputs: [],
    outputs: [],
    timeoutMs: 60_000,
    mode: 'blocking',
    evidence: [],
    policy: {},
    tools: {},
    ...over,
  };
}
const p: ResolvedPipeline = {
  version: 1,
  name: 't',
  configPath: '/x/gatehouse.yml',
  rootDir: '/x',
  configSha256: '0',
  image: 'x:1',
  workdir: '/app',
  setup: { run: 'npm ci', inputs: [], env: {}, secrets: ['NPM_TOKEN'], timeoutMs: 120_000 },
  gates: [
    gate('a', { secrets: ['A_KEY'] }),
    gate('b', { needs: ['a'] }),
    gate('c', { needs: ['b'], secrets: ['C_KEY'], timeoutMs: 30_000 }),
  ],
  release: null,
  targets: {},
  plugins: [],
};

const work = mkdtempSync(join(tmpdir(), 'gatehouse-ci-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('CI job plan', () => {
  it('shellQuote gives `sh` back the exact word (real /bin/sh)', () => {
    const words = fc.sample(
      fc
        .string({ unit: 'binary', maxLength: 12 })
        .filter((s) => !s.includes('\u0000') && !/[\uD800-\uDFFF]/u.test(s)),
      { numRuns: 200, seed: 7 },
    );
    words.push("it's", '$(id)', '`x`', '*', 'a b', '\\', '"', '\n', '-n', '');
    const script = words.map((w) => `printf '%s\\0' ${shellQuote(w)}`).join('\n');
    const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
    expect(out.split('\u0000').slice(0, -1)).toEqual(words);
  });

  it('docker mode: the job fails unless the exported result records exit code 0 (real /bin/sh)', () => {
    const check = ciDockerGateCommands(p, p.gates[2]!)[1]!;
    const run = (result: string | null): number => {
      const dir = mkdtempSync(join(work, 'case-'));
      if (result !== null) {
        mkdirSync(join(dir, 'gatehouse-results/docker/c'), { recursive: true });
        writeFileSync(join(dir, 'gatehouse-results/docker/c/result.json'), result);
      }
      return spawnSync('/bin/sh', ['-c', check], { cwd: dir, encoding: 'utf8' }).status ?? -1;
    };
    expect(run('{"id":"c","exitCode":0,"startedAt":"x","finishedAt":"y","durationMs":5}')).toBe(0);
    expect(run('{\n  "id": "c",\n  "exitCode": 0,\n  "durationMs": 10\n}\n')).toBe(0);
    expect(run('{"id":"c","exitCode":1,"durationMs":5}')).not.toBe(0);
    expect(run('{"id":"c","exitCode":124,"durationMs":5}')).not.toBe(0);
    expect(run('{"id":"c","exitCode":10,"durationMs":0}')).not.toBe(0);
    expect(run('{"id":"c","exitCode":-1}')).not.toBe(0);
    expect(run('{"id":"c"}')).not.toBe(0);
    expect(run(null)).not.toBe(0);
    // A gate the stage skipped because its `when.env` condition is unmet does not fail the job…
    expect(
      run(
        '{"id":"c","exitCode":null,"timedOut":false,"skipped":"not set (when.env): X","conditionUnmet":true,"durationMs":0}',
      ),
    ).toBe(0);
    // …but one skipped because a need failed does.
    expect(
      run(
        '{"id":"c","exitCode":null,"timedOut":false,"skipped":"needed gate a did not pass","conditionUnmet":false,"durationMs":0}',
      ),
    ).not.toBe(0);
  });

  it("condition variables: the gate's own natively; with its needs' as build args in docker mode", () => {
    const q: ResolvedPipeline = {
      ...p,
      gates: [
        gate('a', { when: { env: ['A_URL'] } }),
        gate('b', { needs: ['a'], secrets: ['B_URL'], when: { env: ['B_URL', 'SHARED'] } }),
      ],
    };
    const b = q.gates[1]!;
    expect(ciConditionEnv(q, b, 'native')).toEqual(['SHARED']);
    expect(ciConditionEnv(q, b, 'docker')).toEqual(['A_URL', 'SHARED']);
    expect(ciDockerGateCommands(q, b)[0]).toContain('--build-arg A_URL --build-arg SHARED -o ');
  });

  it('docker mode: builds the result stage with every secret its build needs', () => {
    expect(transitiveNeeds(p, 'c')).toEqual(['a', 'b']);
    expect(ciJobSecrets(p, p.gates[2]!, 'native')).toEqual(['C_KEY', 'NPM_TOKEN']);
    expect(ciJobSecrets(p, p.gates[2]!, 'docker')).toEqual(['A_KEY', 'C_KEY', 'NPM_TOKEN']);
    expect(
      ciDockerGateCommands(
        { ...p, targets: { dockerfile: { path: 'ci/Dockerfile' } } },
        p.gates[0]!,
      )[0],
    ).toBe(
      'DOCKER_BUILDKIT=1 docker build -f ci/Dockerfile --target result-a --secret id=A_KEY,env=A_KEY --secret id=NPM_TOKEN,env=NPM_TOKEN -o type=local,dest=gatehouse-results/docker .',
    );
  });

  it('job timeouts: setup + gate (+ needed gates in docker mode), ceil, plus 5 minutes', () => {
    expect(ciJobTimeoutMinutes(p, p.gates[2]!, 'native')).toBe(Math.ceil(150_000 / 60_000) + 5);
    expect(ciJobTimeoutMinutes(p, p.gates[2]!, 'docker')).toBe(Math.ceil(270_000 / 60_000) + 5);
  });

  it('common options: defaults and located problems', () => {
    expect(readCiCommonOptions({}, 'ci.yml')).toEqual({
      value: {
        path: 'ci.yml',
        mode: 'native',
        cli: 'npx --no-install gatehouse',
        checkout_dir: null,
      },
      diagnostics: [],
    });
    expect(readCiCommonOptions({ checkout_dir: './web/' }, 'x').value.checkout_dir).toBe('web');
    expect(readCiCommonOptions({ checkout_dir: '.' }, 'x').value.checkout_dir).toBe('');
    const bad = readCiCommonOptions(
      { path: 'a/../../b', mode: 1, cli: 'x\ny', checkout_dir: '../up' },
      'ci.yml',
    );
    expect(bad.diagnostics.map((d) => `${d.code} ${d.path}`)).toEqual([
      'GH_TARGET_OPTIONS path',
      'GH_TARGET_OPTIONS mode',
      'GH_TARGET_OPTIONS cli',
      'GH_TARGET_OPTIONS checkout_dir',
    ]);
    expect(bad.value).toEqual({
      path: 'ci.yml',
      mode: 'native',
      cli: 'npx --no-install gatehouse',
      checkout_dir: null,
    });
  });
});
