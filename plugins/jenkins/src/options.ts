/**
 * Options of the `jenkins` target (`targets.jenkins` in gatehouse.yml).
 */
import type { Diagnostic, TargetOptions } from '@gatehouse/core';

/** Where the pipeline's stages run. */
export interface JenkinsAgentOptions {
  /** Agent label expression, e.g. `linux && docker`. */
  label?: string;
  /**
   * Run the whole pipeline in this container image (`agent { docker { image … } }`,
   * Docker Pipeline plugin). Combined with `label`, the label picks the Docker host.
   */
  docker?: string;
}

/** `targets.jenkins` as written by the user. */
export interface JenkinsTargetOptions {
  /** Output path, relative to the config directory. @default 'Jenkinsfile' */
  path?: string;
  /**
   * `native`: each gate stage runs `gatehouse run --only <id>` on the agent.
   * `docker`: each gate stage builds the generated Dockerfile's `result-<id>` target.
   * @default 'native'
   */
  mode?: 'native' | 'docker';
  /** How stages invoke the gatehouse CLI. @default 'npx --no-install gatehouse' */
  cli?: string;
  /** Agent for the whole pipeline. @default `agent any` */
  agent?: JenkinsAgentOptions;
  /**
   * Secret name → Jenkins credentials id (a "Secret text" credential).
   * @default the secret name in lower kebab case (`SONAR_TOKEN` → `sonar-token`)
   */
  credentials?: Record<string, string>;
}

/** Options with defaults applied. */
export interface ResolvedJenkinsOptions {
  path: string;
  mode: 'native' | 'docker';
  cli: string;
  agent: JenkinsAgentOptions;
  credentials: Record<string, string>;
}

/** @default value of {@link JenkinsTargetOptions.cli} */
export const DEFAULT_CLI = 'npx --no-install gatehouse';
/** @default value of {@link JenkinsTargetOptions.path} */
export const DEFAULT_PATH = 'Jenkinsfile';

const SECRET_NAME = /^[A-Z_][A-Z0-9_]*$/;
const KEYS = ['path', 'mode', 'cli', 'agent', 'credentials'] as const;
const AGENT_KEYS = ['label', 'docker'] as const;

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

function suggest(key: string, known: readonly string[]): string | undefined {
  const best = known
    .map((k) => ({ k, d: levenshtein(key, k) }))
    .sort((x, y) => x.d - y.d)[0];
  return best !== undefined && best.d <= 2 ? `did you mean \`${best.k}\`?` : undefined;
}

function diag(code: string, path: string, message: string, hint?: string): Diagnostic {
  return { code, severity: 'error', path, message, loc: null, ...(hint === undefined ? {} : { hint }) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when `s` has characters no option string should carry (NUL, line breaks, controls). */
function hasControl(s: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u.test(s) || /[\uD800-\uDFFF]/u.test(s);
}

function checkString(
  out: Diagnostic[],
  value: unknown,
  path: string,
  what: string,
): value is string {
  if (typeof value !== 'string') {
    out.push(diag('GH_JENKINS_OPTION_TYPE', path, `${what} must be a string`));
    return false;
  }
  if (value.trim() === '') {
    out.push(diag('GH_JENKINS_OPTION_VALUE', path, `${what} must not be empty`));
    return false;
  }
  if (hasControl(value)) {
    out.push(diag('GH_JENKINS_OPTION_VALUE', path, `${what} must be one line without control characters`));
    return false;
  }
  return true;
}

/** Checks `targets.jenkins`. Paths in diagnostics are relative to that object. */
export function validateJenkinsOptions(options: TargetOptions): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!isObject(options)) {
    return [diag('GH_JENKINS_OPTION_TYPE', '', 'jenkins target options must be a mapping')];
  }
  for (const key of Object.keys(options)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      out.push(diag('GH_JENKINS_OPTION_UNKNOWN', key, `unknown jenkins option \`${key}\``, suggest(key, KEYS)));
    }
  }
  if (options.path !== undefined && checkString(out, options.path, 'path', 'path')) {
    const p = options.path;
    if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.split(/[\\/]/).includes('..') || p.includes('\\')) {
      out.push(
        diag('GH_JENKINS_OPTION_VALUE', 'path', 'path must be relative to the config directory, without `..` or `\\`'),
      );
    }
  }
  if (options.mode !== undefined && options.mode !== 'native' && options.mode !== 'docker') {
    out.push(
      diag(
        'GH_JENKINS_OPTION_VALUE',
        'mode',
        `mode must be \`native\` or \`docker\`, got ${JSON.stringify(options.mode)}`,
        typeof options.mode === 'string' ? suggest(options.mode, ['native', 'docker']) : undefined,
      ),
    );
  }
  if (options.cli !== undefined) checkString(out, options.cli, 'cli', 'cli');
  if (options.agent !== undefined) {
    if (!isObject(options.agent)) {
      out.push(diag('GH_JENKINS_OPTION_TYPE', 'agent', 'agent must be a mapping with `label` and/or `docker`'));
    } else {
      for (const key of Object.keys(options.agent)) {
        if (!(AGENT_KEYS as readonly string[]).includes(key)) {
          out.push(
            diag('GH_JENKINS_OPTION_UNKNOWN', `agent.${key}`, `unknown agent option \`${key}\``, suggest(key, AGENT_KEYS)),
          );
        }
      }
      if (options.agent.label !== undefined) checkString(out, options.agent.label, 'agent.label', 'agent.label');
      if (options.agent.docker !== undefined) checkString(out, options.agent.docker, 'agent.docker', 'agent.docker');
    }
  }
  if (options.credentials !== undefined) {
    if (!isObject(options.credentials)) {
      out.push(diag('GH_JENKINS_OPTION_TYPE', 'credentials', 'credentials must map secret names to credentials ids'));
    } else {
      for (const [name, id] of Object.entries(options.credentials)) {
        const path = `credentials.${name}`;
        if (!SECRET_NAME.test(name)) {
          out.push(diag('GH_JENKINS_OPTION_VALUE', path, `\`${name}\` is not a secret name (expected ${SECRET_NAME.source})`));
        }
        checkString(out, id, path, `credentials id of ${name}`);
      }
    }
  }
  return out;
}

/** The default credentials id of a secret: `SONAR_TOKEN` → `sonar-token`. */
export function defaultCredentialsId(secret: string): string {
  const id = secret
    .toLowerCase()
    .replace(/_+/g, '-')
    .replace(/^-+|-+$/g, '');
  return id === '' ? secret.toLowerCase() : id;
}

/** Applies defaults. Call {@link validateJenkinsOptions} first: this trusts the shape. */
export function resolveJenkinsOptions(options: TargetOptions | undefined): ResolvedJenkinsOptions {
  const o = (options ?? {}) as JenkinsTargetOptions;
  return {
    path: o.path ?? DEFAULT_PATH,
    mode: o.mode ?? 'native',
    cli: o.cli ?? DEFAULT_CLI,
    agent: { ...(o.agent ?? {}) },
    credentials: { ...(o.credentials ?? {}) },
  };
}
