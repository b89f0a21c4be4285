/**
 * Real BuildKit builds of emitted Dockerfiles (ORACLES.md): the oracle for the
 * Dockerfile target is the builder itself. Builds are few and batched: the machine is small.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  HOSTILE_FRAGMENTS,
  ensureBaseImage,
  gate,
  hostileString,
  pipeline,
  requireDocker,
  DOCKER_TEST_TIMEOUT_MS,
} from '@gatehouse-ci/test-utils';
import type { ResolvedGate, ResolvedPipeline } from '@gatehouse-ci/core';
import { evidence } from '@gatehouse-ci/report';
import { INLINE_COMMAND_LIMIT, buildSecretArgs, emitDockerfile } from '../src/index.js';
import { docker, writeContext } from './helpers.js';

const enabled = await requireDocker('Dockerfile build tests');
const CANARY = 'gh-canary-7f3a9c1e5b';
const dirs: string[] = [];
const images: string[] = [];
let base = '';

beforeAll(async () => {
  if (enabled) base = await ensureBaseImage();
}, 600_000);

afterAll(async () => {
  for (const ref of images) await docker(['image', 'rm', '-f', ref]);
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function on(id: string, over: Partial<ResolvedGate> = {}): ResolvedGate {
  return gate(id, { image: base, ...over });
}

async function context(p: ResolvedPipeline, files: Record<string, string> = {}): Promise<string> {
  const dir = await writeContext(emitDockerfile(p), {
    'package.json': '{"name":"fixture"}\n',
    ...files,
  });
  dirs.push(dir);
  return dir;
}

async function exported(
  dir: string,
  id: string,
): Promise<{ result: Record<string, unknown>; log: string; command: string }> {
  const at = join(dir, 'export', id);
  return {
    result: JSON.parse(await readFile(join(at, 'result.json'), 'utf8')) as Record<string, unknown>,
    log: await readFile(join(at, 'log.txt'), 'utf8'),
    command: await readFile(join(at, 'command.txt'), 'utf8'),
  };
}

const uniq = (): string => `${process.pid}-${Date.now().toString(36)}`;
/** This test run's token: a command holding it is new to BuildKit's cache. */
const RUN_TOKEN = uniq();

describe.skipIf(!enabled)(
  'docker build of the emitted Dockerfile',
  { timeout: DOCKER_TEST_TIMEOUT_MS },
  () => {
    test('passing pipeline: every gate runs, results are exported, advisory failures do not block, release is built', async () => {
      const p = pipeline(
        [
          on('build', {
            run: 'mkdir -p dist && echo built > dist/app.txt && echo v1 > build-info.txt && echo "build log"',
            outputs: ['dist/**', 'build-info.txt'],
          }),
          on('lint', {
            run: 'echo "{\\"errors\\":0}" > "$GATEHOUSE_OUT/eslint.json"; printf "%s" "$LINT_MODE" > "$GATEHOUSE_OUT/env.txt"',
            env: { LINT_MODE: 'strict "quoted" $HOME \\back' },
          }),
          on('sonar', {
            run: 'echo "token is $SONAR_TOKEN"; exit 2',
            secrets: ['SONAR_TOKEN'],
            mode: 'advisory',
          }),
          on('a11y', { run: 'cat dist/app.txt', needs: ['build'] }),
          on('e2e', {
            run: 'cat dist/app.txt build-info.txt && test -d /gatehouse/out/lint',
            needs: ['build', 'lint'],
          }),
          on('slow', { run: 'sleep 30', timeoutMs: 1000, mode: 'advisory' }),
          on('ca', { run: 'echo "$NODE_EXTRA_CA_CERTS"; head -c 27 "$NODE_EXTRA_CA_CERTS"' }),
          // `when.env`: unset -> not run, and a blocking gate skipped by its condition does not fail the verdict.
          on('scan', { run: 'echo scanned; exit 3', when: { env: ['SCAN_URL'] } }),
          on('cond', { run: 'echo "url=$COND_URL"', when: { env: ['COND_URL'] } }),
        ],
        {
          image: base,
          setup: {
            run: 'cat package.json > setup-ran.txt',
            inputs: ['package.json'],
            env: {},
            secrets: [],
            timeoutMs: 60_000,
          },
          release: {
            from: 'build',
            copy: ['dist/'],
            cmd: ['cat', 'dist/app.txt'],
            image: base,
            expose: [8080],
            env: {},
            user: 'node',
            workdir: '/srv',
          },
        },
      );
      const dir = await context(p, { 'dist/stale.txt': 'must not reach the build\n' });
      // The CA option: the same mechanism a corporate proxy needs, fed with the host's bundle.
      const secrets = buildSecretArgs(
        p,
        {},
        { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' },
      ).flatMap((s) => ['--secret', s]);
      const env = { SONAR_TOKEN: CANARY };

      secrets.push('--build-arg', 'COND_URL=http://sonar.example');
      const results = await docker(
        [
          'build',
          '--no-cache',
          ...secrets,
          '--target',
          'gatehouse-results',
          '-o',
          `type=local,dest=${join(dir, 'export')}`,
          '.',
        ],
        { cwd: dir, env },
      );
      expect(results.code, results.stderr).toBe(0);
      expect((await readdir(join(dir, 'export'))).sort()).toEqual([
        'a11y',
        'build',
        'ca',
        'cond',
        'e2e',
        'lint',
        'scan',
        'slow',
        'sonar',
      ]);
      expect(await exported(dir, 'scan')).toMatchObject({
        log: 'gatehouse: not run: not set (when.env): SCAN_URL\n',
        result: { exitCode: null, conditionUnmet: true, skipped: 'not set (when.env): SCAN_URL' },
      });
      expect(await exported(dir, 'cond')).toMatchObject({
        log: 'url=http://sonar.example\n',
        result: { exitCode: 0, conditionUnmet: false },
      });
      expect((await exported(dir, 'ca')).log).toBe(
        '/run/secrets/gatehouse_ca\n-----BEGIN CERTIFICATE-----',
      );

      const build = await exported(dir, 'build');
      expect(build.result).toMatchObject({
        id: 'build',
        exitCode: 0,
        timedOut: false,
        skipped: null,
      });
      expect(build.result['startedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(typeof build.result['durationMs']).toBe('number');
      expect(build.log).toBe('build log\n');
      expect((await exported(dir, 'a11y')).log).toBe('built\n');
      // Outputs of several needs (a directory and a single file) are copied in.
      expect(await exported(dir, 'e2e')).toMatchObject({
        log: 'built\nv1\n',
        result: { exitCode: 0 },
      });
      expect(await readFile(join(dir, 'export/lint/evidence/eslint.json'), 'utf8')).toBe(
        '{"errors":0}\n',
      );
      expect(await readFile(join(dir, 'export/lint/evidence/env.txt'), 'utf8')).toBe(
        'strict "quoted" $HOME \\back',
      );
      const sonar = await exported(dir, 'sonar');
      expect(sonar.result['exitCode']).toBe(2);
      expect(sonar.log).toBe('token is ***\n');
      const slow = await exported(dir, 'slow');
      expect(slow.result).toMatchObject({ timedOut: true, exitCode: 124 });

      const tag = `gatehouse-dockerfile-test:${uniq()}`;
      images.push(tag);
      const release = await docker(['build', '--no-cache', ...secrets, '-t', tag, '.'], {
        cwd: dir,
        env,
      });
      expect(release.code, release.stderr).toBe(0);
      expect(release.stderr).toMatch(/gatehouse: warning: advisory gate sonar failed/);
      expect(release.stderr).toMatch(/gatehouse: warning: advisory gate slow timeout/);
      expect(release.stderr).toContain('gatehouse: verdict passed');
      const run = await docker(['run', '--rm', tag]);
      expect(run.stdout).toBe('built\n');
      const whoami = await docker(['run', '--rm', '--entrypoint', 'id', tag, '-u']);
      expect(whoami.stdout.trim()).toBe('1000');
      const ls = await docker([
        'run',
        '--rm',
        '--entrypoint',
        'ls',
        tag,
        '/srv',
        '/srv/dist',
        '/run/secrets',
      ]);
      expect(ls.stdout).not.toContain('stale.txt');
      expect(ls.stdout).not.toContain('gatehouse');
      const inspect = await docker(['image', 'inspect', tag]);
      const history = await docker(['image', 'history', '--no-trunc', tag]);
      expect(inspect.stdout + history.stdout).not.toContain(CANARY);
      expect(await readFile(join(dir, 'Dockerfile'), 'utf8')).not.toContain(CANARY);
    });

    test('a failing blocking gate: results still exported, default build fails naming it, no image', async () => {
      const p = pipeline(
        [
          on('build', { run: 'echo ok' }),
          on('unit', { run: 'echo "2 failed" >&2; exit 7', outputs: ['coverage/**'] }),
          on('a11y', { run: 'echo should not run', needs: ['unit'] }),
          // Two needs, one failed without producing its outputs: the stage must still build.
          on('summary', { run: 'echo should not run', needs: ['build', 'unit'], mode: 'advisory' }),
        ],
        {
          image: base,
          release: {
            from: 'build',
            copy: ['package.json'],
            cmd: ['true'],
            image: base,
            expose: [],
            env: {},
            user: '1000:1000',
            workdir: '/srv',
          },
        },
      );
      const dir = await context(p);
      const results = await docker(
        [
          'build',
          '--no-cache',
          '--target',
          'gatehouse-results',
          '-o',
          `type=local,dest=${join(dir, 'export')}`,
          '.',
        ],
        { cwd: dir },
      );
      expect(results.code, results.stderr).toBe(0);
      expect((await exported(dir, 'build')).result['exitCode']).toBe(0);
      const unit = await exported(dir, 'unit');
      expect(unit.result['exitCode']).toBe(7);
      expect(unit.log).toBe('2 failed\n');
      const a11y = await exported(dir, 'a11y');
      expect(a11y.result).toMatchObject({
        exitCode: null,
        skipped: 'needed gate unit did not pass',
      });
      expect(a11y.log).not.toContain('should not run');
      expect((await exported(dir, 'summary')).result).toMatchObject({
        exitCode: null,
        skipped: 'needed gate unit did not pass',
      });

      const one = await docker(
        ['build', '--target', 'result-unit', '-o', `type=local,dest=${join(dir, 'one')}`, '.'],
        { cwd: dir },
      );
      expect(one.code, one.stderr).toBe(0);
      expect(await readdir(join(dir, 'one'))).toEqual(['unit']);

      const tag = `gatehouse-dockerfile-test:${uniq()}`;
      images.push(tag);
      const release = await docker(['build', '-t', tag, '.'], { cwd: dir });
      expect(release.code).not.toBe(0);
      // Gatehouse's judge decides, with the reasons `gatehouse run` gives.
      expect(release.stderr).toContain('gatehouse: blocking gate unit failed: exited with code 7');
      expect(release.stderr).toContain(
        'gatehouse: blocking gate a11y skipped because unit did not pass',
      );
      expect(release.stderr).toContain('gatehouse: verdict failed');
      const inspect = await docker(['image', 'inspect', tag]);
      expect(inspect.code).not.toBe(0);
    });

    test('a plain docker build applies policies as gatehouse run does: one warning over max_warnings 0 refuses the image', async () => {
      const report = JSON.stringify([
        {
          filePath: '/app/src/a.js',
          messages: [
            {
              ruleId: 'no-console',
              severity: 1,
              message: 'Unexpected console',
              line: 1,
              column: 1,
            },
          ],
        },
        { filePath: '/app/src/b.js', messages: [] },
      ]);
      const lint = (maxWarnings: number) =>
        on('lint', {
          kind: 'lint',
          // Exits 0: only the policy can fail it. The run's own token keeps BuildKit's cache of
          // an earlier test run from replaying the stages (and hiding the judge's output).
          run: `: ${RUN_TOKEN}; printf '%s' '${report}' > "$GATEHOUSE_OUT/eslint.json"`,
          evidence: [{ format: 'eslint', path: 'eslint.json' }],
          policy: { max_errors: 0, max_warnings: maxWarnings },
        });
      const release = {
        from: 'lint',
        copy: ['package.json'],
        cmd: ['true'],
        image: base,
        expose: [],
        env: {},
        user: '1000:1000',
        workdir: '/srv',
      };
      const strict = await context(pipeline([lint(0)], { image: base, release }));
      const tag = `gatehouse-dockerfile-test:${uniq()}`;
      images.push(tag);
      const refused = await docker(['build', '-t', tag, '.'], { cwd: strict });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(
        'gatehouse: blocking gate lint failed: max_warnings: measured 1, limit ≤ 0',
      );
      expect((await docker(['image', 'inspect', tag])).code).not.toBe(0);

      const lenient = await context(pipeline([lint(1)], { image: base, release }));
      const built = await docker(['build', '-t', tag, '.'], { cwd: lenient });
      expect(built.code, built.stderr).toBe(0);
      expect(built.stderr).toContain('gatehouse: lint passed');
      const verdict = await docker(['run', '--rm', tag, 'cat', '/usr/share/gatehouse/verdict.txt']);
      expect(verdict.stdout).toBe('passed\n');
    });

    test("a failed build gate stops a plain docker build at the verdict, with its reasons, not at the release's COPY of outputs it never wrote", async () => {
      const build = on('build', { kind: 'build', run: 'exit 3', outputs: ['dist/**'] });
      const release = {
        from: 'build',
        copy: ['dist/', 'package.json'],
        cmd: ['true'],
        image: base,
        expose: [],
        env: {},
        user: '1000:1000',
        workdir: '/srv',
      };
      const dir = await context(pipeline([build], { image: base, release }));
      const r = await docker(['build', '.'], { cwd: dir });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('gatehouse: blocking gate build failed: exited with code 3');
      expect(r.stderr).toContain('gatehouse: verdict failed');
      expect(r.stderr).not.toMatch(/"\/app\/dist" not found/);
    });

    test('a plain docker build judges by policy.baseline as gatehouse run does: a known warning passes, a new one fails', async () => {
      const eslintReport = (rules: string[]) =>
        JSON.stringify([
          {
            filePath: '/app/src/a.js',
            messages: rules.map((ruleId) => ({
              ruleId,
              severity: 1,
              message: `Warning from ${ruleId}`,
              line: 1,
              column: 1,
            })),
          },
        ]);
      // The baseline: an earlier report whose lint gate had the no-console warning.
      const known = evidence.parseEslint(eslintReport(['no-console']), { sourceRoots: ['/app'] });
      const baseline = JSON.stringify({
        gates: [{ id: 'lint', evidence: { findings: known.findings } }],
      });
      const lint = (rules: string[]) =>
        on('lint', {
          kind: 'lint',
          run: `: ${RUN_TOKEN}; printf '%s' '${eslintReport(rules)}' > "$GATEHOUSE_OUT/eslint.json"`,
          evidence: [{ format: 'eslint', path: 'eslint.json' }],
          policy: { max_warnings: 0, baseline: 'quality/baseline.json' },
        });
      const files = { 'quality/baseline.json': baseline };
      const old = await context(pipeline([lint(['no-console'])], { image: base }), files);
      const passed = await docker(['build', '.'], { cwd: old });
      expect(passed.code, passed.stderr).toBe(0);
      expect(passed.stderr).toContain('gatehouse: lint passed');

      const fresh = await context(
        pipeline([lint(['no-console', 'eqeqeq'])], { image: base }),
        files,
      );
      const refused = await docker(['build', '.'], { cwd: fresh });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(
        'gatehouse: blocking gate lint failed: max_warnings: measured 1, limit ≤ 0',
      );
    });

    test('hostile commands reach the gate shell byte for byte (batched into a few gates, one build)', async () => {
      const strings = [
        ...HOSTILE_FRAGMENTS,
        ...fc.sample(hostileString({ minLength: 1, maxLength: 12 }), { numRuns: 48, seed: 4242 }),
      ];
      const long = 'x'.repeat(INLINE_COMMAND_LIMIT + 100) + "\r\n\u2028 <<EOF $1 \\$ ''' ${{ x }}";
      // A quoted heredoc hands its body to the shell verbatim: what it writes is what the shell got.
      const delimiter = 'GATEHOUSE_HOSTILE_END';
      const usable = strings.filter(
        (s) => !s.split('\n').some((line) => line.replace(/\r$/, '') === delimiter),
      );
      const heredoc = (s: string, file: number): string =>
        `cat > "$GATEHOUSE_OUT/${file}" <<'${delimiter}'\n${s}\n${delimiter}\n`;
      // BuildKit 0.8 trips over dozens of parallel stages ("flightcontrol: exceeded retry timeout"): 6 per build.
      const perGate = Math.ceil(usable.length / 5);
      const groups: string[][] = [];
      for (let i = 0; i < usable.length; i += perGate) groups.push(usable.slice(i, i + perGate));
      groups.push([long]);
      // ENV values: every fragment an ENV line can carry (line breaks and controls are refused by design).
      const envValues = groups.map((g) =>
        g.filter((s) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(s)).join(''),
      );
      const gates = groups.map((g, i) =>
        on(`h${i}`, {
          run:
            g.map((s, j) => heredoc(s, j)).join('') +
            'printf "%s" "$HOSTILE" > "$GATEHOUSE_OUT/env"\n',
          env: { HOSTILE: envValues[i] as string },
        }),
      );
      const p = pipeline(gates, { image: base });
      expect(Object.keys(emitDockerfile(p).scripts)).toEqual([
        `.gatehouse/docker/gate-h${groups.length - 1}.sh`,
      ]);
      const dir = await context(p);
      const results = await docker(
        [
          'build',
          '--no-cache',
          '--target',
          'gatehouse-results',
          '-o',
          `type=local,dest=${join(dir, 'export')}`,
          '.',
        ],
        { cwd: dir },
      );
      expect(results.code, results.stderr.slice(-2000)).toBe(0);
      for (const [i, group] of groups.entries()) {
        const out = await exported(dir, `h${i}`);
        expect(out.command).toBe(gates[i]!.run);
        expect(out.result['exitCode']).toBe(0);
        expect(await readFile(join(dir, 'export', `h${i}`, 'evidence', 'env'), 'utf8')).toBe(
          envValues[i],
        );
        for (const [j, s] of group.entries()) {
          expect(await readFile(join(dir, 'export', `h${i}`, 'evidence', String(j)), 'utf8')).toBe(
            `${s}\n`,
          );
        }
      }
    });

    test('editing the config file (a comment) reruns no gate; editing an input does', async () => {
      const tag = uniq();
      const p = pipeline(
        [
          on('stamp', {
            run: `echo ${tag}; cat /proc/sys/kernel/random/uuid > "$GATEHOUSE_OUT/stamp"`,
            inputs: ['src/**'],
          }),
        ],
        {
          image: base,
          setup: {
            run: 'cat package.json > setup-ran.txt',
            inputs: ['package.json'],
            env: {},
            secrets: [],
            timeoutMs: 60_000,
          },
        },
      );
      const dir = await context(p, { 'gatehouse.yml': 'version: 1\n', 'src/a.txt': 'a\n' });
      const stamp = async (): Promise<string> => {
        await rm(join(dir, 'export'), { recursive: true, force: true });
        const r = await docker(
          [
            'build',
            '--target',
            'gatehouse-results',
            '-o',
            `type=local,dest=${join(dir, 'export')}`,
            '.',
          ],
          { cwd: dir },
        );
        expect(r.code, r.stderr.slice(-2000)).toBe(0);
        return readFile(join(dir, 'export', 'stamp', 'evidence', 'stamp'), 'utf8');
      };
      const first = await stamp();
      await writeFile(join(dir, 'gatehouse.yml'), 'version: 1\n# a comment\n');
      expect(await stamp()).toBe(first);
      await writeFile(join(dir, 'src/a.txt'), 'b\n');
      expect(await stamp()).not.toBe(first);
    });

    test('the wrappers also work with busybox sh, timeout and date (Alpine-like images)', async () => {
      const busy = await ensureBaseImage({ shell: null, coreutils: [] });
      const p = pipeline(
        [
          gate('quick', {
            image: busy,
            run: 'echo "tok=$API_TOKEN"; echo ok > "$GATEHOUSE_OUT/x"',
            secrets: ['API_TOKEN'],
          }),
          gate('stuck', { image: busy, run: 'sleep 20', timeoutMs: 1000 }),
        ],
        { image: busy },
      );
      const dir = await context(p);
      const r = await docker(
        [
          'build',
          '--no-cache',
          '--secret',
          'id=API_TOKEN,env=API_TOKEN',
          '--target',
          'gatehouse-results',
          '-o',
          `type=local,dest=${join(dir, 'export')}`,
          '.',
        ],
        { cwd: dir, env: { API_TOKEN: CANARY } },
      );
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      const quick = await exported(dir, 'quick');
      expect(quick.result).toMatchObject({ exitCode: 0, timedOut: false });
      expect(quick.result['startedAt']).toMatch(/\.000Z$/);
      expect(quick.log).toBe('tok=***\n');
      const stuck = await exported(dir, 'stuck');
      expect(stuck.result).toMatchObject({ exitCode: 143, timedOut: true });
    });

    test('the wrapper redacts the log as one stream, longest value first, and ends for a value `*` (busybox awk and mawk)', async () => {
      const mawk = await ensureBaseImage({ awk: '/usr/bin/mawk' });
      const pem = [
        '-----BEGIN PRIVATE KEY-----',
        'MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA',
        '-----END PRIVATE KEY-----',
      ].join('\n');
      const env = {
        PEM_KEY: pem,
        SHORT_TOKEN: `${CANARY}-x`,
        LONG_TOKEN: `${CANARY}-x-long`,
        STAR: '*',
      };
      const gates = (suffix: string, image: string): ResolvedGate[] => [
        gate(`which-${suffix}`, { image, run: 'command -v awk' }),
        gate(`pem-${suffix}`, {
          image,
          run: 'printf "key:\\n%s\\nnext\\n" "$PEM_KEY"',
          secrets: ['PEM_KEY'],
        }),
        // Declared shorter first; the output ends without a newline.
        gate(`order-${suffix}`, {
          image,
          run: 'echo "tok=$LONG_TOKEN"; printf "short=%s" "$SHORT_TOKEN" >&2',
          secrets: ['SHORT_TOKEN', 'LONG_TOKEN'],
        }),
        gate(`star-${suffix}`, { image, run: 'echo "a * b ** c"', secrets: ['STAR'] }),
      ];
      const p = pipeline([...gates('busybox', base), ...gates('mawk', mawk)], { image: base });
      const dir = await context(p);
      const r = await docker(
        [
          'build',
          '--no-cache',
          ...Object.keys(env).flatMap((k) => ['--secret', `id=${k},env=${k}`]),
          '--target',
          'gatehouse-results',
          '-o',
          `type=local,dest=${join(dir, 'export')}`,
          '.',
        ],
        { cwd: dir, env },
      );
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      for (const [suffix, awk] of [
        ['busybox', '/bin/awk\n'],
        ['mawk', '/usr/bin/awk\n'],
      ] as const) {
        expect((await exported(dir, `which-${suffix}`)).log).toBe(awk);
        expect((await exported(dir, `pem-${suffix}`)).log).toBe('key:\n***\nnext\n');
        expect((await exported(dir, `order-${suffix}`)).log).toBe('tok=***\nshort=***');
        expect(await exported(dir, `star-${suffix}`)).toMatchObject({
          log: 'a *** b ****** c\n',
          result: { exitCode: 0 },
        });
      }
      const logs = await Promise.all(
        (await readdir(join(dir, 'export'))).map((id) =>
          readFile(join(dir, 'export', id, 'log.txt'), 'utf8'),
        ),
      );
      for (const log of logs) {
        expect(log).not.toContain(CANARY);
        expect(log).not.toContain('MIIBVQ');
      }
    });
  },
);
