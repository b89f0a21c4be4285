/**
 * The one glob dialect of `inputs`, `outputs`, `setup.inputs` and `release.copy`, as a
 * RegExp over POSIX relative paths: the runner matches files with it, and the `dockerfile`
 * target asks it whether a glob may name a file (the config, for `.dockerignore`).
 * Supported: `*`, `?`, `**` (any number of directories, when it is a whole segment), `{a,b}`
 * and `[abc]` / `[!abc]`.
 */

function escapeRe(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** Compile one glob (without `!`) to a RegExp over POSIX relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let i = 0;
  let braces = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
        if (atStart && atEnd) {
          if (i + 2 === glob.length) re += '.*';
          else {
            re += '(?:[^/]*(?:/[^/]*)*/)?';
            i += 1; // swallow the slash after **
          }
          i += 2;
          continue;
        }
      }
      re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      braces++;
      re += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      re += ')';
    } else if (c === ',' && braces > 0) re += '|';
    else re += escapeRe(c);
    i++;
  }
  return new RegExp(`^${re}$`);
}

/**
 * Whether `glob` (without `!`) names `path`: the path itself, or something inside a directory
 * it names. A leading `./` and a trailing `/` are ignored. Throws `SyntaxError` for a glob
 * whose braces do not balance.
 */
export function globNames(glob: string, path: string): boolean {
  const re = globToRegExp(glob.replace(/^(\.\/)+/, '').replace(/\/+$/, ''));
  return re.test(path) || new RegExp(`${re.source.slice(0, -1)}/.*$`).test(path);
}

/** The prefix of a glob rooted at the workspace root (`//tsconfig.base.json`), as Bazel writes it. */
export const ROOT_GLOB_PREFIX = '//';

/**
 * A glob of `inputs` split into its `!` and its body, and whether the body is rooted at the
 * workspace root (`//…`, `rooted` body without the prefix) or at the config directory.
 */
export function splitInputGlob(glob: string): { negate: boolean; rooted: boolean; body: string } {
  const negate = glob.startsWith('!');
  const g = negate ? glob.slice(1) : glob;
  const rooted = g.startsWith(ROOT_GLOB_PREFIX);
  return { negate, rooted, body: rooted ? g.slice(ROOT_GLOB_PREFIX.length) : g };
}

/** Whether a glob of `inputs` names files of the workspace root (`//…`, `!//…`). */
export function isRootGlob(glob: string): boolean {
  return splitInputGlob(glob).rooted;
}
