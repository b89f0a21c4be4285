/** Which project files make up the build context: the directory filtered by `.dockerignore`. */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ignore } from '@balena/dockerignore';

// The package is CommonJS (`module.exports = factory`) while its types declare a default export.
export const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as (opts?: {
  ignorecase?: boolean;
}) => Ignore;

/** Never sent: Gatehouse's own state (runs, logs, cache) would change every run and bust the cache. */
const ALWAYS_EXCLUDED = ['.gatehouse'];

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
