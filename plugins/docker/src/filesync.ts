/**
 * BuildKit's file sync (`moby.filesync.v1.FileSync/DiffCopy`), served from our session so
 * the build reads the context and the Dockerfile as two separate directories, as the
 * docker CLI does. Uploading one tarball instead would put the generated Dockerfile into
 * the context, and so into setup's `COPY . .`: any change to any gate would then change
 * setup's cache key and rerun every gate.
 *
 * The protocol (fsutil): we send one STAT packet per entry in walk order (parents first,
 * names sorted bytewise), then an empty STAT; BuildKit asks for file contents with REQ
 * packets naming an entry's index; we answer with DATA packets and an empty DATA; BuildKit
 * ends with FIN, which we echo.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { contextEntries, dockerignore } from './context.js';

const root = protobuf.Root.fromJSON({
  nested: {
    fsutil: {
      nested: {
        Stat: {
          fields: {
            path: { type: 'string', id: 1 },
            mode: { type: 'uint32', id: 2 },
            uid: { type: 'uint32', id: 3 },
            gid: { type: 'uint32', id: 4 },
            size: { type: 'int64', id: 5 },
            modTime: { type: 'int64', id: 6 },
            linkname: { type: 'string', id: 7 },
            devmajor: { type: 'int64', id: 8 },
            devminor: { type: 'int64', id: 9 },
          },
        },
        Packet: {
          fields: {
            type: { type: 'int32', id: 1 },
            stat: { type: 'Stat', id: 2 },
            ID: { type: 'uint32', id: 3 },
            data: { type: 'bytes', id: 4 },
          },
        },
      },
    },
  },
});
const Packet = root.lookupType('fsutil.Packet');
const STAT = 0;
const REQ = 1;
const DATA = 2;
const FIN = 3;
const ERR = 4;
/** Go's `os.ModeDir` and `os.ModeSymlink`, which fsutil's `mode` carries. */
const GO_MODE_DIR = 0x80000000;
const GO_MODE_SYMLINK = 0x08000000;

interface PacketMsg {
  type?: number;
  stat?: { path: string; mode: number; size?: number; modTime?: number; linkname?: string };
  ID?: number;
  data?: Uint8Array;
}

export const DIFF_COPY = '/moby.filesync.v1.FileSync/DiffCopy';

/** A file served from memory instead of disk. */
export interface VirtualFile {
  path: string;
  contents: string;
}

/** One directory BuildKit may ask for by name (`context`, `dockerfile`). */
export interface SyncedDir {
  /** Project directory walked for entries; `null` serves only `files`. */
  rootDir: string | null;
  /** `.dockerignore`-style rules applied to the walk (BuildKit's own excludes are added). */
  ignore: string | null;
  /** Served as given; they win over files on disk with the same path. */
  files: VirtualFile[];
}

type Entry = {
  path: string;
  kind: 'dir' | 'file' | 'symlink';
  source: { disk: string } | { text: Buffer };
};

function compareWalkOrder(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = Buffer.compare(Buffer.from(pa[i]!), Buffer.from(pb[i]!));
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

function matchesInclude(path: string, includes: string[]): boolean {
  if (includes.length === 0) return true;
  return includes.some((p) => path === p || path.startsWith(`${p}/`) || p.startsWith(`${path}/`));
}

async function entriesOf(dir: SyncedDir, excludes: string[], includes: string[]): Promise<Entry[]> {
  const byPath = new Map<string, Entry>();
  if (dir.rootDir) {
    const rules = [dir.ignore ?? '', ...excludes].join('\n');
    for (const rel of await contextEntries(dir.rootDir, rules)) {
      const st = await lstat(join(dir.rootDir, rel));
      const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'file';
      byPath.set(rel, { path: rel, kind, source: { disk: join(dir.rootDir, rel) } });
    }
  }
  const ignored = dockerignore({ ignorecase: false }).add(
    [dir.ignore ?? '', ...excludes]
      .join('\n')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );
  // An include request (e.g. only `.dockerignore`) bypasses excludes, as in BuildKit.
  for (const f of dir.files.filter((f) => includes.length > 0 || !ignored.ignores(f.path))) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!byPath.has(p))
        byPath.set(p, { path: p, kind: 'dir', source: { text: Buffer.alloc(0) } });
    }
    byPath.set(f.path, {
      path: f.path,
      kind: 'file',
      source: { text: Buffer.from(f.contents, 'utf8') },
    });
  }
  return [...byPath.values()]
    .filter((e) => matchesInclude(e.path, includes))
    .sort((a, b) => compareWalkOrder(a.path, b.path));
}

/**
 * The modification time sent for a file served from memory. BuildKit's incremental sync
 * keeps its copy from the previous build when size and modTime are unchanged, so a fixed
 * value would let a same-length edit of a generated file (a gate's command `exit 0` →
 * `exit 3`) go unseen. Derived from the content: equal for equal bytes (the copy is
 * reused), different when a byte changes. Nanoseconds, kept below 2^53.
 */
export function virtualModTime(contents: Buffer): number {
  const digest = createHash('sha256').update(contents).digest();
  return Number(digest.readBigUInt64BE(0) & ((1n << 53n) - 1n));
}

async function statOf(e: Entry): Promise<NonNullable<PacketMsg['stat']>> {
  if ('text' in e.source) {
    return e.kind === 'dir'
      ? { path: e.path, mode: GO_MODE_DIR | 0o755, size: 0, modTime: 0 }
      : {
          path: e.path,
          mode: 0o644,
          size: e.source.text.length,
          modTime: virtualModTime(e.source.text),
        };
  }
  const st = await lstat(e.source.disk);
  const perm = st.mode & 0o7777;
  const modTime = Math.floor(st.mtimeMs) * 1e6;
  if (e.kind === 'dir') return { path: e.path, mode: GO_MODE_DIR | perm, size: 0, modTime };
  if (e.kind === 'symlink')
    return {
      path: e.path,
      mode: GO_MODE_SYMLINK | perm,
      size: 0,
      modTime,
      linkname: await readlink(e.source.disk),
    };
  return { path: e.path, mode: perm, size: st.size, modTime };
}

function metadataList(call: grpc.ServerDuplexStream<PacketMsg, PacketMsg>, key: string): string[] {
  return call.metadata
    .get(key)
    .map((v) => v.toString())
    .filter((v) => v.length > 0);
}

/** The gRPC service definition for the session, serving `dirs` by name. */
export function fileSyncService(dirs: ReadonlyMap<string, SyncedDir>): {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
} {
  const definition: grpc.ServiceDefinition = {
    DiffCopy: {
      path: DIFF_COPY,
      requestStream: true,
      responseStream: true,
      requestSerialize: (v: PacketMsg) => Buffer.from(Packet.encode(Packet.fromObject(v)).finish()),
      requestDeserialize: (b: Buffer) =>
        Packet.toObject(Packet.decode(b), { longs: Number, bytes: Buffer }) as PacketMsg,
      responseSerialize: (v: PacketMsg) =>
        Buffer.from(Packet.encode(Packet.fromObject(v)).finish()),
      responseDeserialize: (b: Buffer) =>
        Packet.toObject(Packet.decode(b), { longs: Number, bytes: Buffer }) as PacketMsg,
    },
  };
  const implementation: grpc.UntypedServiceImplementation = {
    DiffCopy: (call: grpc.ServerDuplexStream<PacketMsg, PacketMsg>) => {
      void serve(call, dirs).catch((err: unknown) => {
        call.write({
          type: ERR,
          data: Buffer.from(err instanceof Error ? err.message : String(err)),
        });
        call.end();
      });
    },
  };
  return { definition, implementation };
}

function send(call: grpc.ServerDuplexStream<PacketMsg, PacketMsg>, p: PacketMsg): Promise<void> {
  return new Promise((resolve) =>
    call.write(p) ? resolve() : call.once('drain', () => resolve()),
  );
}

async function serve(
  call: grpc.ServerDuplexStream<PacketMsg, PacketMsg>,
  dirs: ReadonlyMap<string, SyncedDir>,
): Promise<void> {
  const name = metadataList(call, 'dir-name')[0] ?? '';
  const dir = dirs.get(name);
  if (!dir) throw new Error(`no directory named ${JSON.stringify(name)} in this session`);
  const entries = await entriesOf(
    dir,
    metadataList(call, 'exclude-patterns'),
    metadataList(call, 'include-patterns'),
  );
  // Requests are queued and answered one file at a time, in order.
  let chain = Promise.resolve();
  let finished = false;
  call.on('data', (p: PacketMsg) => {
    const type = p.type ?? STAT;
    if (type === REQ) {
      const e = entries[p.ID ?? 0];
      chain = chain.then(async () => {
        if (e && e.kind === 'file') {
          if ('text' in e.source) {
            if (e.source.text.length)
              await send(call, { type: DATA, ID: p.ID ?? 0, data: e.source.text });
          } else {
            for await (const chunk of createReadStream(e.source.disk, {
              highWaterMark: 32 * 1024,
            })) {
              await send(call, { type: DATA, ID: p.ID ?? 0, data: chunk as Buffer });
            }
          }
        }
        await send(call, { type: DATA, ID: p.ID ?? 0 });
      });
    } else if (type === FIN && !finished) {
      finished = true;
      void chain.then(async () => {
        await send(call, { type: FIN });
        call.end();
      });
    }
  });
  for (const e of entries) await send(call, { type: STAT, stat: await statOf(e) });
  await send(call, { type: STAT });
}
