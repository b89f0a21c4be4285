import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DOCKER_TEST_TIMEOUT_MS, ensureBaseImage, requireDocker } from '@gatehouse-ci/test-utils';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPipelineImage, executeDocker } from '../src/index.js';
import { gate, project, removeProjects, runOptions } from './helpers.js';

const run = promisify(execFile);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hasDocker = await requireDocker('the Docker image tests');

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await stat(path)).isDirectory()) out.push(...(await allFiles(path)));
    else out.push(path);
  }
  return out;
}

/** Every byte of an image as `docker save` writes it (layers are plain tars inside). */
async function savedImage(tag: string): Promise<Buffer> {
  const stream = await new Dockerode().getImage(tag).get();
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

describe.skipIf(!hasDocker)(
  'images built from the pipeline (real engine)',
  { timeout: DOCKER_TEST_TIMEOUT_MS },
  () => {
    let image = '';
    const docker = new Dockerode();
    beforeAll(async () => {
      image = await ensureBaseImage();
    }, 600_000);
    afterAll(removeProjects);

    it('never lets a secret reach a layer, the image history, a log, an event or the report', async () => {
      const canary = `canary-${randomBytes(12).toString('hex')}`;
      const p = await project(image, [
        gate('sec', {
          secrets: ['GH_CANARY'],
          // Proves the value arrived (by its hash: the command text must not hold it), then prints it.
          run: `test "$(printf %s "$GH_CANARY" | sha256sum | cut -d' ' -f1)" = "${sha256(canary)}" && echo "token is $GH_CANARY"`,
        }),
        // A declared secret with no value is simply absent, as with `docker build --secret`.
        gate('absent', {
          secrets: ['GH_ABSENT'],
          run: 'test -z "${GH_ABSENT-}" && test ! -e /run/secrets/GH_ABSENT',
        }),
      ]);
      const opts = runOptions(p, { env: { GH_CANARY: canary } });
      const report = await executeDocker(p, opts);
      for (const g of report.gates) expect(g.status, `${g.id}: ${g.reason}`).toBe('passed');
      const runDir = join(opts.stateDir, 'runs', report.runId);
      expect(await readFile(join(runDir, 'logs', 'sec.log'), 'utf8')).toContain('token is ***');
      for (const file of await allFiles(opts.stateDir)) {
        expect((await readFile(file)).includes(canary), file).toBe(false);
      }
      expect(JSON.stringify(opts.events)).not.toContain(canary);

      // The gate stage as an image: every layer and the history must be clean.
      const tag = `gatehouse-canary:${randomBytes(4).toString('hex')}`;
      try {
        const built = await buildPipelineImage(p, {
          tag,
          target: 'gate-sec',
          env: { GH_CANARY: canary },
        });
        expect(built.error).toBeNull();
        const { stdout } = await run('docker', ['history', '--no-trunc', tag], {
          maxBuffer: 16 * 1024 * 1024,
        });
        expect(stdout).toContain('gatehouse-gate');
        expect(stdout).not.toContain(canary);
        const saved = await savedImage(tag);
        expect(saved.length).toBeGreaterThan(1024);
        expect(saved.includes(canary)).toBe(false);
        expect(saved.includes('token is ***')).toBe(true);
      } finally {
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
      }
    });

    it('builds a release image that starts and serves, and refuses it when a blocking gate fails', async () => {
      const server =
        "require('http').createServer((q, s) => s.end('hello from ' + process.getuid())).listen(8080)";
      const release = {
        from: 'build',
        copy: ['dist/'],
        cmd: ['node', 'dist/server.js'],
        expose: [8080],
        env: {},
        user: 'node',
        workdir: '/app',
      };
      const good = await project(
        image,
        [
          gate('build', {
            run: `mkdir -p dist && printf '%s' "${server}" > dist/server.js`,
            outputs: ['dist/**'],
          }),
        ],
        {},
        {},
      );
      good.release = { ...release, image };
      const tag = `gatehouse-release:${randomBytes(4).toString('hex')}`;
      let containerId: string | null = null;
      try {
        const built = await buildPipelineImage(good, { tag });
        expect(built.error).toBeNull();
        const container = await docker.createContainer({
          Image: tag,
          ExposedPorts: { '8080/tcp': {} },
          HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
        });
        containerId = container.id;
        await container.start();
        const info = await container.inspect();
        const port = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
        expect(port).toMatch(/^\d+$/);
        let body = '';
        for (let i = 0; i < 50 && !body; i++) {
          body = await fetch(`http://127.0.0.1:${port}/`).then(
            (r) => r.text(),
            () => '',
          );
          if (!body) await new Promise((r) => setTimeout(r, 200));
        }
        expect(body).toBe('hello from 1000');
      } finally {
        if (containerId) await docker.getContainer(containerId).remove({ force: true });
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
      }

      const bad = await project(image, [
        gate('build', {
          run: `mkdir -p dist && printf '%s' "${server}" > dist/server.js`,
          outputs: ['dist/**'],
        }),
        gate('unit', { run: 'exit 2' }),
      ]);
      bad.release = { ...release, image };
      const refused = `gatehouse-release:${randomBytes(4).toString('hex')}`;
      const built = await buildPipelineImage(bad, { tag: refused });
      expect(built.error).toMatch(/unit/);
      expect(
        await docker
          .getImage(refused)
          .inspect()
          .then(
            () => true,
            () => false,
          ),
      ).toBe(false);
    });
  },
);
