import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Ajv2020 as Ajv2020Type } from 'ajv/dist/2020.js';
import type { RunReport } from '@gatehouse-ci/core';
import { generateSigningKeyPair, keyIdOf, reportDigest, verifyReport } from './integrity.js';
import {
  GATES_PASSED_LEVEL,
  PROVENANCE_ENVELOPE_FILE,
  PROVENANCE_FILE,
  serialiseStatement,
  signStatement,
  toReleaseProvenance,
  toVsa,
  VSA_ENVELOPE_FILE,
  type Statement,
} from './slsa.js';
import { serialiseEnvelope } from './integrity.js';
import { writeReport } from './write.js';
import { sampleReport } from '../test/sample.js';
import { PKG_DIR, tempDir } from '../test/helpers.js';

function validators() {
  const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020') as {
    Ajv2020: typeof Ajv2020Type;
  };
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const load = (f: string) =>
    JSON.parse(readFileSync(join(PKG_DIR, 'test', 'schemas', f), 'utf8')) as object;
  ajv.addSchema(load('slsa-provenance-v1.schema.json'), 'slsa-provenance-v1.schema.json');
  ajv.addSchema(load('slsa-vsa-v1.schema.json'), 'slsa-vsa-v1.schema.json');
  const check = (id: string) => (data: unknown) => {
    const v = ajv.getSchema(id)!;
    return v(data) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
  return {
    vsa: check('slsa-vsa-v1.schema.json'),
    provenance: check('slsa-provenance-v1.schema.json'),
  };
}

function passing(): RunReport {
  const r = sampleReport();
  r.verdict = {
    status: 'passed',
    reasons: ['every blocking gate passed'],
    policy: 'all-blocking-gates-pass',
  };
  return r;
}

const payloadOf = (text: string): Statement =>
  JSON.parse(
    Buffer.from((JSON.parse(text) as { payload: string }).payload, 'base64').toString(),
  ) as Statement;

describe('SLSA Verification Summary Attestation', () => {
  it('states the verdict about the commit and image, and validates against the VSA v1 schema', () => {
    const r = sampleReport();
    const d = reportDigest(r);
    const failed = toVsa(r, d);
    const ok = toVsa(passing(), reportDigest(passing()), {
      name: 'registry.example/shop',
      digest: `sha256:${'e'.repeat(64)}`,
    });
    expect(failed.predicate).toMatchObject({
      verificationResult: 'FAILED',
      verifiedLevels: ['FAILED'],
      policy: {
        uri: 'https://gatehouse.dev/policy/all-blocking-gates-pass',
        name: 'gatehouse.yml',
        digest: { sha256: r.configSha256 },
      },
      inputAttestations: [{ name: 'report.json', digest: { sha256: d } }],
      timeVerified: r.finishedAt,
    });
    expect(ok.predicate.verifiedLevels).toEqual([GATES_PASSED_LEVEL]);
    expect(ok.subject).toEqual([
      { name: 'git+commit', digest: { gitCommit: r.git.commit } },
      { name: 'registry.example/shop', digest: { sha256: 'e'.repeat(64) } },
    ]);
    expect(ok.predicate.resourceUri).toBe(
      `pkg:docker/registry.example/shop@sha256:${'e'.repeat(64)}`,
    );
    const v = validators();
    expect(v.vsa(failed)).toEqual([]);
    expect(v.vsa(ok)).toEqual([]);
    // The schema is not a rubber stamp.
    expect(
      v.vsa({ ...ok, predicate: { ...ok.predicate, verifiedLevels: ['SLSA_MADE_UP'] } }),
    ).not.toEqual([]);
    const { verifier: _v, ...noVerifier } = ok.predicate;
    expect(v.vsa({ ...ok, predicate: noVerifier })).not.toEqual([]);
  });

  it('is written signed beside the report, verified with the public key, and any edit shows', async () => {
    const keys = generateSigningKeyPair();
    const dir = await tempDir();
    await writeReport(passing(), dir, { key: keys.privateKeyPem });
    const file = join(dir, 'report.json');
    const v = await verifyReport(file, { publicKey: keys.publicKeyPem });
    expect(v.problems).toEqual([]);
    expect(v.attestations).toEqual([
      {
        file: VSA_ENVELOPE_FILE,
        predicateType: 'https://slsa.dev/verification_summary/v1',
        status: 'valid',
      },
    ]);
    const envText = await readFile(join(dir, VSA_ENVELOPE_FILE), 'utf8');
    expect(validators().vsa(payloadOf(envText))).toEqual([]);

    // Another key: refused.
    const other = generateSigningKeyPair();
    expect((await verifyReport(file, { publicKey: other.publicKeyPem })).ok).toBe(false);
    // A VSA saying PASSED for another report, re-signed with the right key: refused, it is not this report's.
    const forged = toVsa(passing(), 'f'.repeat(64));
    const key = createPrivateKey(keys.privateKeyPem);
    await writeFile(
      join(dir, VSA_ENVELOPE_FILE),
      serialiseEnvelope(signStatement(forged, key, keyIdOf(key))),
    );
    const bad = await verifyReport(file, { publicKey: keys.publicKeyPem });
    expect(bad.problems).toContain(
      `${VSA_ENVELOPE_FILE}: signed statement does not match the report`,
    );
    // A flipped signature byte.
    const env = JSON.parse(envText) as { signatures: Array<{ sig: string }> };
    const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
    sig[0]! ^= 1;
    env.signatures[0]!.sig = sig.toString('base64');
    await writeFile(join(dir, VSA_ENVELOPE_FILE), serialiseEnvelope(env as never));
    expect((await verifyReport(file, { publicKey: keys.publicKeyPem })).problems).toContain(
      `${VSA_ENVELOPE_FILE}: signature does not verify with the given public key`,
    );
    // Absent: nothing to check (reports signed before VSAs existed).
    await rm(join(dir, VSA_ENVELOPE_FILE));
    expect((await verifyReport(file, { publicKey: keys.publicKeyPem })).ok).toBe(true);
  });
});

describe('SLSA provenance of the release image', () => {
  const build = (reportDigestHex: string) => ({
    image: { name: 'gatehouse-release/shop', digest: `sha256:${'a'.repeat(64)}` },
    baseImage: { ref: 'node:20-bookworm-slim', digest: `sha256:${'b'.repeat(64)}` },
    release: { from: 'build', copy: ['dist/'], cmd: ['node', 'src/server.js'], workdir: '/app' },
    startedOn: '2026-01-01T10:00:31.000Z',
    finishedOn: '2026-01-01T10:00:40.000Z',
    reportDigest: reportDigestHex,
  });

  it('names the builder, config, commit, base image and report, and validates against the provenance v1 schema', () => {
    const r = passing();
    const p = toReleaseProvenance(r, build(reportDigest(r)));
    expect(validators().provenance(p)).toEqual([]);
    expect(p.subject).toEqual([
      { name: 'gatehouse-release/shop', digest: { sha256: 'a'.repeat(64) } },
    ]);
    const deps = (p.predicate as { buildDefinition: { resolvedDependencies: unknown[] } })
      .buildDefinition.resolvedDependencies;
    expect(deps).toEqual([
      { name: 'gatehouse.yml', digest: { sha256: r.configSha256 } },
      { name: 'git+commit', digest: { gitCommit: r.git.commit } },
      {
        name: 'node:20-bookworm-slim',
        uri: 'pkg:docker/node:20-bookworm-slim',
        digest: { sha256: 'b'.repeat(64) },
      },
      { name: 'report.json', digest: { sha256: reportDigest(r) } },
    ]);
    const noDigest = toReleaseProvenance(r, {
      ...build('c'.repeat(64)),
      baseImage: { ref: 'x:1', digest: null },
    });
    expect(validators().provenance(noDigest)).toEqual([]);
    expect(validators().provenance({ ...p, predicate: { runDetails: {} } })).not.toEqual([]);
  });

  it('names the presets the config extends, in the provenance and in the VSA policy', () => {
    const presets = [
      { name: '@acme/gatehouse-preset-web', version: '1.2.0', sha256: 'd'.repeat(64) },
      { name: 'presets/local.yml', sha256: 'e'.repeat(64) },
    ];
    const r = { ...passing(), presets };
    const p = toReleaseProvenance(r, build(reportDigest(r)));
    expect(validators().provenance(p)).toEqual([]);
    const deps = (p.predicate as { buildDefinition: { resolvedDependencies: unknown[] } })
      .buildDefinition.resolvedDependencies;
    expect(deps).toContainEqual({
      name: '@acme/gatehouse-preset-web',
      uri: 'pkg:npm/%40acme/gatehouse-preset-web@1.2.0',
      digest: { sha256: 'd'.repeat(64) },
      annotations: { gatehouse: 'preset' },
    });
    expect(deps).toContainEqual({
      name: 'presets/local.yml',
      digest: { sha256: 'e'.repeat(64) },
      annotations: { gatehouse: 'preset' },
    });
    const vsa = toVsa(r, reportDigest(r));
    expect(validators().vsa(vsa)).toEqual([]);
    expect(vsa.predicate.policy).toMatchObject({
      annotations: {
        presets: [{ name: '@acme/gatehouse-preset-web' }, { name: 'presets/local.yml' }],
      },
    });
    // A config without presets says nothing of them.
    expect(toVsa(passing(), reportDigest(passing())).predicate.policy).not.toHaveProperty(
      'annotations',
    );
  });

  it('round-trips through sign and verify; one of another run, or after a failed verdict, is refused', async () => {
    const keys = generateSigningKeyPair();
    const key = createPrivateKey(keys.privateKeyPem);
    const dir = await tempDir();
    const written = await writeReport(passing(), dir, { key: keys.privateKeyPem });
    const file = join(dir, 'report.json');
    const put = async (s: Statement<unknown>) => {
      await writeFile(join(dir, PROVENANCE_FILE), serialiseStatement(s));
      await writeFile(
        join(dir, PROVENANCE_ENVELOPE_FILE),
        serialiseEnvelope(signStatement(s, key, keyIdOf(key))),
      );
    };
    const good = toReleaseProvenance(written.report, build(written.report.integrity.digest));
    await put(good);
    const v = await verifyReport(file, { publicKey: keys.publicKeyPem });
    expect(v.problems).toEqual([]);
    expect(v.attestations!.map((a) => a.file)).toEqual([
      VSA_ENVELOPE_FILE,
      PROVENANCE_ENVELOPE_FILE,
    ]);

    const otherRun = { ...written.report, runId: 'OTHER' };
    await put(toReleaseProvenance(otherRun, build(written.report.integrity.digest)));
    expect((await verifyReport(file, { publicKey: keys.publicKeyPem })).problems).toContain(
      `${PROVENANCE_ENVELOPE_FILE}: it is not of run ${written.report.runId}`,
    );
    // The statement file and its envelope must say the same.
    await put(good);
    await writeFile(
      join(dir, PROVENANCE_FILE),
      serialiseStatement({ ...good, subject: [{ name: 'x', digest: { sha256: 'd'.repeat(64) } }] }),
    );
    expect((await verifyReport(file)).problems).toContain(
      `${PROVENANCE_ENVELOPE_FILE}: signed statement does not match the report`,
    );

    // A failed verdict never vouches for a release.
    const dir2 = await tempDir();
    const failed = await writeReport(sampleReport(), dir2, { key: keys.privateKeyPem });
    const s = toReleaseProvenance(failed.report, build(failed.report.integrity.digest));
    await writeFile(
      join(dir2, PROVENANCE_ENVELOPE_FILE),
      serialiseEnvelope(signStatement(s, key, keyIdOf(key))),
    );
    expect((await verifyReport(join(dir2, 'report.json'))).problems).toContain(
      `${PROVENANCE_ENVELOPE_FILE}: the verdict failed: no release image should have been built`,
    );
  });
});
