/**
 * `packages.direct`: a gate of `packages:` whose `run` is the default `<manager> run <script>`
 * starts the script's command itself, as the package manager would, rather than starting the
 * package manager (a Node program: about half a second of CPU per gate for pnpm, most of a
 * small package's lint or test).
 *
 * What the package manager does for such a script, and this does too: `/bin/sh -c <script>` in
 * the package directory, with `node_modules/.bin` of that directory and of every directory above
 * it first on `PATH` (npm adds them all; pnpm the package's and the workspace root's), and
 * `npm_lifecycle_event`, `npm_lifecycle_script`, `npm_package_name`, `npm_package_version`,
 * `npm_package_json` and `INIT_CWD` set. What it does not do is checked first, and the gate runs
 * through the package manager when any applies: a `pre<script>` or `post<script>` script (npm
 * and yarn 1 run them, pnpm when configured to), an `.npmrc` in the package directory or above
 * it, or an `npm_config_*` variable, that changes how scripts run (`script-shell`,
 * `shell-emulator`, `node-options`, `enable-pre-post-scripts`, …), yarn 2+ (`.yarnrc.yml`: its own
 * shell), and a package.json without that script (the manager's own error is the one to see).
 */
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { shellQuote, type ResolvedGate } from '@gatehouse-ci/core';

/** The command and environment that start a gate's script directly. */
export interface DirectScript {
  /** `cd` to the package directory, then the script, for `/bin/sh -c`. */
  command: string;
  env: Record<string, string>;
  /** The line the package manager would print before the script, for the gate's log. */
  banner: string;
}

/** `.npmrc` settings that change how a script runs: with one of them, the manager runs it. */
const SCRIPT_SETTINGS = [
  'script-shell',
  'shell-emulator',
  'node-options',
  'enable-pre-post-scripts',
  'scripts-prepend-node-path',
  'ignore-scripts',
  'unsafe-perm',
];

/**
 * How to start `gate`'s script directly, or why it must run through its package manager (a
 * string); null when the gate does not ask for it. `rootDir` is the config directory; `env` the
 * gate's environment, which the result extends.
 */
export function directScript(
  gate: ResolvedGate,
  rootDir: string,
  env: Record<string, string>,
): DirectScript | string | null {
  const direct = gate.package?.direct;
  if (!direct) return null;
  const { script, manager } = direct;
  const dir = resolve(rootDir, gate.package!.dir);
  const manifestPath = join(dir, 'package.json');
  let pkg: { name?: unknown; version?: unknown; scripts?: Record<string, unknown> };
  try {
    pkg = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof pkg;
  } catch (err) {
    return `its package.json could not be read (${(err as Error).message})`;
  }
  const scripts = pkg !== null && typeof pkg === 'object' ? (pkg.scripts ?? {}) : {};
  const body = scripts[script];
  if (typeof body !== 'string') return `its package.json has no script ${script}`;
  for (const hook of [`pre${script}`, `post${script}`])
    if (typeof scripts[hook] === 'string') return `it has a ${hook} script`;
  const setByEnv = SCRIPT_SETTINGS.find(
    (k) => env[`npm_config_${k.replace(/-/g, '_')}`] !== undefined,
  );
  if (setByEnv) return `npm_config_${setByEnv.replace(/-/g, '_')} is set`;
  const bins: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    bins.push(join(d, 'node_modules', '.bin'));
    const rc = join(d, '.npmrc');
    const setting = existsSync(rc) ? scriptSettingIn(rc) : null;
    if (setting) return `${rc} sets ${setting}`;
    if (manager === 'yarn' && existsSync(join(d, '.yarnrc.yml')))
      return 'yarn 2+ runs scripts in its own shell';
    if (dirname(d) === d) break;
  }
  const name = typeof pkg.name === 'string' ? pkg.name : '';
  const version = typeof pkg.version === 'string' ? pkg.version : '';
  const path = env.PATH ?? '';
  return {
    command: `cd -- ${shellQuote(dir)} || exit\n${body}`,
    env: {
      ...env,
      PATH: [...bins, ...(path === '' ? [] : [path])].join(delimiter),
      npm_lifecycle_event: script,
      npm_lifecycle_script: body,
      npm_package_name: name,
      npm_package_version: version,
      npm_package_json: manifestPath,
      INIT_CWD: dir,
    },
    banner: `\n> ${name}${version ? `@${version}` : ''} ${script} (started directly, not through ${manager})\n> ${body}\n\n`,
  };
}

/** The first setting of {@link SCRIPT_SETTINGS} an `.npmrc` sets, or null. */
function scriptSettingIn(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split(/\r?\n/)) {
    const key = /^\s*([^=;#\s]+)\s*=/.exec(line)?.[1]?.toLowerCase();
    if (key && SCRIPT_SETTINGS.includes(key)) return key;
  }
  return null;
}
