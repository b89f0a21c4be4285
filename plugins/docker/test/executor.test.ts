import { readFile, readdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isGatehouseError, type RunReport } from '@gatehouse-ci/core';
import { auditLedger } from '@gatehouse-ci/report';
import { DOCKER_TEST_TIMEOUT_MS, ensureBaseImage, requireDocker } from '@gatehouse-ci/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin, { executeDocker } from '../src/index.js';
import { engineInventory, gate, project, removeProjects, runOptions } from './helpers.js';

/** What a run leaves on the engine: nothing. */
const NOTHING = { containers: [], images: [] };

const run = promisify(execFile);
const hasDocker = await requireDocker('the Docker executor tests');

function byId(report: RunReport) {
  return Object.fromEntries(report.gates.map((g) => [g.id, g]));
}

describe.skipIf(!hasDocker)(
  'docker executor (real engine)',
  { timeout: DOCKER_TEST_TIMEOUT_MS },
  () => {
    let image = '';
    beforeAll(async () => {
      image = await ensureBaseImage();
    }, 600_000);
    afterAll(removeProjects);

    it('skips a gate whose when.env is unset and passes set values in as build args', async () => {
      const p = await project(image, [
        gate('scan', { run: 'echo scanning; exit 3', when: { env: ['SCAN_URL'] } }),
        gate('cond', { run: 'echo "url=$COND_URL"', when: { env: ['COND_URL'] } }),
      ]);
      const opts = runOptions(p, {
        env: { PATH: process.env.PATH, COND_URL: 'http://scanner.test' },
      });
      const report = await executeDocker(p, opts);
      const g = byId(report);
      expect([g.scan!.status, g.scan!.reason]).toEqual(['skipped', 'not set (when.env): SCAN_URL']);
      expect(g.cond!.status).toBe('passed');
      const runDir = join(opts.stateDir, 'runs', report.runId);
      expect(await readFile(join(runDir, 'logs', 'cond.log'), 'utf8')).toBe(
        'url=http://scanner.test\n',
      );
      // A blocking gate skipped by its own condition does not fail the run.
      expect(report.verdict.status).toBe('passed');
      // The run is in the project's ledger, chained and under its head pointer like a local run.
      expect(await auditLedger(p.rootDir)).toMatchObject({
        brokenAt: null,
        headProblems: [],
        unrecorded: [],
        entries: [{ runId: report.runId, reportDigest: report.integrity!.digest }],
      });
    });

    it('runs every gate in BuildKit, exports results, and reports a rerun as cached', async () => {
      const p = await project(image, [
        gate('lint', {
          run: 'echo linting; printf \'[{"filePath":"/app/a.js","messages":[]}]\' > "$GATEHOUSE_OUT/eslint.json"',
          evidence: [{ format: 'eslint', path: 'eslint.json' }],
        }),
        gate('unit', { run: 'echo unit; cat package.json' }),
        gate('build', {
          run: 'mkdir -p dist && echo built > dist/out.txt',
          needs: ['lint'],
          outputs: ['dist/**'],
        }),
      ]);
      const opts = runOptions(p);
      const report = await executeDocker(p, opts);
      const g = byId(report);
      expect(report.executor).toBe('docker');
      expect(report.verdict.status).toBe('passed');
      expect(Object.keys(g)).toEqual(['lint', 'unit', 'build']);
      for (const r of report.gates) {
        expect(r.status, `${r.id}: ${r.reason}`).toBe('passed');
        expect(r.executor).toBe('docker');
        expect(r.image?.ref).toBe(image);
        expect(r.image?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      }
      expect(g.lint!.evidence.lint).toMatchObject({ errors: 0, warnings: 0, checked: 1 });
      const runDir = join(opts.stateDir, 'runs', report.runId);
      expect(await readFile(join(runDir, 'logs', 'unit.log'), 'utf8')).toContain(
        '{"name":"t","nonce"',
      );
      expect(
        JSON.parse(await readFile(join(runDir, 'out', 'lint', 'result.json'), 'utf8')),
      ).toMatchObject({ id: 'lint', exitCode: 0 });
      expect(JSON.parse(await readFile(join(runDir, 'report.json'), 'utf8')).runId).toBe(
        report.runId,
      );
      expect(await readFile(join(opts.stateDir, 'report', 'report.json'), 'utf8')).toContain(
        report.runId,
      );
      const types = opts.events.map((e) => e.type);
      expect(types[0]).toBe('run-start');
      expect(types.at(-1)).toBe('run-end');
      expect(
        opts.events
          .filter((e) => e.type === 'gate-start')
          .map((e) => (e as { id: string }).id)
          .sort(),
      ).toEqual(['build', 'lint', 'unit']);
      expect(opts.events.filter((e) => e.type === 'gate-end')).toHaveLength(3);
      expect(await engineInventory(report.runId)).toEqual(NOTHING);

      // Nothing changed: BuildKit answers every gate stage from its cache.
      const again = await executeDocker(p, runOptions(p));
      for (const r of again.gates) {
        expect(r.status, r.id).toBe('cached');
        expect(r.cached?.status).toBe('passed');
        expect(r.cached?.key).toMatch(/^sha256:/);
        expect(r.startedAt).toBe(g[r.id]!.startedAt);
      }
      expect(again.verdict.status).toBe('passed');

      // Another gate's command changed: the Dockerfile changes, but only that gate reruns.
      const edited = {
        ...p,
        gates: p.gates.map((x) => (x.id === 'unit' ? { ...x, run: 'echo unit again' } : x)),
      };
      const third = await executeDocker(edited, runOptions(edited));
      expect(third.gates.map((r) => r.status)).toEqual(['cached', 'passed', 'cached']);

      // --no-cache runs every stage again.
      const fourth = await executeDocker(p, runOptions(p, { noCache: true }));
      expect(fourth.gates.map((r) => r.status)).toEqual(['passed', 'passed', 'passed']);
      for (const r of [again, third, fourth])
        expect(await engineInventory(r.runId)).toEqual(NOTHING);
    });

    it('sees a same-length edit of a gate command, and runs gates selected one after another', async () => {
      const p = await project(image, [
        gate('g1', { run: 'exit 0' }),
        gate('g2', { run: 'echo two' }),
      ]);
      const first = await executeDocker(p, runOptions(p, { gates: ['g1'] }));
      expect(first.gates.map((r) => [r.id, r.status])).toEqual([['g1', 'passed']]);
      // The generated Dockerfile changes by one byte and keeps its size.
      const edited = {
        ...p,
        gates: p.gates.map((x) => (x.id === 'g1' ? { ...x, run: 'exit 3' } : x)),
      };
      const second = await executeDocker(edited, runOptions(edited, { gates: ['g1'] }));
      expect(second.gates.map((r) => [r.id, r.status, r.exitCode])).toEqual([['g1', 'failed', 3]]);
      // Another selection after the first: its stage is in the new Dockerfile.
      const third = await executeDocker(edited, runOptions(edited, { gates: ['g2'] }));
      expect(third.gates.map((r) => [r.id, r.status])).toEqual([['g2', 'passed']]);
      const back = await executeDocker(p, runOptions(p, { gates: ['g1'] }));
      expect(back.gates.map((r) => [r.id, r.status])).toEqual([['g1', 'cached']]);
      expect(back.gates[0]!.cached?.status).toBe('passed');
    });

    it("keeps every gate's evidence when one fails, skips its dependants, and tells advisory from blocking", async () => {
      const p = await project(image, [
        gate('ok', { run: 'echo fine > "$GATEHOUSE_OUT/note.txt"; echo ok' }),
        gate('bad', { run: 'echo broken >&2; exit 3' }),
        gate('adv', { run: 'exit 1', mode: 'advisory' }),
        gate('after', { run: 'echo never', needs: ['bad'] }),
        gate('slow', { run: 'sleep 10', timeoutMs: 1000 }),
      ]);
      const opts = runOptions(p);
      const report = await executeDocker(p, opts);
      const g = byId(report);
      expect(g.ok!.status).toBe('passed');
      expect(g.bad!.status).toBe('failed');
      expect(g.bad!.exitCode).toBe(3);
      expect(g.adv!.status).toBe('failed');
      expect(g.adv!.mode).toBe('advisory');
      expect(g.after!.status).toBe('skipped');
      expect(g.after!.reason).toContain('bad');
      expect(g.slow!.status).toBe('timeout');
      expect(report.verdict.status).toBe('failed');
      expect(report.verdict.reasons.join('\n')).toContain('bad');
      expect(report.verdict.reasons.some((r) => r.startsWith('blocking gate adv'))).toBe(false);
      expect(report.verdict.reasons.join('\n')).toContain('advisory gate adv failed');
      const runDir = join(opts.stateDir, 'runs', report.runId);
      expect(await readFile(join(runDir, 'out', 'ok', 'evidence', 'note.txt'), 'utf8')).toBe(
        'fine\n',
      );
      expect(await readFile(join(runDir, 'logs', 'bad.log'), 'utf8')).toContain('broken');
    });

    it('passes hostile command strings to the shell unchanged', async () => {
      const cmds: Record<string, string> = {
        quotes: `printf '%s\\n' "it's \\"quoted\\"" 'back\\slash' '$HOME'`,
        newline: 'echo one\necho two',
        dollar: "printf '%s|' \"$1\" '${{ github.token }}' '$$' '`id`'",
        heredoc: "cat <<'EOF'\n<<EOF ''' \\$ \"\nEOF",
        unicode: "printf '%s' 'nel\u0085 ls\u2028 bom\ufeff tab\t astral\u{1F600}'",
        // Longer than a Dockerfile line may carry: travels as a generated command file.
        long: `: ${'x'.repeat(70_000)}; echo long`,
        // The context holds the project, not the generated Dockerfile or Gatehouse's state.
        context: 'find . -path ./node_modules -prune -o -print | sort',
      };
      const p = await project(
        image,
        Object.entries(cmds).map(([id, run]) => gate(id, { run })),
      );
      const opts = runOptions(p);
      const report = await executeDocker(p, opts);
      const runDir = join(opts.stateDir, 'runs', report.runId);
      const log = (id: string) => readFile(join(runDir, 'logs', `${id}.log`), 'utf8');
      for (const r of report.gates) expect(r.status, `${r.id}: ${r.reason}`).toBe('passed');
      expect(await log('quotes')).toBe('it\'s "quoted"\nback\\slash\n$HOME\n');
      expect(await log('newline')).toBe('one\ntwo\n');
      expect(await log('dollar')).toBe('|${{ github.token }}|$$|`id`|');
      expect(await log('heredoc')).toBe("<<EOF ''' \\$ \"\n");
      expect(await log('unicode')).toBe('nel\u0085 ls\u2028 bom\ufeff tab\t astral\u{1F600}');
      expect(await log('long')).toBe('long\n');
      expect((await log('context')).split('\n')).toEqual([
        '.',
        // The generated command file of the long gate; no Dockerfile, no .dockerignore, no state,
        // no gatehouse.yml (no gate reads it, and an edit of it would rerun every gate).
        './.gatehouse',
        './.gatehouse/docker',
        './.gatehouse/docker/gate-long.sh',
        // The verdict stage's judge: the same for every config, so setup's key keeps.
        './.gatehouse/docker/verdict.mjs',
        './package.json',
        '',
      ]);
      for (const [id, run] of Object.entries(cmds)) {
        expect(await readFile(join(runDir, 'out', id, 'command.txt'), 'utf8')).toBe(run);
      }
    });

    it('reports every gate as error, with the reason, when the build itself fails', async () => {
      const p = await project(image, [gate('a'), gate('b', { needs: ['a'] })], {}, {});
      p.setup = {
        run: 'echo cannot install >&2; exit 7',
        inputs: ['package.json'],
        env: {},
        secrets: [],
        timeoutMs: 60_000,
      };
      const opts = runOptions(p);
      const report = await executeDocker(p, opts);
      expect(report.gates.map((g) => g.status)).toEqual(['error', 'error']);
      expect(report.gates[0]!.reason).toBe(
        'docker build failed: stage setup failed (exit code: 7): cannot install',
      );
      expect(report.verdict.status).toBe('failed');
      expect(
        JSON.parse(await readFile(join(opts.stateDir, 'runs', report.runId, 'report.json'), 'utf8'))
          .gates,
      ).toHaveLength(2);
      expect(opts.events.some((e) => e.type === 'setup-end' && !e.ok)).toBe(true);
      expect(await engineInventory(report.runId)).toEqual(NOTHING);
    });

    it('says where it looked and what to do when the engine is unreachable', async () => {
      const p = await project(image, [gate('a')]);
      const err = await executeDocker(
        p,
        runOptions(p, { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } }),
      ).catch((e: unknown) => e);
      expect(isGatehouseError(err)).toBe(true);
      expect((err as { code: string }).code).toBe('GH_DOCKER_UNREACHABLE');
      expect((err as Error).message).toContain('DOCKER_HOST=unix:///nonexistent.sock');
      expect((err as Error).message).toContain('--executor local');
      expect((err as Error).message).not.toContain('\n');
      expect(await readdir(p.rootDir)).not.toContain('.gatehouse');
    });

    it('stops the build on abort, reports gates interrupted and leaves nothing behind', async () => {
      const p = await project(image, [
        gate('slow', { run: 'sleep 37' }),
        gate('quick', { run: 'true' }),
      ]);
      const ctl = new AbortController();
      const opts = runOptions(p, { signal: ctl.signal, noCache: true });
      const t0 = Date.now();
      const running = executeDocker(p, {
        ...opts,
        onEvent: (e) => (
          opts.onEvent(e),
          e.type === 'gate-start' && (e as { id: string }).id === 'slow' && ctl.abort()
        ),
      });
      const report = await running;
      expect(Date.now() - t0).toBeLessThan(25_000);
      expect(report.gates.map((g) => g.status)).toEqual(['interrupted', 'interrupted']);
      // Cancelling the request must stop BuildKit's step too, not just our wait for it.
      await new Promise((r) => setTimeout(r, 3000));
      const { stdout } = await run('ps', ['-eo', 'args']);
      expect(stdout.split('\n').filter((l) => l.trim() === 'sleep 37')).toEqual([]);
      expect(await engineInventory(report.runId)).toEqual(NOTHING);
    });

    it('is registered as the `docker` executor', () => {
      expect(plugin.name).toBe('@gatehouse-ci/plugin-docker');
      expect(typeof plugin.executors.docker.execute).toBe('function');
    });
  },
);
