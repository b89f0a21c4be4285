import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '@gatehouse-ci/core';
import { canonicalJson, sha256 } from '@gatehouse-ci/core';
import {
  generateSigningKeyPair,
  pae,
  reportDigest,
  sealReport,
  serialiseEnvelope,
  serialiseReport,
  verifyReportText,
  ENVELOPE_FILE,
  DSSE_PAYLOAD_TYPE,
} from './integrity.js';
import { toStatement, TEST_RESULT_PREDICATE } from './render/intoto.js';
import { sampleReport } from '../test/sample.js';

const keys = generateSigningKeyPair();
const signed = sealReport(sampleReport(), { key: keys.privateKeyPem });
const reportText = serialiseReport(signed.report);
const envText = serialiseEnvelope(signed.envelope!);
const unsignedText = serialiseReport(sealReport(sampleReport()).report);

const loader = (env: string) => async (name: string) => {
  if (name !== ENVELOPE_FILE) throw new Error('ENOENT');
  return env;
};
const verify = (report: string, env = envText, publicKey: string | null = keys.publicKeyPem) =>
  verifyReportText(report, loader(env), publicKey ? { publicKey } : {});

/** Every path to a primitive value in a JSON value. */
function leafPaths(v: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (v === null || typeof v !== 'object') return [prefix];
  if (Array.isArray(v)) return v.flatMap((x, i) => leafPaths(x, [...prefix, i]));
  return Object.entries(v).flatMap(([k, x]) => leafPaths(x, [...prefix, k]));
}

function setPath(obj: unknown, path: Array<string | number>, value: unknown): void {
  let o = obj as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path.at(-1)!] = value;
}

function getPath(obj: unknown, path: Array<string | number>): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], obj);
}

describe('seal and verify', () => {
  it('a sealed, signed report verifies with its public key', async () => {
    const v = await verify(reportText);
    expect(v).toMatchObject({ ok: true, signature: 'valid', problems: [] });
    expect(v.digest).toBe(reportDigest(sampleReport()));
    expect(signed.report.integrity).toEqual({
      algorithm: 'sha256',
      digest: v.digest,
      signature: { format: 'dsse', keyid: keys.keyid, envelope: ENVELOPE_FILE },
    });
  });

  it('the digest is sha256 of the canonical JSON without the integrity member', () => {
    const { integrity: _i, ...body } = signed.report;
    expect(signed.report.integrity!.digest).toBe(sha256(canonicalJson(body)));
  });

  it('the envelope is DSSE over an in-toto test-result Statement naming the commit', () => {
    const env = signed.envelope!;
    expect(env.payloadType).toBe(DSSE_PAYLOAD_TYPE);
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as ReturnType<
      typeof toStatement
    >;
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.subject).toEqual([
      { name: 'git+commit', digest: { gitCommit: '0123456789abcdef0123456789abcdef01234567' } },
    ]);
    expect(st.predicateType).toBe(TEST_RESULT_PREDICATE);
    expect(st.predicate).toMatchObject({
      result: 'FAILED',
      passedTests: ['unit', 'sonar'],
      warnedTests: ['a11y'],
      failedTests: ['lint'],
    });
    expect(st.predicate.configuration).toContainEqual({
      name: 'report.json',
      digest: { sha256: signed.report.integrity!.digest },
    });
    expect(pae('t', Buffer.from('ab')).toString()).toBe('DSSEv1 1 t 2 ab');
    const withImage = toStatement(sampleReport(), {
      imageDigest: 'sha256:' + 'ab'.repeat(32),
      imageName: 'shop',
    });
    expect(withImage.subject[1]).toEqual({ name: 'shop', digest: { sha256: 'ab'.repeat(32) } });
  });

  it('detects a flip of any single byte of report.json (signed or not)', async () => {
    for (const [text, env] of [
      [reportText, envText],
      [unsignedText, envText],
    ] as const) {
      await fc.assert(
        fc.asyncProperty(
          fc.nat({ max: text.length - 1 }),
          fc.integer({ min: 1, max: 255 }),
          async (pos, delta) => {
            const bytes = Buffer.from(text, 'utf8');
            bytes[pos % bytes.length] = (bytes[pos % bytes.length]! + delta) % 256;
            const v = await verify(
              bytes.toString('utf8'),
              env,
              text === reportText ? keys.publicKeyPem : null,
            );
            expect(v.ok).toBe(false);
          },
        ),
        { numRuns: 300 },
      );
    }
  });

  it('detects any single field changed to another value, even when the digest is recomputed without the key', async () => {
    const original = JSON.parse(reportText) as RunReport;
    const paths = leafPaths(original);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
        fc.boolean(),
        async (path, value, reseal) => {
          fc.pre(getPath(original, path) !== value);
          const edited = JSON.parse(reportText) as RunReport;
          setPath(edited, path, value);
          let text = serialiseReport(edited);
          if (reseal && path[0] !== 'integrity') {
            // An editor who recomputes the digest but cannot sign keeps the old signature member.
            const resealed = sealReport(edited);
            resealed.report.integrity!.signature = signed.report.integrity!.signature;
            text = serialiseReport(resealed.report);
          }
          const v = await verify(text);
          expect(v.ok).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('detects a flip of any single byte of the envelope', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: envText.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (pos, delta) => {
          const bytes = Buffer.from(envText, 'utf8');
          bytes[pos] = (bytes[pos]! + delta) % 256;
          expect((await verify(reportText, bytes.toString('utf8'))).ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a missing envelope, a wrong key, a stripped signature when a key is required', async () => {
    expect(
      (await verifyReportText(reportText, async () => Promise.reject(new Error('ENOENT')), {}))
        .problems[0],
    ).toMatch(/cannot be read/);
    const other = generateSigningKeyPair();
    expect((await verify(reportText, envText, other.publicKeyPem)).problems.join()).toMatch(
      /not by the given key/,
    );
    const stripped = JSON.parse(reportText) as RunReport;
    stripped.integrity!.signature = null;
    expect((await verify(serialiseReport(stripped))).problems).toEqual([
      'a public key was given but the report is not signed',
    ]);
    // Without a key the stripped report still verifies (digest only) — the auditor must ask for the key.
    expect((await verify(serialiseReport(stripped), envText, null)).ok).toBe(true);
  });

  it('a signature from another key over an edited report fails with the expected key', async () => {
    const edited = sampleReport();
    edited.verdict = { ...edited.verdict, status: 'passed' };
    const attacker = generateSigningKeyPair();
    const forged = sealReport(edited, { key: attacker.privateKeyPem });
    const v = await verify(serialiseReport(forged.report), serialiseEnvelope(forged.envelope!));
    expect(v.ok).toBe(false);
    expect(v.problems.join()).toMatch(/not by the given key/);
  });

  it('with schema: true, a sealed report of the wrong shape is named', async () => {
    const odd = sealReport({ ...sampleReport(), startedAt: 'noon' }).report;
    expect((await verifyReportText(serialiseReport(odd), loader(envText), {})).ok).toBe(true);
    const v = await verifyReportText(serialiseReport(odd), loader(envText), { schema: true });
    expect(v.problems).toEqual([expect.stringMatching(/^schema: \/startedAt must match pattern/)]);
  });

  it('an unsealed report does not verify', async () => {
    expect((await verify(serialiseReport(sampleReport()), envText, null)).problems).toEqual([
      'report has no integrity member (not sealed)',
    ]);
  });
});
