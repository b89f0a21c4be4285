import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatehouseError } from '@gatehouse-ci/core';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { explain } from '../src/index.js';
import { allFiles, cleanup, pipe, project, run, status } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

const CANARY = 'canary-7f3a9c2e-secret-value';

describe('secrets', () => {
  it('lists every missing secret, for every gate, before anything runs', async () => {
    dir = await project();
    const gates = [
      gate('a', { secrets: ['A_TOKEN', 'SHARED'], run: 'touch ran-a' }),
      gate('b', { secrets: ['B_TOKEN'], run: 'touch ran-b' }),
      gate('c', { secrets: ['SHARED'], run: 'touch ran-c' }),
    ];
    const p = pipe(dir, gates, {
      setup: {
        run: 'touch ran-setup',
        inputs: [],
        env: {},
        secrets: ['NPM_TOKEN'],
        timeoutMs: 1000,
      },
    });
    const err = (await run(p, { env: { PATH: process.env.PATH, SHARED: 'x' } }).catch(
      (e: unknown) => e,
    )) as GatehouseError;
    expect(err).toBeInstanceOf(GatehouseError);
    expect(err.code).toBe('GH_SECRETS_MISSING');
    expect(err.diagnostics.map((d) => d.path)).toEqual([
      'setup.secrets[0]',
      'gates.a.secrets[0]',
      'gates.b.secrets[0]',
    ]);
    expect(err.message).toMatch(/gate a needs secret A_TOKEN/);
    expect(err.message).toMatch(/gate b needs secret B_TOKEN/);
    expect(err.message).toMatch(/setup needs secret NPM_TOKEN/);
    for (const f of ['ran-a', 'ran-b', 'ran-c', 'ran-setup'])
      expect(existsSync(join(dir, f))).toBe(false);
    expect(existsSync(join(dir, '.gatehouse', 'runs'))).toBe(false);
  });

  it('skips a gate whose when.env does not hold, without asking for its secrets', async () => {
    dir = await project();
    const gates = [
      gate('sonar', {
        secrets: ['SONAR_TOKEN'],
        when: { env: ['SONAR_HOST_URL'] },
        mode: 'advisory',
        run: 'touch sonar-ran',
      }),
      gate('after', { needs: ['sonar'], run: 'true' }),
      gate('lint', { run: 'true' }),
    ];
    const { report } = await run(pipe(dir, gates));
    expect(status(report)).toEqual({ sonar: 'skipped', after: 'passed', lint: 'passed' });
    expect(report.gates[0]!.reason).toBe('`SONAR_HOST_URL` is not set (when.env)');
    expect(existsSync(join(dir, 'sonar-ran'))).toBe(false);
    expect((await explain(pipe(dir, gates), { env: {} }))[0]).toMatchObject({
      id: 'sonar',
      action: 'skip',
    });

    const withHost = { PATH: process.env.PATH, SONAR_HOST_URL: 'http://localhost:9' };
    await expect(run(pipe(dir, gates), { env: withHost })).rejects.toMatchObject({
      code: 'GH_SECRETS_MISSING',
    });
    const ran = await run(pipe(dir, gates), { env: { ...withHost, SONAR_TOKEN: 't' } });
    expect(status(ran.report).sonar).toBe('passed');
  });

  it('only checks the selected gates', async () => {
    dir = await project();
    const gates = [gate('a', { secrets: ['A_TOKEN'], run: 'true' }), gate('b', { run: 'true' })];
    const { report } = await run(pipe(dir, gates), { gates: ['b'] });
    expect(report.gates.map((g) => g.status)).toEqual(['passed']);
  });

  it('a secret value never reaches the log, the cache, the report or the events; other gates do not see it', async () => {
    dir = await project({ 'src/a.txt': 'a' });
    const half = CANARY.length >> 1;
    const gates = [
      gate('uses', {
        secrets: ['DEPLOY_TOKEN'],
        inputs: ['src/**'],
        // The value is printed whole, split across two writes, and on stderr.
        run: `echo "token=$DEPLOY_TOKEN"; printf '%s' "$DEPLOY_TOKEN" | head -c ${half}; sleep 0.1; printf '%s\\n' "$DEPLOY_TOKEN" | tail -c +${half + 1}; echo "$DEPLOY_TOKEN" >&2`,
      }),
      gate('other', { run: 'echo "seen=${DEPLOY_TOKEN:-unset}"' }),
    ];
    const env = { PATH: process.env.PATH, DEPLOY_TOKEN: CANARY };
    const first = await run(pipe(dir, gates), { env });
    const second = await run(pipe(dir, gates), { env });
    // Passed, so stored: the cache entry is among the files checked below.
    expect(second.report.gates[0]!.status).toBe('cached');
    const runDir = join(dir, '.gatehouse', 'runs', first.report.runId);
    const log = readFileSync(join(runDir, 'logs', 'uses.log'), 'utf8');
    expect(log).toBe('token=***\n***\n***\n');
    expect(readFileSync(join(runDir, 'logs', 'other.log'), 'utf8')).toBe('seen=unset\n');
    for (const f of allFiles(join(dir, '.gatehouse'))) {
      expect(readFileSync(f).includes(CANARY), f).toBe(false);
    }
    for (const e of [...first.events, ...second.events])
      expect(JSON.stringify(e)).not.toContain(CANARY);
  });

  it('redacts a secret split between stdout and stderr, and a shorter one beside a longer one', async () => {
    dir = await project({ 'src/a.txt': 'a' });
    const gates = [
      gate('split', {
        secrets: ['A_TOKEN'],
        inputs: ['src/**'],
        // `canary-` on stdout, then `1234567` on stderr: the log holds them side by side.
        run: `v=$A_TOKEN; printf 'token=%s' "\${v%???????}"; sleep 0.2; printf '%s' "\${v#???????}" >&2; sleep 0.2; echo ' end'`,
      }),
      gate('last', { secrets: ['A_TOKEN'], run: 'printf "token=%s" "$A_TOKEN"' }),
      gate('other', { secrets: ['B_TOKEN'], run: 'echo b' }),
    ];
    const secret = 'canary-1234567';
    const env = { PATH: process.env.PATH, A_TOKEN: secret, B_TOKEN: 'zzz-unrelated-99' };
    const { report, events } = await run(pipe(dir, gates), { env });
    expect(status(report)).toEqual({ split: 'passed', last: 'passed', other: 'passed' });
    const logs = join(dir, '.gatehouse', 'runs', report.runId, 'logs');
    expect(readFileSync(join(logs, 'split.log'), 'utf8')).toBe('token=*** end\n');
    expect(readFileSync(join(logs, 'last.log'), 'utf8')).toBe('token=***');
    for (const f of allFiles(join(dir, '.gatehouse')))
      expect(readFileSync(f).includes(secret), f).toBe(false);
    // The events carry the same bytes as the log, the held-back end included.
    const shown = (id: string) =>
      events
        .filter((e) => e.type === 'gate-output' && e.id === id)
        .map((e) => (e.type === 'gate-output' ? e.text : ''))
        .join('');
    expect(shown('split')).toBe('token=*** end\n');
    expect(shown('last')).toBe('token=***');
  });
});
