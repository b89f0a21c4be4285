import { canonicalJson, sha256, type ResolvedGate, type ResolvedSetup } from '@gatehouse-ci/core';
import { hashInputs } from './glob.js';
import type { HashIndex } from './hash-index.js';

/**
 * Format version of manifests and cache entries; bump to invalidate every entry.
 * 2: runtime and lockfiles in every key, gates without inputs keyed on git's files, only
 * passed results stored, evidence redacted before storing.
 */
export const CACHE_FORMAT = 2;

/** What every gate's key also covers: the project's runtime and lockfiles. */
export interface ManifestContext {
  /**
   * `node`: the version of the `node` on the gate's `PATH` (null when it has none), which is
   * what its commands run, not necessarily the Node running Gatehouse.
   */
  runtime: { node: string | null; platform: string; arch: string };
  /** Lockfiles and package-manager files of the project and the directories above it up to
   * the git work tree's top (a workspace root), with their hashes. */
  lockfiles: Array<{ path: string; sha256: string }>;
  /**
   * For a gate without `inputs`: every file git knows in the project (minus the gate's own
   * outputs), used as its inputs. Null for a gate with `inputs`.
   */
  tracked: Array<{ path: string; sha256: string }> | null;
  /** The gate runs under `--sandbox`: its results are kept apart from unsandboxed ones. */
  sandbox?: boolean;
  /** Where `//` inputs are matched (`ResolvedPipeline.workspaceRoot`); not part of the key. */
  workspaceRoot?: string;
}

/** Everything a gate's cache key is made of. Stored with the entry, diffed by `explain`. */
export interface GateManifest {
  gate: string;
  command: string;
  kind: string;
  image: string;
  /** Plain env (names and values). */
  env: Record<string, string>;
  /** Secret names only; values never enter the cache. */
  secrets: string[];
  tools: Record<string, string>;
  evidence: ResolvedGate['evidence'];
  policy: ResolvedGate['policy'];
  outputs: string[];
  /**
   * Every file matched by `inputs`, with its content hash, sorted by path; for a gate
   * without `inputs`, every file git knows in the project.
   */
  inputs: Array<{ path: string; sha256: string }>;
  /** `declared`: from `inputs`; `git`: the gate has none, so every file git knows. */
  inputsFrom: 'declared' | 'git';
  runtime: ManifestContext['runtime'];
  lockfiles: ManifestContext['lockfiles'];
  /** Keys of the gates it needs. */
  needs: Record<string, string>;
  /** Key of the setup step, when the pipeline has one. */
  setup: string | null;
  /**
   * Present (true) when the gate ran under `--sandbox`. Absent otherwise, so keys of ordinary
   * runs are what they were before the sandbox existed.
   */
  sandbox?: true;
  /**
   * Present (true) for a gate whose script local runs start without its package manager
   * (`packages.direct`): its results are kept apart from those run through the manager.
   */
  direct?: true;
}

/** Build the manifest of a gate. */
export async function gateManifest(
  gate: ResolvedGate,
  rootDir: string,
  needKeys: Record<string, string>,
  setupKey: string | null,
  context: ManifestContext,
  index?: HashIndex,
): Promise<GateManifest> {
  const fromGit = gate.inputs.length === 0 && context.tracked !== null;
  return {
    gate: gate.id,
    command: gate.run,
    kind: gate.kind,
    image: gate.image,
    env: gate.env,
    secrets: [...gate.secrets].sort(),
    tools: gate.tools,
    evidence: gate.evidence,
    policy: gate.policy,
    outputs: gate.outputs,
    inputs: fromGit
      ? context.tracked!
      : await hashInputs(rootDir, gate.inputs, index, context.workspaceRoot),
    inputsFrom: fromGit ? 'git' : 'declared',
    runtime: context.runtime,
    lockfiles: context.lockfiles,
    needs: needKeys,
    setup: setupKey,
    ...(context.sandbox ? { sandbox: true as const } : {}),
    ...(gate.package?.direct ? { direct: true as const } : {}),
  };
}

/** The cache key of a manifest. */
export function manifestKey(m: GateManifest | SetupManifest): string {
  return sha256(canonicalJson({ format: CACHE_FORMAT, m }));
}

/** What the setup step's key is made of. */
export interface SetupManifest {
  command: string;
  env: Record<string, string>;
  secrets: string[];
  inputs: Array<{ path: string; sha256: string }>;
}

export async function setupManifest(
  setup: ResolvedSetup,
  rootDir: string,
  index?: HashIndex,
  workspaceRoot?: string,
): Promise<SetupManifest> {
  return {
    command: setup.run,
    env: setup.env,
    secrets: [...setup.secrets].sort(),
    inputs: await hashInputs(rootDir, setup.inputs, index, workspaceRoot),
  };
}

const short = (h: string) => h.slice(0, 12);

/** Human reasons why `next` differs from `prev` (empty when identical). */
export function diffManifests(prev: GateManifest, next: GateManifest): string[] {
  const reasons: string[] = [];
  if (prev.command !== next.command) reasons.push('command changed');
  const shown = (r: GateManifest['runtime'] | undefined, f: 'node' | 'platform' | 'arch') =>
    r === undefined ? '?' : (r[f] ?? 'no node on PATH');
  for (const f of ['node', 'platform', 'arch'] as const)
    if (prev.runtime?.[f] !== next.runtime[f])
      reasons.push(`${f} changed (${shown(prev.runtime, f)} → ${shown(next.runtime, f)})`);
  const locksBefore = new Map((prev.lockfiles ?? []).map((l) => [l.path, l.sha256]));
  for (const l of next.lockfiles)
    if (locksBefore.get(l.path) !== l.sha256) reasons.push(`lockfile ${l.path} changed`);
  for (const p of locksBefore.keys())
    if (!next.lockfiles.some((l) => l.path === p)) reasons.push(`lockfile ${p} removed`);
  if (prev.inputsFrom !== next.inputsFrom)
    reasons.push(
      next.inputsFrom === 'git' ? 'inputs now every file git knows' : 'inputs now declared',
    );
  for (const f of ['kind', 'image'] as const)
    if (prev[f] !== next[f]) reasons.push(`${f} changed (${prev[f]} → ${next[f]})`);
  const envNames = [...new Set([...Object.keys(prev.env), ...Object.keys(next.env)])].sort();
  for (const n of envNames) {
    if (!(n in prev.env)) reasons.push(`env ${n} added`);
    else if (!(n in next.env)) reasons.push(`env ${n} removed`);
    else if (prev.env[n] !== next.env[n]) reasons.push(`env ${n} changed`);
  }
  if (canonicalJson(prev.secrets) !== canonicalJson(next.secrets))
    reasons.push('secret names changed');
  for (const f of ['tools', 'evidence', 'policy', 'outputs'] as const) {
    if (canonicalJson(prev[f]) !== canonicalJson(next[f])) reasons.push(`${f} changed`);
  }
  const before = new Map(prev.inputs.map((i) => [i.path, i.sha256]));
  const after = new Map(next.inputs.map((i) => [i.path, i.sha256]));
  for (const [p, h] of after) {
    const old = before.get(p);
    if (old === undefined) reasons.push(`input ${p} added`);
    else if (old !== h) reasons.push(`input ${p} changed (sha ${short(old)}… → ${short(h)}…)`);
  }
  for (const p of before.keys()) if (!after.has(p)) reasons.push(`input ${p} removed`);
  const needIds = [...new Set([...Object.keys(prev.needs), ...Object.keys(next.needs)])].sort();
  for (const n of needIds) {
    if (!(n in prev.needs)) reasons.push(`needs ${n} (new)`);
    else if (!(n in next.needs)) reasons.push(`no longer needs ${n}`);
    else if (prev.needs[n] !== next.needs[n]) reasons.push(`needs ${n} whose key changed`);
  }
  if (prev.setup !== next.setup) reasons.push('setup changed');
  if ((prev.sandbox ?? false) !== (next.sandbox ?? false))
    reasons.push(next.sandbox ? 'now run in the sandbox' : 'no longer run in the sandbox');
  if ((prev.direct ?? false) !== (next.direct ?? false))
    reasons.push(
      next.direct ? 'script now started directly' : 'script now run through its package manager',
    );
  return reasons;
}
