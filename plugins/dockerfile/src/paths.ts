/**
 * Config globs (`dist/**`, `package*.json`, `src/`) -> what `COPY` and `.dockerignore`
 * can express. `COPY` knows single-segment wildcards only, so a glob is reduced to its
 * static directory prefix, or kept as a last-segment wildcard; anything else is refused.
 */

/** How one config glob is copied. `source` and `dest` are relative to the workdir. */
export interface CopySpec {
  /** Path or last-segment wildcard, relative; `.` for everything. */
  source: string;
  /** Relative destination; ends with `/` when the source is a wildcard. */
  dest: string;
  /** True when `source` holds a wildcard. */
  wildcard: boolean;
}

const GLOB_CHARS_RE = /[*?[\]{}]/;
const SAFE_PATH_RE = /^[A-Za-z0-9._@+,=~ *?[\]{}/-]+$/;

/**
 * Why a glob cannot become a COPY, or `null` when it can. With `widen`, a glob COPY
 * cannot express (`src/**\/*.ts`) is accepted and copied as its static directory
 * (`src`): a superset, fine for inputs and outputs, not for what goes into the release.
 */
export function copySpecProblem(glob: string, widen = false): string | null {
  if (!SAFE_PATH_RE.test(glob)) {
    return 'holds characters the Dockerfile builder would expand or that cannot be copied safely (allowed: letters, digits, space and . _ @ + , = ~ - / * ? [ ] { })';
  }
  const p = normalise(glob);
  if (p.startsWith('/')) return 'is absolute; paths are relative to the config directory';
  if (p.split('/').includes('..')) return 'leaves the config directory (`..`)';
  if (widen) return null;
  if (/[{}]/.test(p))
    return 'uses `{a,b}` alternatives, which COPY does not support; list the paths separately';
  const segs = p === '' ? [] : p.split('/');
  const globbed = segs.filter((s) => GLOB_CHARS_RE.test(s));
  if (
    globbed.length > 1 ||
    (globbed.length === 1 && !GLOB_CHARS_RE.test(segs[segs.length - 1] ?? ''))
  ) {
    return 'has a wildcard before its last path segment, which COPY does not support';
  }
  if (segs.some((s) => s.includes('**')))
    return 'uses `**` inside a path; only a trailing `/**` is supported';
  return null;
}

function normalise(glob: string): string {
  let p = glob.trim().replace(/^(\.\/)+/, '');
  // `dir/**`, `dir/**/*` and `dir/` all mean "the directory dir".
  p = p
    .replace(/\/\*\*\/\*$/, '')
    .replace(/\/\*\*$/, '')
    .replace(/\/+$/, '');
  if (p === '**' || p === '**/*' || p === '.') p = '';
  return p;
}

/** The static directory part of a path: segments before the first one holding a wildcard. */
function staticPrefix(p: string): string {
  const segs = p.split('/');
  const i = segs.findIndex((s) => GLOB_CHARS_RE.test(s));
  return i < 0 ? p : segs.slice(0, i).join('/');
}

/** True when COPY can express the glob as written (no widening needed). */
function exact(p: string): boolean {
  const segs = p === '' ? [] : p.split('/');
  const i = segs.findIndex((s) => GLOB_CHARS_RE.test(s));
  return i < 0 || (i === segs.length - 1 && !/\*\*|[{}]/.test(segs[i] ?? ''));
}

/** The COPY form of a glob (widened to its static directory when needed). Call {@link copySpecProblem} first. */
export function copySpec(glob: string): CopySpec {
  let p = normalise(glob);
  if (!exact(p)) p = staticPrefix(p);
  if (p === '') return { source: '.', dest: '.', wildcard: false };
  if (!GLOB_CHARS_RE.test(p)) return { source: p, dest: p, wildcard: false };
  const slash = p.lastIndexOf('/');
  return { source: p, dest: slash < 0 ? './' : p.slice(0, slash + 1), wildcard: true };
}

/** Join a container directory and a relative path (`.` = the directory itself). */
export function containerPath(dir: string, rel: string): string {
  const base = dir.replace(/\/+$/, '');
  if (rel === '.' || rel === './') return base === '' ? '/' : base + '/';
  return `${base}/${rel}`;
}

/** The `.dockerignore` pattern excluding what a glob names (its static prefix), or null for "everything". */
export function ignorePattern(glob: string): string | null {
  const p = staticPrefix(normalise(glob));
  if (p === '') return null;
  return p;
}

/**
 * A copy source that BuildKit treats as a wildcard and so tolerates when missing:
 * `dist` -> `dis[t]`. Used where a needed gate may have failed before producing it.
 */
export function tolerantSource(path: string): string {
  if (GLOB_CHARS_RE.test(path)) return path;
  const last = path[path.length - 1];
  if (last === undefined || last === '/' || last === '.') return path;
  return `${path.slice(0, -1)}[${last}]`;
}
