/**
 * Cache keys of gates, for `run` and `explain` alike. A key covers the gate's manifest
 * (command, env, inputs, needs' keys, setup's key) and what the project runs on: the version of
 * the `node` the gate's `PATH` runs (not the Node running Gatehouse), the platform and the
 * lockfiles (the project's, and a workspace root's above it).
 * A gate without `inputs` is keyed on every
 * file git knows in the project (tracked, plus untracked files git does not ignore), and for a
 * package of a workspace also on the root's files outside every package, so it is cached
 * safely by default; outside a git work tree it runs every time.
 */
import {
  nodeVersionOnPath,
  PACKAGE_MANAGER_FILES,
  type ResolvedGate,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import { globToRegExp, hashLockfiles, hashTracked, hashWorkspaceShared } from './glob.js';
import type { HashIndex } from './hash-index.js';
import { gateManifest, manifestKey, type GateManifest, type ManifestContext } from './manifest.js';

/** Why a gate without `inputs` cannot be cached. */
export const NOT_CACHEABLE = 'no inputs declared and not in a git work tree: runs every time';

export interface GateKeys {
  /** The key and manifest of gate `id` (memoised; needs first). */
  keyOf(id: string): Promise<{ key: string; manifest: GateManifest }>;
  /** Null when the gate can be cached, else why not. */
  notCacheable(gate: ResolvedGate): Promise<string | null>;
}

/**
 * Keys for the gates of `pipeline`, with setup's key (null without setup). With `sandbox`, every
 * key says so: a sandboxed run never replays a result recorded outside the sandbox, nor the other
 * way round. `hashIndex` remembers content hashes across runs. `env` is the environment the run
 * gives its gates (@default process.env): a gate's `PATH` (its own `env`'s, else that one) says
 * which `node` its key names.
 */
export function gateKeys(
  pipeline: ResolvedPipeline,
  setupKey: string | null,
  opts: {
    sandbox?: boolean;
    hashIndex?: HashIndex;
    env?: Record<string, string | undefined>;
  } = {},
): GateKeys {
  const rootDir = pipeline.rootDir;
  const env = opts.env ?? process.env;
  // Once per PATH and run: the usual PATH leads to this process's Node and starts nothing.
  const nodes = new Map<string, string | null>();
  const nodeOf = (g: ResolvedGate): string | null => {
    const path = g.env.PATH ?? env.PATH ?? '';
    let v = nodes.get(path);
    if (v === undefined) nodes.set(path, (v = nodeVersionOnPath(path)));
    return v;
  };
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  let project: Promise<{
    context: Omit<ManifestContext, 'tracked' | 'runtime'>;
    tracked: Tracked;
  }> | null = null;
  const facts = () =>
    (project ??= (async () => ({
      context: {
        lockfiles: await hashLockfiles(rootDir, PACKAGE_MANAGER_FILES, opts.hashIndex),
      },
      // Listed once per run, only when a gate has no inputs: the project's files, and for a
      // package of a workspace the root's files outside every package.
      tracked: pipeline.gates.some((g) => g.inputs.length === 0)
        ? await withShared(
            hashTracked(rootDir, opts.hashIndex),
            hashWorkspaceShared(rootDir, opts.hashIndex),
          )
        : null,
    }))());
  const memo = new Map<string, Promise<{ key: string; manifest: GateManifest }>>();
  const keyOf = (id: string) => {
    let p = memo.get(id);
    if (!p) {
      const g = byId.get(id)!;
      p = (async () => {
        const needKeys: Record<string, string> = {};
        for (const n of g.needs) needKeys[n] = (await keyOf(n)).key;
        const { context, tracked } = await facts();
        const manifest = await gateManifest(
          g,
          rootDir,
          needKeys,
          setupKey,
          {
            ...context,
            runtime: { node: nodeOf(g), platform: process.platform, arch: process.arch },
            tracked: g.inputs.length === 0 && tracked ? withoutOwnOutputs(tracked, g) : null,
            ...(opts.sandbox ? { sandbox: true } : {}),
            ...(pipeline.workspaceRoot ? { workspaceRoot: pipeline.workspaceRoot } : {}),
          },
          opts.hashIndex,
        );
        return { key: manifestKey(manifest), manifest };
      })();
      memo.set(id, p);
    }
    return p;
  };
  return {
    keyOf,
    notCacheable: async (gate) =>
      gate.inputs.length > 0 || (await facts()).tracked !== null ? null : NOT_CACHEABLE,
  };
}

type Tracked = Array<{ path: string; sha256: string }> | null;

/** The project's files, then the workspace root's shared ones (null outside git). */
async function withShared(own: Promise<Tracked>, shared: Promise<Tracked>): Promise<Tracked> {
  const [a, b] = await Promise.all([own, shared]);
  return a === null ? null : [...a, ...(b ?? [])];
}

/** A gate's own outputs are not its inputs (a committed dist/ would change on every build). */
function withoutOwnOutputs(
  tracked: Array<{ path: string; sha256: string }>,
  gate: ResolvedGate,
): Array<{ path: string; sha256: string }> {
  // A pattern naming a directory means everything in it, as in `outputs` themselves.
  const outs = gate.outputs
    .filter((o) => !o.startsWith('!'))
    .flatMap((o) => [
      globToRegExp(o.replace(/\/$/, '')),
      globToRegExp(`${o.replace(/\/$/, '')}/**`),
    ]);
  if (outs.length === 0) return tracked;
  return tracked.filter((t) => !outs.some((re) => re.test(t.path)));
}
