/**
 * SLSA attestations beside the in-toto test-result statement: a Verification Summary
 * Attestation (VSA) for the verdict, and SLSA v1 provenance for a release image the Docker
 * executor built. Both are in-toto Statements v1, signed as DSSE envelopes with the report's
 * ed25519 keys, and checked by `gatehouse report verify`.
 * @see https://slsa.dev/spec/v1.0/verification_summary
 * @see https://slsa.dev/spec/v1.0/provenance
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '@gatehouse-ci/core';
import type { PresetRecord, RunReport } from '@gatehouse-ci/core';
import { prettyCanonical } from './canonical.js';
import { pae } from './dsse.js';
import { STATEMENT_TYPE, type ResourceDescriptor } from './render/intoto.js';

export const VSA_PREDICATE = 'https://slsa.dev/verification_summary/v1';
export const PROVENANCE_PREDICATE = 'https://slsa.dev/provenance/v1';
/** The VSA's `verifier.id`: Gatehouse judging a run against its config. */
export const GATEHOUSE_VERIFIER_ID = 'https://gatehouse.dev/verifier/v1';
/** The provenance's `runDetails.builder.id`: the Docker executor building the release stage. */
export const GATEHOUSE_BUILDER_ID = 'https://gatehouse.dev/builder/docker-executor/v1';
/** The provenance's `buildType`: the release stage of the Dockerfile Gatehouse generates. */
export const GATEHOUSE_BUILD_TYPE = 'https://gatehouse.dev/buildtypes/docker-release/v1';
/**
 * The VSA's level when every blocking gate passed. SLSA reserves `SLSA_*` names for its own
 * tracks; a quality-gate verdict is not one, so it has its own name.
 */
export const GATES_PASSED_LEVEL = 'GATEHOUSE_BLOCKING_GATES_PASSED';
/** The VSA's `policy.uri` is this followed by the verdict's policy (`all-blocking-gates-pass`). */
export const POLICY_URI_BASE = 'https://gatehouse.dev/policy/';
/** File names next to `report.json`. */
export const VSA_ENVELOPE_FILE = 'report.vsa.dsse.json';
export const PROVENANCE_FILE = 'release.provenance.json';
export const PROVENANCE_ENVELOPE_FILE = 'release.provenance.dsse.json';

/** An in-toto Statement v1 with any predicate. */
export interface Statement<P = Record<string, unknown>> {
  _type: typeof STATEMENT_TYPE;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}

/** The VSA predicate (the members Gatehouse fills). */
export interface VsaPredicate {
  verifier: { id: string; version: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string; name: string; digest: Record<string, string> };
  inputAttestations: Array<{ name: string; digest: Record<string, string> }>;
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
  slsaVersion: '1.0';
}

/** A release image: its name and its digest (`sha256:…`). */
export interface ImageRef {
  name: string;
  digest: string;
}

/**
 * A preset of the config as a resource: its file's sha256, and for an npm preset the package
 * as a purl (`pkg:npm/%40acme/gatehouse-preset@1.2.0`).
 */
export function presetDescriptor(preset: PresetRecord): ResourceDescriptor {
  const purl =
    preset.version !== undefined
      ? `pkg:npm/${preset.name.replace(/^@/, '%40')}@${encodeURIComponent(preset.version)}`
      : null;
  return {
    name: preset.name,
    ...(purl ? { uri: purl } : {}),
    digest: { sha256: preset.sha256 },
    annotations: { gatehouse: 'preset' },
  };
}

function digestSet(digest: string): Record<string, string> {
  const [alg, hex] = digest.includes(':') ? digest.split(':', 2) : ['sha256', digest];
  return { [alg!]: hex! };
}

/**
 * The verdict as a VSA. The subject is what the test-result statement names (the commit and
 * the release image when given, else the report); the policy is the config (`gatehouse.yml`
 * by its sha256); the input attestation is the report; `timeVerified` is when the run ended,
 * so the statement is a function of the report and the image alone.
 */
export function toVsa(
  report: RunReport,
  reportDigest: string,
  image?: ImageRef | null,
): Statement<VsaPredicate> {
  const subject: ResourceDescriptor[] = [];
  if (report.git.commit)
    subject.push({ name: 'git+commit', digest: { gitCommit: report.git.commit } });
  if (image) subject.push({ name: image.name, digest: digestSet(image.digest) });
  if (!subject.length) subject.push({ name: 'gatehouse-report', digest: { sha256: reportDigest } });
  const passed = report.verdict.status === 'passed';
  return {
    _type: STATEMENT_TYPE,
    subject,
    predicateType: VSA_PREDICATE,
    predicate: {
      verifier: { id: GATEHOUSE_VERIFIER_ID, version: { gatehouse: report.gatehouseVersion } },
      timeVerified: report.finishedAt,
      resourceUri: image
        ? `pkg:docker/${image.name}@${image.digest}`
        : report.git.commit
          ? `urn:gatehouse:git-commit:${report.git.commit}`
          : `urn:gatehouse:report:sha256:${reportDigest}`,
      // The rule is Gatehouse's verdict policy; the config (by its digest) sets its gates and limits.
      policy: {
        uri: `${POLICY_URI_BASE}${report.verdict.policy}`,
        name: 'gatehouse.yml',
        digest: { sha256: report.configSha256 },
        // The config's digest covers its own file; the presets it extends set gates too.
        ...(report.presets?.length
          ? { annotations: { presets: report.presets.map(presetDescriptor) } }
          : {}),
      },
      inputAttestations: [{ name: 'report.json', digest: { sha256: reportDigest } }],
      verificationResult: passed ? 'PASSED' : 'FAILED',
      verifiedLevels: passed ? [GATES_PASSED_LEVEL] : ['FAILED'],
      slsaVersion: '1.0',
    },
  };
}

/** What the Docker executor knows about a release build, for {@link toReleaseProvenance}. */
export interface ReleaseBuild {
  image: ImageRef;
  /** The release stage's `FROM` image, with its digest when the engine knows it. */
  baseImage: { ref: string; digest: string | null };
  /** `release` of the config: the gate it is made from and what it copies. */
  release: { from: string; copy: string[]; cmd: string[]; workdir: string };
  /** ISO-8601 UTC. */
  startedOn: string;
  finishedOn: string;
  /** The sealed report of the run whose verdict allowed the build. */
  reportDigest: string;
}

/**
 * SLSA v1 provenance of a release image: built by the Docker executor from the generated
 * Dockerfile's release stage (`buildType`), with the config, the commit, the base image and
 * the report whose verdict let it build as resolved dependencies.
 */
export function toReleaseProvenance(
  report: RunReport,
  build: ReleaseBuild,
): Statement<Record<string, unknown>> {
  const deps: Array<Omit<ResourceDescriptor, 'digest'> & { digest?: Record<string, string> }> = [
    { name: 'gatehouse.yml', digest: { sha256: report.configSha256 } },
  ];
  for (const preset of report.presets ?? []) deps.push(presetDescriptor(preset));
  if (report.git.commit)
    deps.push({ name: 'git+commit', digest: { gitCommit: report.git.commit } });
  // Without a digest (the engine did not know one) the base image is named by its reference only.
  deps.push({
    name: build.baseImage.ref,
    uri: `pkg:docker/${build.baseImage.ref}`,
    ...(build.baseImage.digest ? { digest: digestSet(build.baseImage.digest) } : {}),
  });
  deps.push({ name: 'report.json', digest: { sha256: build.reportDigest } });
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: build.image.name, digest: digestSet(build.image.digest) }],
    predicateType: PROVENANCE_PREDICATE,
    predicate: {
      buildDefinition: {
        buildType: GATEHOUSE_BUILD_TYPE,
        externalParameters: {
          config: 'gatehouse.yml',
          target: 'release',
          release: build.release,
        },
        internalParameters: {
          runId: report.runId,
          verdict: report.verdict.status,
          gatehouseVersion: report.gatehouseVersion,
        },
        resolvedDependencies: deps,
      },
      runDetails: {
        builder: { id: GATEHOUSE_BUILDER_ID, version: { gatehouse: report.gatehouseVersion } },
        metadata: {
          invocationId: report.runId,
          startedOn: build.startedOn,
          finishedOn: build.finishedOn,
        },
      },
    },
  };
}

/** The exact bytes of a statement file (`release.provenance.json`). */
export function serialiseStatement(statement: Statement<unknown>): string {
  return prettyCanonical(statement);
}

/** A DSSE envelope over a statement (canonical JSON), signed with an ed25519 key. */
export function signStatement(
  statement: Statement<unknown>,
  key: KeyObject,
  keyid: string,
): { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> } {
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  return {
    payloadType: 'application/vnd.in-toto+json',
    payload: payload.toString('base64'),
    signatures: [
      {
        keyid,
        sig: sign(null, pae('application/vnd.in-toto+json', payload), key).toString('base64'),
      },
    ],
  };
}

/**
 * Check an envelope of a statement: DSSE shape, canonical bytes, one signature by `keyid`,
 * the payload exactly `expected` (canonical JSON) when given, and with a public key its
 * signature. Returns the problems (empty when it holds) and the statement it carries.
 */
export function checkStatementEnvelope(
  text: string,
  opts: {
    keyid: string | null;
    expected?: (statement: Statement) => string | null;
    publicKey?: { key: KeyObject; keyid: string };
  },
): { problems: string[]; statement: Statement | null } {
  const problems: string[] = [];
  let env: { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  try {
    env = JSON.parse(text) as typeof env;
  } catch (err) {
    return { problems: [`not valid JSON: ${(err as Error).message}`], statement: null };
  }
  if (
    !env ||
    typeof env !== 'object' ||
    typeof env.payload !== 'string' ||
    env.payloadType !== 'application/vnd.in-toto+json' ||
    !Array.isArray(env.signatures)
  )
    return { problems: ['not a DSSE envelope of an in-toto statement'], statement: null };
  if (prettyCanonical(env) !== text) problems.push('file bytes differ from the canonical form');
  const payload = Buffer.from(env.payload, 'base64');
  if (payload.toString('base64') !== env.payload) problems.push('payload is not canonical base64');
  let statement: Statement | null = null;
  try {
    statement = JSON.parse(payload.toString('utf8')) as Statement;
  } catch {
    problems.push('payload is not JSON');
  }
  if (statement) {
    if (statement._type !== STATEMENT_TYPE) problems.push('payload is not an in-toto Statement v1');
    const expected = opts.expected?.(statement);
    if (expected !== undefined && expected !== null && payload.toString('utf8') !== expected)
      problems.push('signed statement does not match the report');
  }
  const sigs = env.signatures as Array<{ keyid?: unknown; sig?: unknown }>;
  const mine = sigs.filter((s) => s && (opts.keyid === null || s.keyid === opts.keyid));
  if (sigs.length !== 1 || mine.length !== 1)
    problems.push(`must hold exactly one signature${opts.keyid ? `, by key ${opts.keyid}` : ''}`);
  if (opts.publicKey) {
    const s = sigs[0];
    if (s?.keyid !== opts.publicKey.keyid)
      problems.push(
        `signed by key ${String(s?.keyid)}, not by the given key ${opts.publicKey.keyid}`,
      );
    const bytes = typeof s?.sig === 'string' ? Buffer.from(s.sig, 'base64') : Buffer.alloc(0);
    if (!verify(null, pae('application/vnd.in-toto+json', payload), opts.publicKey.key, bytes))
      problems.push('signature does not verify with the given public key');
  }
  return { problems, statement };
}
