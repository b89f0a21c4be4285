import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { canonicalJson, GatehouseError, sha256 } from '@gatehouse-ci/core';
import type { RunReport } from '@gatehouse-ci/core';
import { canonicalForms, prettyCanonical } from './canonical.js';
import { pae } from './dsse.js';

export { pae };
import { validateReportSchema } from './schema.js';
import {
  toStatement,
  STATEMENT_TYPE,
  type StatementOptions,
  type TestResultStatement,
} from './render/intoto.js';
import {
  checkStatementEnvelope,
  signStatement,
  toVsa,
  PROVENANCE_ENVELOPE_FILE,
  PROVENANCE_FILE,
  PROVENANCE_PREDICATE,
  VSA_ENVELOPE_FILE,
  VSA_PREDICATE,
  type ImageRef,
  type Statement,
} from './slsa.js';

/** `payloadType` of the envelope: the payload is an in-toto Statement. */
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** File name of the envelope, next to `report.json`. */
export const ENVELOPE_FILE = 'report.dsse.json';

/** A DSSE envelope. @see https://github.com/secure-systems-lab/dsse/blob/master/envelope.md */
export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the payload bytes. */
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** Options of {@link sealReport}. */
export interface SealOptions extends StatementOptions {
  /** ed25519 private key (PEM text or KeyObject): when given, a DSSE envelope is made too. */
  key?: string | KeyObject;
}

/** A sealed report and, when signed, its envelope and the envelope of its VSA. */
export interface SealedReport {
  report: RunReport;
  envelope: DsseEnvelope | null;
  /** The SLSA Verification Summary Attestation of the verdict, signed with the same key. */
  vsaEnvelope?: DsseEnvelope | null;
}

/** sha256 over the canonical JSON of the report without its `integrity` member. */
export function reportDigest(report: RunReport): string {
  return sha256(canonicalForms(report, 'integrity').compact);
}

function privateKeyOf(key: string | KeyObject): KeyObject {
  let k: KeyObject;
  try {
    k = typeof key === 'string' ? createPrivateKey(key) : key;
  } catch (err) {
    throw new GatehouseError('GH_REPORT_KEY_INVALID', 'the signing key is not a PEM private key', {
      cause: err,
      hint: 'create one with `gatehouse report keygen`',
    });
  }
  if (k.type !== 'private' || k.asymmetricKeyType !== 'ed25519') {
    throw new GatehouseError(
      'GH_REPORT_KEY_INVALID',
      `the signing key must be an ed25519 private key (got ${k.asymmetricKeyType ?? k.type})`,
    );
  }
  return k;
}

function publicKeyOf(key: string | KeyObject): KeyObject {
  let k: KeyObject;
  try {
    k =
      typeof key === 'string'
        ? createPublicKey(key)
        : key.type === 'private'
          ? createPublicKey(key)
          : key;
  } catch (err) {
    throw new GatehouseError('GH_REPORT_KEY_INVALID', 'the public key is not a PEM ed25519 key', {
      cause: err,
    });
  }
  if (k.asymmetricKeyType !== 'ed25519')
    throw new GatehouseError(
      'GH_REPORT_KEY_INVALID',
      `the public key must be ed25519 (got ${k.asymmetricKeyType})`,
    );
  return k;
}

/** Key id: sha256 (hex) of the public key's DER SubjectPublicKeyInfo. */
export function keyIdOf(key: string | KeyObject): string {
  return sha256(publicKeyOf(key).export({ type: 'spki', format: 'der' }));
}

/** A new ed25519 key pair as PEM (PKCS#8 private, SPKI public). */
export function generateSigningKeyPair(): {
  privateKeyPem: string;
  publicKeyPem: string;
  keyid: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyid: keyIdOf(publicKey),
  };
}

/**
 * Seal a report: add `integrity: { algorithm: 'sha256', digest }` and, with a key, sign an
 * in-toto Statement about it (DSSE, ed25519). Any earlier integrity member is replaced.
 */
export function sealReport(report: RunReport, opts: SealOptions = {}): SealedReport {
  const digest = reportDigest(report);
  const { integrity: _old, ...body } = report;
  if (!opts.key)
    return {
      report: { ...body, integrity: { algorithm: 'sha256', digest, signature: null } },
      envelope: null,
    };
  const key = privateKeyOf(opts.key);
  const keyid = keyIdOf(key);
  const payload = Buffer.from(canonicalJson(toStatement(report, opts)), 'utf8');
  const sig = sign(null, pae(DSSE_PAYLOAD_TYPE, payload), key).toString('base64');
  const envelope: DsseEnvelope = {
    payloadType: DSSE_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid, sig }],
  };
  return {
    report: {
      ...body,
      integrity: {
        algorithm: 'sha256',
        digest,
        signature: { format: 'dsse', keyid, envelope: ENVELOPE_FILE },
      },
    },
    envelope,
    vsaEnvelope: signStatement(toVsa(report, digest, imageRef(opts)), key, keyid),
  };
}

function imageRef(opts: StatementOptions): ImageRef | null {
  return opts.imageDigest
    ? { name: opts.imageName ?? 'release-image', digest: opts.imageDigest }
    : null;
}

/** The exact bytes `report.json` holds for a sealed report. */
export function serialiseReport(report: RunReport): string {
  return prettyCanonical(report);
}

/** The exact bytes of an envelope file. */
export function serialiseEnvelope(envelope: DsseEnvelope): string {
  return prettyCanonical(envelope);
}

/** Outcome of a verification. `ok` is true only when `problems` is empty. */
export interface VerifyResult {
  ok: boolean;
  /** The digest recomputed from the content, when the file parsed. */
  digest: string | null;
  /** `valid`: signature checked with the given key; `unverified`: envelope consistent but no public key given; `absent`: not signed. */
  signature: 'valid' | 'invalid' | 'unverified' | 'absent';
  problems: string[];
  report: RunReport | null;
  /**
   * SLSA attestations found next to the report (`report.vsa.dsse.json`,
   * `release.provenance.dsse.json`) and checked: `valid` with a public key, else `unverified`.
   * Their problems are in `problems`.
   */
  attestations?: Array<{ file: string; predicateType: string; status: 'valid' | 'unverified' }>;
}

/** Options of {@link verifyReport}. */
export interface VerifyOptions {
  /** ed25519 public key (PEM). When given, the report must be signed by it. */
  publicKey?: string | KeyObject;
  /** Also check the report against its JSON Schema (costs Ajv's start-up). @default false */
  schema?: boolean;
}

/**
 * Verify a sealed `report.json` (and its envelope, when signed): the file must be exactly the
 * bytes Gatehouse writes for its content (so any edit, even whitespace, shows), the digest
 * must match the content, and the envelope's statement must name this digest, commit and
 * verdict; with a public key, its signature must verify.
 */
export async function verifyReport(file: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return fail(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const result = await verifyReportText(
    text,
    async (name) => {
      if (name !== basename(name) || name === '' || name === '.' || name === '..')
        throw new Error(`envelope name ${JSON.stringify(name)} is not a plain file name`);
      return readFile(join(dirname(file), name), 'utf8');
    },
    opts,
  );
  if (!result.report || result.digest === null) return result;
  const read = (name: string): Promise<string | null> =>
    readFile(join(dirname(file), name), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
  const found = await checkAttestations(result.report, result.digest, read, opts.publicKey);
  return {
    ...result,
    ok: result.ok && found.problems.length === 0,
    problems: [...result.problems, ...found.problems],
    attestations: found.attestations,
  };
}

/**
 * Check the SLSA attestations next to a report: each must be signed by the report's key, and
 * say what the report says — the VSA exactly the one this report yields; the provenance must
 * name this run, its config, commit and report digest, and a passing verdict (a release is
 * built only then), and match `release.provenance.json` when that is there.
 */
export async function checkAttestations(
  report: RunReport,
  digest: string,
  read: (name: string) => Promise<string | null>,
  publicKey?: string | KeyObject,
): Promise<{ problems: string[]; attestations: NonNullable<VerifyResult['attestations']> }> {
  const problems: string[] = [];
  const attestations: NonNullable<VerifyResult['attestations']> = [];
  const keyid = report.integrity?.signature?.keyid ?? null;
  let pk: { key: KeyObject; keyid: string } | undefined;
  if (publicKey) {
    try {
      const key = publicKeyOf(publicKey);
      pk = { key, keyid: keyIdOf(key) };
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  const check = async (
    file: string,
    expected: (s: Statement) => string | null,
    extra: (s: Statement) => string[],
  ): Promise<void> => {
    let text: string | null;
    try {
      text = await read(file);
    } catch (err) {
      problems.push(`${file} cannot be read: ${(err as Error).message}`);
      return;
    }
    if (text === null) return;
    if (keyid === null) problems.push(`${file} is present but the report is not signed`);
    const c = checkStatementEnvelope(text, { keyid, expected, ...(pk ? { publicKey: pk } : {}) });
    const own = c.statement ? extra(c.statement) : [];
    problems.push(...[...c.problems, ...own].map((p) => `${file}: ${p}`));
    if (c.statement && !c.problems.length && !own.length)
      attestations.push({
        file,
        predicateType: String(c.statement.predicateType),
        status: pk ? 'valid' : 'unverified',
      });
  };
  await check(
    VSA_ENVELOPE_FILE,
    (s) => canonicalJson(toVsa(report, digest, vsaImage(s))),
    (s) => (s.predicateType === VSA_PREDICATE ? [] : ['not a SLSA VSA v1']),
  );
  // The unsigned statement the run wrote, when it is still there: the envelope must carry it.
  const provenanceFile = await read(PROVENANCE_FILE).catch(() => null);
  let provenance: string | null = null;
  if (provenanceFile !== null) {
    try {
      provenance = canonicalJson(JSON.parse(provenanceFile) as Statement);
    } catch (err) {
      problems.push(`${PROVENANCE_FILE} is not valid JSON: ${(err as Error).message}`);
    }
  }
  await check(
    PROVENANCE_ENVELOPE_FILE,
    () => provenance,
    (s) => provenanceProblems(report, digest, s),
  );
  return { problems, attestations };
}

/** The release image a VSA names, if any (a subject other than the commit or the report). */
function vsaImage(s: Statement): ImageRef | null {
  const subjects = Array.isArray(s.subject) ? s.subject : [];
  const img = subjects.find((x) => x && x.name !== 'git+commit' && x.name !== 'gatehouse-report');
  const [alg, hex] = img?.digest ? (Object.entries(img.digest)[0] ?? []) : [];
  return img?.name && alg && hex ? { name: img.name, digest: `${alg}:${hex}` } : null;
}

/** Why a provenance statement does not belong to this report (empty when it does). */
export function provenanceProblems(report: RunReport, digest: string, s: Statement): string[] {
  const out: string[] = [];
  if (s.predicateType !== PROVENANCE_PREDICATE) return ['not a SLSA provenance v1 statement'];
  const p = s.predicate as {
    buildDefinition?: {
      internalParameters?: { runId?: unknown };
      resolvedDependencies?: Array<{ name?: unknown; digest?: Record<string, unknown> }>;
    };
  };
  const deps = Array.isArray(p.buildDefinition?.resolvedDependencies)
    ? p.buildDefinition.resolvedDependencies
    : [];
  const dep = (name: string, alg: string): unknown =>
    deps.find((d) => d && d.name === name)?.digest?.[alg];
  if (p.buildDefinition?.internalParameters?.runId !== report.runId)
    out.push(`it is not of run ${report.runId}`);
  if (dep('report.json', 'sha256') !== digest)
    out.push('it does not name this report by its digest');
  if (dep('gatehouse.yml', 'sha256') !== report.configSha256)
    out.push("it does not name this run's config");
  if (report.git.commit && dep('git+commit', 'gitCommit') !== report.git.commit)
    out.push("it does not name this run's commit");
  if (report.verdict.status !== 'passed')
    out.push('the verdict failed: no release image should have been built');
  return out;
}

function fail(problem: string): VerifyResult {
  return { ok: false, digest: null, signature: 'absent', problems: [problem], report: null };
}

/** {@link verifyReport} on text; `loadEnvelope` reads a file next to the report. */
export async function verifyReportText(
  text: string,
  loadEnvelope: (name: string) => Promise<string>,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  let report: RunReport;
  try {
    report = JSON.parse(text) as RunReport;
  } catch (err) {
    return fail(`report is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof report !== 'object' || report === null || Array.isArray(report))
    return fail('report is not a JSON object');
  const problems: string[] = [];
  let digest: string | null = null;
  try {
    const forms = canonicalForms(report, 'integrity');
    digest = sha256(forms.compact);
    if (forms.pretty !== text)
      problems.push(
        'file bytes differ from the canonical form of its content (edited by hand or by another tool)',
      );
  } catch (err) {
    problems.push(`report cannot be serialised: ${(err as Error).message}`);
  }
  const integ = report.integrity;
  if (!integ || typeof integ !== 'object') {
    problems.push('report has no integrity member (not sealed)');
    return { ok: false, digest, signature: 'absent', problems, report };
  }
  const allowed = new Set(['algorithm', 'digest', 'signature']);
  for (const k of Object.keys(integ))
    if (!allowed.has(k)) problems.push(`integrity has an unknown member ${JSON.stringify(k)}`);
  if (opts.schema) {
    const schemaProblems = validateReportSchema(report);
    if (schemaProblems.length)
      problems.push(...schemaProblems.slice(0, 5).map((p) => `schema: ${p}`));
  }
  if (integ.algorithm !== 'sha256')
    problems.push(`integrity.algorithm is ${JSON.stringify(integ.algorithm)}, expected "sha256"`);
  if (digest !== null && integ.digest !== digest)
    problems.push(`digest mismatch: recorded ${String(integ.digest)}, content hashes to ${digest}`);

  let signature: VerifyResult['signature'] = 'absent';
  const sig = integ.signature;
  if (sig === undefined || sig === null) {
    if (opts.publicKey) problems.push('a public key was given but the report is not signed');
  } else {
    signature = 'invalid';
    let sigProblems: string[] | null;
    try {
      sigProblems = await checkEnvelope(report, digest, sig, loadEnvelope, opts.publicKey);
    } catch (err) {
      // A report edited into another shape can break the statement builder: that is a failed check, not a crash.
      sigProblems = [`signature cannot be checked: ${(err as Error).message}`];
    }
    if (sigProblems === null) signature = opts.publicKey ? 'valid' : 'unverified';
    else problems.push(...sigProblems);
  }
  return { ok: problems.length === 0, digest, signature, problems, report };
}

async function checkEnvelope(
  report: RunReport,
  digest: string | null,
  sig: NonNullable<NonNullable<RunReport['integrity']>['signature']>,
  loadEnvelope: (name: string) => Promise<string>,
  publicKey: string | KeyObject | undefined,
): Promise<string[] | null> {
  const problems: string[] = [];
  if (
    typeof sig !== 'object' ||
    sig.format !== 'dsse' ||
    typeof sig.keyid !== 'string' ||
    typeof sig.envelope !== 'string'
  ) {
    return ['integrity.signature is not { format: "dsse", keyid, envelope }'];
  }
  for (const k of Object.keys(sig))
    if (!['format', 'keyid', 'envelope'].includes(k))
      problems.push(`integrity.signature has an unknown member ${JSON.stringify(k)}`);
  let envText: string;
  try {
    envText = await loadEnvelope(sig.envelope);
  } catch (err) {
    return [
      ...problems,
      `signature envelope ${sig.envelope} cannot be read: ${(err as Error).message}`,
    ];
  }
  let env: DsseEnvelope;
  try {
    env = JSON.parse(envText) as DsseEnvelope;
  } catch (err) {
    return [...problems, `signature envelope is not valid JSON: ${(err as Error).message}`];
  }
  if (
    !env ||
    typeof env !== 'object' ||
    typeof env.payload !== 'string' ||
    typeof env.payloadType !== 'string' ||
    !Array.isArray(env.signatures)
  ) {
    return [...problems, 'signature envelope is not a DSSE envelope'];
  }
  try {
    if (serialiseEnvelope(env) !== envText)
      problems.push('envelope file bytes differ from the canonical form of its content');
  } catch {
    problems.push('envelope cannot be serialised');
  }
  if (env.payloadType !== DSSE_PAYLOAD_TYPE)
    problems.push(`envelope payloadType is ${JSON.stringify(env.payloadType)}`);
  const payload = Buffer.from(env.payload, 'base64');
  if (payload.toString('base64') !== env.payload)
    problems.push('envelope payload is not canonical base64');
  let statement: TestResultStatement | null = null;
  try {
    statement = JSON.parse(payload.toString('utf8')) as TestResultStatement;
  } catch {
    problems.push('envelope payload is not JSON');
  }
  if (statement) {
    // The payload must be exactly the statement this report yields: commit, verdict, gates, digest.
    const expected = canonicalJson(toStatement(report, imageOf(statement)));
    if (statement._type !== STATEMENT_TYPE) problems.push('payload is not an in-toto Statement v1');
    const recorded = statement.predicate?.configuration?.find((c) => c.name === 'report.json')
      ?.digest?.sha256;
    if (digest !== null && recorded !== digest)
      problems.push(
        `signed statement names report digest ${String(recorded)}, content hashes to ${digest}`,
      );
    else if (payload.toString('utf8') !== expected)
      problems.push('signed statement does not match the report (subject, result or gates differ)');
  }
  const entries = env.signatures.filter((s) => s && s.keyid === sig.keyid);
  if (env.signatures.length !== 1 || entries.length !== 1)
    problems.push(`envelope must hold exactly one signature, by key ${sig.keyid}`);
  if (publicKey) {
    let key: KeyObject | null = null;
    try {
      key = publicKeyOf(publicKey);
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (key) {
      const kid = keyIdOf(key);
      if (kid !== sig.keyid)
        problems.push(`report was signed by key ${sig.keyid}, not by the given key ${kid}`);
      const s = entries[0];
      const sigBytes =
        s && typeof s.sig === 'string' ? Buffer.from(s.sig, 'base64') : Buffer.alloc(0);
      if (s && sigBytes.toString('base64') !== s.sig)
        problems.push('signature is not canonical base64');
      if (!s || !verify(null, pae(env.payloadType, payload), key, sigBytes))
        problems.push('signature does not verify with the given public key');
    }
  }
  return problems.length ? problems : null;
}

function imageOf(statement: TestResultStatement): StatementOptions {
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  const img = subjects.find((s) => s && s.name !== 'git+commit' && s.name !== 'gatehouse-report');
  if (!img || !img.digest) return {};
  const [alg, hex] = Object.entries(img.digest)[0] ?? [];
  return alg && hex
    ? { imageDigest: `${alg}:${hex}`, ...(img.name ? { imageName: img.name } : {}) }
    : {};
}
