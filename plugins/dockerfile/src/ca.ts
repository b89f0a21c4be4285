/**
 * The optional CA bundle of `targets.dockerfile.ca` (corporate TLS proxies): which values
 * the option accepts, and, for whoever runs the build (the Docker executor, `docker build`),
 * which file to pass as the `gatehouse_ca` build secret.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, posix, relative, resolve, sep } from 'node:path';
import { GatehouseError, type ResolvedPipeline } from '@gatehouse-ci/core';
import { CA_SECRET_ID } from './wrapper.js';

/** The `ca` option as these helpers read it, resolved or as written (absent: `auto`). */
interface CaOption {
  ca?: string;
}

/**
 * The absolute paths `ca` may name: the CA bundles of common systems (Debian, Ubuntu and
 * Alpine; Fedora and RHEL; macOS and the BSDs; openSUSE). Any other file outside the project
 * is passed with `ca: auto` and `NODE_EXTRA_CA_CERTS` (or `SSL_CERT_FILE`) set where the
 * build runs.
 */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
  '/etc/ssl/ca-bundle.pem',
];

export const CA_PATH_HINT =
  'use a path inside the project (e.g. `certs/corp.pem`), one of the system bundles (' +
  SYSTEM_CA_BUNDLES.join(', ') +
  '), or `ca: auto` with NODE_EXTRA_CA_CERTS set where the build runs';

/** Why a `ca` value is refused before any file is looked at, or null. */
export function caValueProblem(ca: string): string | null {
  if (ca === 'auto' || ca === 'none') return null;
  if (SYSTEM_CA_BUNDLES.includes(ca)) return null;
  if (ca.includes('\0') || ca.includes('\\') || /^[A-Za-z]:/.test(ca) || ca.startsWith('~'))
    return `\`ca\` must be \`auto\`, \`none\`, a path inside the project or a system CA bundle; \`${ca}\` is none of them`;
  if (ca.startsWith('/'))
    return `\`ca\` names \`${ca}\`, which is neither inside the project nor a system CA bundle: every setup and gate step could read it`;
  const norm = posix.normalize(ca);
  if (norm === '..' || norm.startsWith('../') || ca.split('/').includes('..'))
    return `\`ca\` must stay inside the project; \`${ca}\` leaves it`;
  return null;
}

function caError(message: string): GatehouseError {
  return new GatehouseError('GH_CA_PATH', message, {
    diagnostics: [
      {
        code: 'GH_CA_PATH',
        severity: 'error',
        message,
        path: 'targets.dockerfile.ca',
        loc: null,
        hint: CA_PATH_HINT,
      },
    ],
  });
}

/**
 * Where the CA bundle for the `gatehouse_ca` build secret comes from, or `null` when
 * none should be passed. `auto` reads `NODE_EXTRA_CA_CERTS`, then `SSL_CERT_FILE`;
 * a relative path is relative to `rootDir`. Throws `GH_CA_PATH` for a value that leaves
 * the project (without looking at the disk: {@link resolveCaSource} also follows links).
 */
export function caSecretSource(
  options: CaOption,
  env: Record<string, string | undefined>,
  rootDir: string,
): string | null {
  const ca = options.ca ?? 'auto';
  if (ca === 'none') return null;
  if (ca === 'auto') return env['NODE_EXTRA_CA_CERTS'] || env['SSL_CERT_FILE'] || null;
  const why = caValueProblem(ca);
  if (why !== null) throw caError(why);
  return ca.startsWith('/') ? ca : `${rootDir.replace(/\/+$/, '')}/${ca}`;
}

/**
 * The CA bundle file to pass as the `gatehouse_ca` build secret, after following links, or
 * `null` when there is none (`none`; `auto` with neither variable set; a file that does not
 * exist, since the mount is optional). Throws `GH_CA_PATH` (with a diagnostic at
 * `targets.dockerfile.ca`) when a configured path leads out of the project, or the file is
 * not a regular file (a FIFO or a device would hang or never end the read).
 */
export async function resolveCaSource(
  options: CaOption,
  env: Record<string, string | undefined>,
  rootDir: string,
): Promise<string | null> {
  const ca = options.ca ?? 'auto';
  const source = caSecretSource(options, env, rootDir);
  if (source === null) return null;
  const from =
    ca === 'auto' ? (env['NODE_EXTRA_CA_CERTS'] ? 'NODE_EXTRA_CA_CERTS' : 'SSL_CERT_FILE') : '`ca`';
  const real = await realpath(source).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null;
    throw caError(`${from} names \`${source}\`, which cannot be read (${err.code ?? err.message})`);
  });
  if (real === null) return null;
  // A configured relative path must still be inside the project once links are followed.
  if (ca !== 'auto' && !SYSTEM_CA_BUNDLES.includes(ca)) {
    const root = await realpath(rootDir).catch(() => resolve(rootDir));
    const rel = relative(root, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw caError(
        `\`ca\` names \`${ca}\`, which leads to ${real}, outside the project (${root}): every setup and gate step could read it`,
      );
  }
  const st = await stat(real);
  if (!st.isFile()) throw caError(`${from} names \`${source}\`, which is not a regular file`);
  return real;
}

/**
 * The `--secret` values a build of this Dockerfile needs (`id=NAME,env=NAME` for each
 * declared secret, `id=gatehouse_ca,src=…` for the CA): for `docker build` and dockerode.
 */
export function buildSecretArgs(
  pipeline: ResolvedPipeline,
  options: CaOption,
  env: Record<string, string | undefined>,
): string[] {
  const names = new Set<string>(pipeline.setup?.secrets ?? []);
  for (const g of pipeline.gates) for (const s of g.secrets) names.add(s);
  const args = [...names].sort().map((n) => `id=${n},env=${n}`);
  const ca = caSecretSource(options, env, pipeline.rootDir);
  if (ca !== null) args.push(`id=${CA_SECRET_ID},src=${ca}`);
  return args;
}
