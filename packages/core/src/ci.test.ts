import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ciConditionEnv,
  ciDockerCacheName,
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

  it('docker mode with a registry cache: a failed push or an empty repository never changes the job (real /bin/sh)', () => {
    // `docker` is a stand-in that records its arguments and writes the gate's result.
    const q: ResolvedPipeline = {
      ...p,
      setup: null,
      gates: [gate('a'), gate('b', { needs: ['a'] })],
    };
    const commands = ciDockerGateCommands(q, q.gates[1]!, {
      repository: '"$REPO"',
      registry: 'reg.example',
      user: 'ci',
      password: '"$PW"',
      pushWhen: '[ "$PUSH" = yes ]',
    });
    const run = (env: Record<string, string>, exitCode: number) => {
      const dir = mkdtempSync(join(work, 'cache-'));
      mkdirSync(join(dir, 'bin'));
      writeFileSync(
        join(dir, 'bin/docker'),
        [
          '#!/bin/sh',
          'printf "%s|" "$@" >> "$CALLS"; echo >> "$CALLS"',
          'if [ "$1" = login ]; then cat > login-password; exit "${LOGIN_STATUS:-0}"; fi',
          'if [ "$1" = push ]; then exit "${PUSH_STATUS:-0}"; fi',
          'mkdir -p gatehouse-results/docker/b',
          `echo '{"id":"b","exitCode":${exitCode},"durationMs":1}' > gatehouse-results/docker/b/result.json`,
        ].join('\n'),
        { mode: 0o755 },
      );
      const r = spawnSync('/bin/sh', ['-ec', commands.join('\n')], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, CALLS: join(dir, 'calls'), ...env },
      });
      const calls = execFileSync('cat', [join(dir, 'calls')], { encoding: 'utf8' });
      return { status: r.status, out: r.stdout, calls: calls.trim().split('\n') };
    };
    const repo = { REPO: 'reg.example/acme/web/gatehouse-cache/t', PW: 'pw with spaces' };
    // Read-only: logs in, imports the gate's stage and its need's, pushes nothing.
    const read = run({ ...repo, PUSH: 'no' }, 0);
    expect(read.status).toBe(0);
    expect(read.calls).toHaveLength(2);
    expect(read.calls[0]).toBe('login|-u|ci|--password-stdin|reg.example|');
    expect(read.calls[1]).toContain(
      '|--cache-from|reg.example/acme/web/gatehouse-cache/t:gate-b|--cache-from|reg.example/acme/web/gatehouse-cache/t:gate-a|',
    );
    // Writing: the gate's stage is built with inline cache metadata and pushed.
    const write = run({ ...repo, PUSH: 'yes' }, 0);
    expect(write.calls.slice(2)).toEqual([
      'build|-q|-f|Dockerfile|--target|gate-b|--build-arg|BUILDKIT_INLINE_CACHE=1|-t|reg.example/acme/web/gatehouse-cache/t:gate-b|.|',
      'push|reg.example/acme/web/gatehouse-cache/t:gate-b|',
    ]);
    expect(write.out).toContain(
      'gate b: build cache pushed to reg.example/acme/web/gatehouse-cache/t:gate-b',
    );
    // A refused push is one line; the job's status is still the gate's.
    const refused = run({ ...repo, PUSH: 'yes', PUSH_STATUS: '1' }, 0);
    expect(refused.status).toBe(0);
    expect(refused.out).toContain("gate b: build cache not pushed; the gate's result stands");
    expect(run({ ...repo, PUSH: 'yes', PUSH_STATUS: '1' }, 3).status).not.toBe(0);
    expect(run({ ...repo, PUSH: 'yes' }, 3).status).not.toBe(0);
    // No repository (no registry here): no login, no cache option, no push.
    const plain =
      'build|-f|Dockerfile|--target|result-b|-o|type=local,dest=gatehouse-results/docker|.|';
    expect(run({ REPO: '', PUSH: 'yes' }, 0).calls).toEqual([plain]);
    // A refused login: one line, then the same build without the cache.
    const refusedLogin = run({ ...repo, PUSH: 'yes', LOGIN_STATUS: '1' }, 0);
    expect(refusedLogin.status).toBe(0);
    expect(refusedLogin.out).toContain('the registry refused the login');
    expect(refusedLogin.calls.slice(1)).toEqual([plain]);
  });

  it('the cache repository name is a registry path component made of the pipeline name', () => {
    expect(ciDockerCacheName({ ...p, name: 'GL Cache / Demo' })).toBe('gl-cache-demo');
    expect(ciDockerCacheName({ ...p, name: '@acme/ui-kit' })).toBe('acme-ui-kit');
    expect(ciDockerCacheName({ ...p, name: '***' })).toBe('pipeline');
    for (const name of fc.sample(fc.string({ maxLength: 80 }), { numRuns: 300, seed: 3 }))
      expect(ciDockerCacheName({ ...p, name })).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
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
