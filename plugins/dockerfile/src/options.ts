/** `targets.dockerfile`: the options as the user writes them, resolved once, with defaults. */
import { OptionReader, type Diagnostic, type TargetOptions } from '@gatehouse-ci/core';
import { CA_PATH_HINT, caValueProblem } from './ca.js';
import { DEFAULT_DOCKERFILE_PATH } from './layout.js';

/** `targets.dockerfile`, resolved: what `emit` receives. */
export interface DockerfileOptions {
  /**
   * Corporate TLS proxies: `auto` and a path mount an optional BuildKit secret
   * `gatehouse_ca` into setup and gate `RUN`s and point `NODE_EXTRA_CA_CERTS` at it.
   * The Dockerfile is the same for both; they differ in what the build passes as
   * `--secret id=gatehouse_ca,src=…` (see {@link caSecretSource}). `none` omits the mount.
   * A path is relative to the config directory and stays inside it (links followed), or is
   * one of {@link SYSTEM_CA_BUNDLES}. Every step can read the file and it is not redacted
   * from logs: it must hold public certificates only.
   * @default 'auto'
   */
  ca: 'auto' | 'none' | (string & {});
  /**
   * Mount a BuildKit cache at `/root/.npm` for the setup `RUN` (never part of a layer).
   * @default true
   */
  npmCache: boolean;
  /**
   * Where the Dockerfile is written, relative to the config directory (the build context
   * stays the config directory; `.dockerignore` is always written there).
   * @default 'Dockerfile'
   */
  path: string;
}

/** The defaults of every option. */
export const DEFAULT_DOCKERFILE_OPTIONS: Readonly<DockerfileOptions> = {
  ca: 'auto',
  npmCache: true,
  path: DEFAULT_DOCKERFILE_PATH,
};

const KNOWN = ['ca', 'npmCache', 'path'] as const;
const PATH_RE = /^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/;

/** Check `targets.dockerfile` and apply defaults. Diagnostics' paths are relative to the options. */
export function resolveDockerfileOptions(options: TargetOptions): {
  value: DockerfileOptions;
  diagnostics: Diagnostic[];
} {
  const r = new OptionReader(options, KNOWN);
  const value: DockerfileOptions = { ...DEFAULT_DOCKERFILE_OPTIONS };
  const ca = r.read(
    'ca',
    (v) => (typeof v === 'string' && v.length > 0 ? v : undefined),
    '`ca` must be `auto`, `none` or the path of a PEM file',
  );
  if (ca !== undefined) {
    const why = caValueProblem(ca);
    if (why === null) value.ca = ca;
    else r.error('ca', why, CA_PATH_HINT, 'GH_CA_PATH');
  }
  value.npmCache = r.bool('npmCache') ?? value.npmCache;
  value.path =
    r.string(
      'path',
      PATH_RE,
      '`path` must be a relative file path inside the config directory (letters, digits, . _ - /)',
      undefined,
      (p) => !p.split('/').includes('..'),
    ) ?? value.path;
  return { value, diagnostics: r.diagnostics };
}
