/**
 * `run --executor docker --release-tag`: the release image is built after a passing verdict,
 * with SLSA provenance that names the image, its base image, the config, the commit and the
 * report, and that round-trips through signing and `verifyReport`.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DOCKER_TEST_TIMEOUT_MS, ensureBaseImage, requireDocker } from '@gatehouse-ci/test-utils';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateSigningKeyPair,
  keyIdOf,
  PROVENANCE_ENVELOPE_FILE,
  PROVENANCE_FILE,
  sealReport,
  serialiseEnvelope,
  serialiseReport,
  signStatement,
  verifyReport,
  VSA_ENVELOPE_FILE,
  ENVELOPE_FILE,
  type Statement,
} from '@gatehouse-ci/report';
import { createPrivateKey } from 'node:crypto';
import { executeDocker } from '../src/index.js';
import { gate, project, removeProjects, runOptions } from './helpers.js';

const hasDocker = await requireDocker('the release provenance test');

describe.skipIf(!hasDocker)(
  'release image provenance (real engine)',
  { timeout: DOCKER_TEST_TIMEOUT_MS },
  () => {
    let image = '';
    const docker = new Dockerode();
    beforeAll(async () => {
      image = await ensureBaseImage();
    }, 600_000);
    afterAll(removeProjects);

    it('builds the release after a passing verdict and writes provenance that verifies once signed', async () => {
      const p = await project(image, [
        gate('build', { run: 'mkdir -p dist && echo hi > dist/index.txt', outputs: ['dist/**'] }),
      ]);
      p.release = {
        from: 'build',
        copy: ['dist/'],
        cmd: ['cat', 'dist/index.txt'],
        expose: [],
        env: {},
        user: 'node',
        workdir: '/app',
        image,
      };
      const tag = `gatehouse-release-test:${randomBytes(4).toString('hex')}`;
      const opts = { ...runOptions(p), releaseTag: tag };
      try {
        const report = await executeDocker(p, opts);
        expect(report.verdict.status).toBe('passed');
        const runDir = join(opts.stateDir, 'runs', report.runId);
        const text = await readFile(join(runDir, PROVENANCE_FILE), 'utf8');
        expect(await readFile(join(opts.stateDir, 'report', PROVENANCE_FILE), 'utf8')).toBe(text);
        const statement = JSON.parse(text) as Statement;
        const id = (await docker.getImage(tag).inspect()).Id;
        const base = await docker.getImage(image).inspect();
        expect(statement.subject).toEqual([
          { name: 'gatehouse-release-test', digest: { sha256: id.replace('sha256:', '') } },
        ]);
        const def = (
          statement.predicate as {
            buildDefinition: {
              resolvedDependencies: Array<{ name: string; digest?: Record<string, string> }>;
            };
          }
        ).buildDefinition;
        const dep = (n: string) => def.resolvedDependencies.find((d) => d.name === n)?.digest;
        expect(dep(image)).toEqual({
          sha256: (base.RepoDigests?.[0]?.split('@')[1] ?? base.Id).replace('sha256:', ''),
        });
        expect(dep('gatehouse.yml')).toEqual({ sha256: p.configSha256 });
        expect(dep('report.json')).toEqual({ sha256: report.integrity!.digest });
        expect(
          opts.events.some(
            (e) => e.type === 'message' && e.text.includes(`release image ${tag} built`),
          ),
        ).toBe(true);

        // Sign as `gatehouse report sign` does, then verify everything with the public key.
        const keys = generateSigningKeyPair();
        const key = createPrivateKey(keys.privateKeyPem);
        const sealed = sealReport(report, { key });
        await writeFile(join(runDir, ENVELOPE_FILE), serialiseEnvelope(sealed.envelope!));
        await writeFile(join(runDir, VSA_ENVELOPE_FILE), serialiseEnvelope(sealed.vsaEnvelope!));
        await writeFile(
          join(runDir, PROVENANCE_ENVELOPE_FILE),
          serialiseEnvelope(signStatement(statement, key, keyIdOf(key))),
        );
        await writeFile(join(runDir, 'report.json'), serialiseReport(sealed.report));
        const v = await verifyReport(join(runDir, 'report.json'), { publicKey: keys.publicKeyPem });
        expect(v.problems).toEqual([]);
        expect(v.attestations!.map((a) => `${a.file} ${a.status}`)).toEqual([
          `${VSA_ENVELOPE_FILE} valid`,
          `${PROVENANCE_ENVELOPE_FILE} valid`,
        ]);
      } finally {
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
      }
    });
  },
);
