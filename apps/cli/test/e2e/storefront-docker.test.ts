/**
 * End to end on the storefront example with the Docker executor: the same gates through
 * BuildKit in a real dockerd, then the release image built by a plain `docker build`
 * answering HTTP on localhost. The gate image is Debian + Chromium + Node, built offline
 * from Debian's mirror (no registry is reachable).
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBrowserImage, requireDocker } from '@gatehouse-ci/test-utils';
import type { RunReport } from '@gatehouse-ci/core';
import { copyStorefront, edit, gateOf, gatehouse, readReport, show, statuses } from './helpers.js';

const execFileAsync = promisify(execFile);
// The 20.10 client speaks BuildKit without the buildx plugin.
const DOCKER = process.env.GATEHOUSE_DOCKER_CLI ?? '/usr/bin/docker';
const docker = await requireDocker('the storefront Docker end-to-end test');

describe.skipIf(!docker)('storefront, docker executor', () => {
  let dir: string;
  let report: RunReport;
  const tag = `gatehouse-e2e-storefront:${process.pid}`;

  beforeAll(async () => {
    const image = await ensureBrowserImage();
    dir = await copyStorefront('gatehouse-e2e-docker-');
    await edit(dir, 'gatehouse.yml', 'image: node:20-bookworm-slim', `image: ${image}`);
    const compiled = gatehouse(['compile', '--target', 'dockerfile'], { cwd: dir });
    expect(compiled.status, show(compiled)).toBe(0);
    // BuildKit's cache outlives test runs on the same engine: make this run really run.
    const r = gatehouse(['run', '--executor', 'docker', '--no-cache'], {
      cwd: dir,
      timeoutMs: 1_200_000,
    });
    expect(r.status, show(r)).toBe(0);
    report = await readReport(dir);
  }, 1_800_000);

  afterAll(async () => {
    await execFileAsync(DOCKER, ['rmi', '-f', tag]).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives the same gate statuses and evidence as the local executor', () => {
    expect(report.executor).toBe('docker');
    expect(report.verdict.status).toBe('passed');
    expect(statuses(report)).toEqual({
      lint: 'passed',
      unit: 'passed',
      build: 'passed',
      a11y: 'passed',
      sonar: 'skipped',
    });
    expect(gateOf(report, 'lint').evidence.lint).toMatchObject({ errors: 0 });
    expect(gateOf(report, 'unit').evidence.tests?.failed).toBe(0);
    expect(gateOf(report, 'unit').evidence.tests?.passed).toBeGreaterThanOrEqual(13);
    expect(gateOf(report, 'unit').evidence.coverage?.lines).toBeGreaterThan(80);
    expect(gateOf(report, 'a11y').evidence.a11y).toMatchObject({ pages: 2, violations: 0 });
    expect(gateOf(report, 'sonar').reason).toMatch(/SONAR_HOST_URL/);
    for (const g of report.gates) expect(g.executor).toBe('docker');
  });

  it("replays unchanged gates from BuildKit's cache, reported as cached with their result", async () => {
    const r = gatehouse(['run', '--executor', 'docker'], { cwd: dir, timeoutMs: 1_200_000 });
    expect(r.status, show(r)).toBe(0);
    const again = await readReport(dir);
    for (const id of ['lint', 'unit', 'build', 'a11y']) {
      expect([id, gateOf(again, id).status, gateOf(again, id).cached?.status]).toEqual([
        id,
        'cached',
        'passed',
      ]);
    }
    expect(gateOf(again, 'unit').evidence.tests?.failed).toBe(0);
  }, 900_000);

  it('builds a release image with a plain `docker build` that serves the shop on localhost', async () => {
    const ca = process.env.NODE_EXTRA_CA_CERTS ?? process.env.SSL_CERT_FILE;
    const secretArgs = ca ? ['--secret', `id=gatehouse_ca,src=${ca}`] : [];
    await execFileAsync(DOCKER, ['build', ...secretArgs, '-t', tag, '.'], {
      cwd: dir,
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const { stdout: id } = await execFileAsync(DOCKER, ['run', '-d', '-p', '127.0.0.1::8080', tag]);
    const container = id.trim();
    try {
      const { stdout: user } = await execFileAsync(DOCKER, ['exec', container, 'id', '-u']);
      expect(user.trim()).not.toBe('0');
      const { stdout: port } = await execFileAsync(DOCKER, ['port', container, '8080/tcp']);
      const url = `http://${port.trim().split('\n')[0]}/`;
      let body = '';
      for (let i = 0; i < 50 && !body; i++) {
        body = await fetch(url).then(
          (r) => (r.ok ? r.text() : ''),
          () => '',
        );
        if (!body) await new Promise((r) => setTimeout(r, 200));
      }
      expect(body).toContain('<h1>Products</h1>');
    } finally {
      await execFileAsync(DOCKER, ['rm', '-f', container]).catch(() => undefined);
    }
  }, 900_000);
});
