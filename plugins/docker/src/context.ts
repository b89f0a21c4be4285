/**
 * The build context as a tar stream: the project directory filtered by `.dockerignore`,
 * plus the generated Dockerfile under a path the project cannot have.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import type { Ignore } from '@balena/dockerignore';
import tar from 'tar-stream';

// The package is CommonJS (`module.exports = factory`) while its types declare a default export.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as (opts?: {
  ignorecase?: boolean;
}) => Ignore;

/** Where the generated Dockerfile sits inside the context. */
export const CONTEXT_DOCKERFILE = '.gatehouse/docker/Dockerfile';

/** Never sent: Gatehouse's own state (runs, logs, cache) would change every run and bust the cache. */
const ALWAYS_EXCLUDED = ['.gatehouse'];

/** Options of {@link packContext}. */
export interface ContextOptions {
  rootDir: string;
  dockerfile: string;
  /** `.dockerignore` text to apply; `null` reads the project's own file, if any. */
  dockerignore: string | null;
  /** Generated files added to the context (paths relative to it), e.g. command scripts. */
  extraFiles?: Array<{ path: string; contents: string; mode?: number }>;
}

async function ignoreRules(rootDir: string, text: string | null): Promise<string[]> {
  const source = text ?? (await readFile(join(rootDir, '.dockerignore'), 'utf8').catch(() => ''));
  return source
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** Relative POSIX paths of everything to send, directories first, sorted for determinism. */
export async function contextEntries(
  rootDir: string,
  dockerignoreText: string | null,
): Promise<string[]> {
  const rules = await ignoreRules(rootDir, dockerignoreText);
  const ig = dockerignore({ ignorecase: false }).add([...rules, ...ALWAYS_EXCLUDED]);
  const reincludes = rules.some((r) => r.startsWith('!'));
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(rel ? join(rootDir, rel) : rootDir)).sort();
    for (const name of names) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(rootDir, path));
      if (st.isDirectory()) {
        // A re-included path under an ignored directory (`!dir/keep`) still needs the walk.
        const ignored = ig.ignores(path);
        if (!ignored) out.push(path);
        if (!ignored || (reincludes && !ALWAYS_EXCLUDED.includes(path))) await walk(path);
      } else if ((st.isFile() || st.isSymbolicLink()) && !ig.ignores(path)) {
        // The emitted .dockerignore replaces the project's own in the context.
        if (path === '.dockerignore' && dockerignoreText !== null) continue;
        out.push(path);
      }
    }
  };
  await walk('');
  return out;
}

/** Packs the context; the stream is produced lazily as the engine reads it. */
export function packContext(opts: ContextOptions): NodeJS.ReadableStream {
  const pack = tar.pack();
  void (async () => {
    try {
      const entries = await contextEntries(opts.rootDir, opts.dockerignore);
      for (const rel of entries) {
        const abs = join(opts.rootDir, rel);
        const st = await lstat(abs);
        const header = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
        if (st.isDirectory()) {
          pack.entry({ ...header, type: 'directory' });
        } else if (st.isSymbolicLink()) {
          pack.entry({ ...header, type: 'symlink', linkname: await readlink(abs) });
        } else {
          const entry = pack.entry({ ...header, type: 'file', size: st.size });
          await streamPipeline(createReadStream(abs), entry);
        }
      }
      if (opts.dockerignore !== null)
        pack.entry({ name: '.dockerignore', mode: 0o644 }, opts.dockerignore);
      pack.entry({ name: '.gatehouse', type: 'directory', mode: 0o755 });
      pack.entry({ name: '.gatehouse/docker', type: 'directory', mode: 0o755 });
      pack.entry({ name: CONTEXT_DOCKERFILE, mode: 0o644 }, opts.dockerfile);
      const dirs = new Set(['.gatehouse', '.gatehouse/docker']);
      for (const file of opts.extraFiles ?? []) {
        const parts = file.path.split('/');
        for (let i = 1; i < parts.length; i++) {
          const dir = parts.slice(0, i).join('/');
          if (!dirs.has(dir)) {
            dirs.add(dir);
            pack.entry({ name: dir, type: 'directory', mode: 0o755 });
          }
        }
        pack.entry({ name: file.path, mode: file.mode ?? 0o644 }, file.contents);
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return pack as unknown as NodeJS.ReadableStream;
}
