/**
 * The string formats of the schema (`x-gatehouse-format`), as a table: format name → check.
 * Each check reports its own codes and hints; the schema walk calls {@link checkFormat}.
 */
import { posix } from 'node:path';
import { ROOT_GLOB_PREFIX } from '../glob.js';
import { ENV_NAME_PATTERN, GATE_ID_PATTERN, RESERVED_NAME_PREFIXES } from './schema.js';
import type { Collector, PathSeg, Range } from './collector.js';

const MAX_TIMEOUT_MS = 24 * 3_600_000;
/**
 * Stage names of the generated Dockerfile (the Docker layout contract): `FROM <name>` with one
 * of them means that stage, not an image. BuildKit matches stage names case-insensitively;
 * a reference with a tag, a digest or a registry path is never a stage name.
 */
const STAGE_NAME_IMAGE =
  /^(?:base|setup|release|gatehouse-(?:results|verdict|judged|deploy)|(?:gate|result)-[a-z0-9._-]*)$/i;
const isStageName = (image: string): boolean => STAGE_NAME_IMAGE.test(image);
const GATE_ID_RE = new RegExp(GATE_ID_PATTERN);
const ENV_NAME_RE = new RegExp(ENV_NAME_PATTERN);

function isReserved(name: string): boolean {
  return RESERVED_NAME_PREFIXES.some((p) => name.startsWith(p));
}

function looksLikeSecretValue(s: string): boolean {
  if (s.includes('=')) return true;
  if (ENV_NAME_RE.test(s)) return false;
  // Tokens: long, mixed letters and digits, or characters no variable name has.
  return s.length >= 16 && /\d/.test(s) && /[A-Za-z]/.test(s);
}

/** What a format check gets: the value as written and as a string, and where it is. */
interface FormatInput {
  fmt: string;
  value: string | number;
  s: string;
  path: PathSeg[];
  range: Range | null;
  c: Collector;
}

function gateId({ s, path, range, c }: FormatInput): void {
  if (!GATE_ID_RE.test(s)) {
    const fixed = s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^[^a-z]+/, '')
      .slice(0, 63);
    c.report(
      'GH_INVALID_ID',
      path,
      range,
      `invalid gate id \`${s}\`: use lowercase letters, digits and \`-\`, starting with a letter, at most 63 characters`,
      {
        hint: fixed && fixed !== s ? `e.g. \`${fixed}\`` : undefined,
      },
    );
  }
}

/** A `needs` entry: a gate id, or `^` and a gate id (the gate of the workspace dependencies). */
function need(input: FormatInput): void {
  if (input.s.startsWith('^')) gateId({ ...input, s: input.s.slice(1) });
  else gateId(input);
}

function envOrSecretName({ fmt, s, path, range, c }: FormatInput): void {
  const what = fmt === 'env-name' ? 'env variable' : 'secret';
  if (fmt === 'secret-name' && looksLikeSecretValue(s)) {
    const eq = s.indexOf('=');
    const name = eq > 0 ? s.slice(0, eq) : null;
    c.report(
      'GH_SECRET_VALUE',
      path,
      range,
      'this looks like a secret value; `secrets` lists names only',
      {
        hint: `${name ? `write \`${name}\` and ` : 'write the variable name and '}pass the value in the environment at run time (never in the config)`,
        mask: true,
      },
    );
    return;
  }
  if (!ENV_NAME_RE.test(s)) {
    const fixed = s
      .toUpperCase()
      .replace(/[^A-Z0-9_]/g, '_')
      .replace(/^[0-9]/, '_$&');
    c.report(
      fmt === 'env-name' ? 'GH_INVALID_ENV_NAME' : 'GH_INVALID_SECRET_NAME',
      path,
      range,
      `invalid ${what} name \`${s}\`: use \`A-Z\`, \`0-9\` and \`_\`, not starting with a digit`,
      {
        hint: fixed ? `e.g. \`${fixed}\`` : undefined,
      },
    );
    return;
  }
  if (isReserved(s)) {
    c.report(
      'GH_RESERVED_NAME',
      path,
      range,
      `${what} name \`${s}\` uses a prefix reserved by a CI system (${RESERVED_NAME_PREFIXES.join(', ')})`,
      {
        hint: 'pick another name, e.g. without the prefix',
      },
    );
  }
}

function duration({ value, s, path, range, c }: FormatInput): void {
  let ms = NaN;
  if (typeof value === 'number') ms = value > 0 ? value * 1000 : NaN;
  else {
    const m = /^([0-9]+)(ms|s|m|h)$/.exec(value);
    if (m)
      ms =
        Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  if (!(ms > 0)) {
    c.report('GH_INVALID_TIMEOUT', path, range, `invalid timeout \`${s}\``, {
      hint: 'use `90s`, `10m`, `1h`, `500ms` or a positive number of seconds',
    });
  } else if (ms > MAX_TIMEOUT_MS) {
    c.report('GH_INVALID_TIMEOUT', path, range, `timeout \`${s}\` is longer than 24h`);
  }
}

function image({ s, path, range, c }: FormatInput): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(s)) {
    c.report('GH_INVALID_VALUE', path, range, `invalid image reference \`${s}\``, {
      hint: 'e.g. `node:22-bookworm-slim` or `registry.example.com/team/node@sha256:…`',
    });
    return;
  }
  if (isStageName(s)) {
    c.report(
      'GH_IMAGE_STAGE_NAME',
      path,
      range,
      `image \`${s}\` is the name of a stage of the generated Dockerfile: \`FROM ${s}\` would start from that stage, not from an image`,
      {
        hint: 'name the image with a tag or its registry path (e.g. `docker.io/library/base:1.0`)',
      },
    );
    return;
  }
  if (s.includes('@sha256:')) return;
  const lastPart = s.slice(s.lastIndexOf('/') + 1);
  const tag = lastPart.includes(':') ? lastPart.slice(lastPart.indexOf(':') + 1) : null;
  if (tag === null || tag === 'latest') {
    c.report(
      'GH_IMAGE_UNPINNED',
      path,
      range,
      `image \`${s}\` ${tag === null ? 'has no tag' : 'uses `latest`'}: builds are not reproducible`,
      {
        hint: 'pin a version tag (e.g. `node:22-bookworm-slim`) or a digest',
      },
    );
  }
}

/** Whether a glob body (no `!`, no `//`) is absolute or leads out of the directory it is relative to. */
export function globEscapes(g: string): boolean {
  const norm = posix.normalize(g.replace(/\\/g, '/'));
  return (
    g.startsWith('/') ||
    g.startsWith('\\') ||
    /^[A-Za-z]:/.test(g) ||
    g.startsWith('~') ||
    norm === '..' ||
    norm.startsWith('../')
  );
}

function relativeGlob({ fmt, s, path, range, c }: FormatInput): void {
  const g = s.startsWith('!') ? s.slice(1) : s;
  if (g.length === 0) {
    c.report('GH_EMPTY_VALUE', path, range, 'empty path');
    return;
  }
  if ((fmt === 'input-glob' || fmt === 'output-glob') && g.startsWith(ROOT_GLOB_PREFIX)) {
    rootGlob({ fmt, s, path, range, c, body: g.slice(ROOT_GLOB_PREFIX.length) });
    return;
  }
  if (!globEscapes(g)) return;
  if (g.startsWith(ROOT_GLOB_PREFIX))
    c.report(
      'GH_PATH_ESCAPES_ROOT',
      path,
      range,
      `\`${s}\` names the workspace root, which only \`inputs\` (and the \`outputs\` of a config at that root) may`,
      {
        hint: 'a gate writes and copies inside the directory of gatehouse.yml; list files of the workspace root in `inputs` (`//tsconfig.base.json`)',
      },
    );
  else
    c.report('GH_PATH_ESCAPES_ROOT', path, range, `\`${s}\` is outside the config directory`, {
      hint:
        fmt === 'input-glob'
          ? 'paths are relative to the directory of gatehouse.yml and stay inside it; a file of the workspace root is written `//path` (`//tsconfig.base.json`)'
          : 'paths are relative to the directory of gatehouse.yml and stay inside it',
    });
}

/** An input rooted at the workspace root (`//configs/**`): its body stays inside that root. */
function rootGlob({
  s,
  path,
  range,
  c,
  body,
}: Omit<FormatInput, 'value'> & { body: string }): void {
  if (body.length === 0 || posix.normalize(body.replace(/\\/g, '/')) === '.') {
    c.report('GH_EMPTY_VALUE', path, range, `\`${s}\` names no file of the workspace root`, {
      hint: 'write `//**` for every file of the workspace root, or name them (`//tsconfig.base.json`)',
    });
    return;
  }
  if (globEscapes(body))
    c.report('GH_PATH_ESCAPES_ROOT', path, range, `\`${s}\` is outside the workspace root`, {
      hint: '`//path` is relative to the workspace root and stays inside it',
    });
}

function evidencePath({ s, path, range, c }: FormatInput): void {
  const parts = s.split(/[\\/]/);
  if (s.startsWith('/') || s.startsWith('\\') || /^[A-Za-z]:/.test(s) || parts.includes('..')) {
    c.report(
      'GH_EVIDENCE_PATH',
      path,
      range,
      `evidence path \`${s}\` must be relative to \`$GATEHOUSE_OUT\`, without \`..\``,
      {
        hint: 'e.g. `path: junit.xml` for `$GATEHOUSE_OUT/junit.xml`',
      },
    );
  }
}

function absolutePath({ s, path, range, c }: FormatInput): void {
  if (!s.startsWith('/') || s.split('/').includes('..') || /[\s"'\\$]/.test(s)) {
    c.report(
      'GH_INVALID_VALUE',
      path,
      range,
      `\`${s}\` must be an absolute container path without \`..\`, spaces or quotes`,
      {
        hint: 'e.g. `/app`',
      },
    );
  }
}

/** Every format of the schema and its check. */
export const FORMAT_CHECKS: Readonly<Record<string, (input: FormatInput) => void>> = {
  'gate-id': gateId,
  need: need,
  'env-name': envOrSecretName,
  'secret-name': envOrSecretName,
  duration: duration,
  image: image,
  'relative-glob': relativeGlob,
  'input-glob': relativeGlob,
  'output-glob': relativeGlob,
  'evidence-path': evidencePath,
  'absolute-path': absolutePath,
};

/** Check `value` against format `fmt` (unknown formats pass). */
export function checkFormat(
  fmt: string,
  value: string | number,
  path: PathSeg[],
  range: Range | null,
  c: Collector,
): void {
  FORMAT_CHECKS[fmt]?.({ fmt, value, s: String(value), path, range, c });
}
