/**
 * Options of the `jenkins` target (`targets.jenkins` in gatehouse.yml). `path`, `mode`
 * and `cli` mean the same as for every CI target (core's `readCiCommonOptions`).
 */
import {
  DEFAULT_CI_CLI,
  isPlainObject,
  optionDiagnostic,
  OptionReader,
  readCommonOptions,
  type CiCommonOptions,
  type Diagnostic,
  type TargetOptions,
} from '@gatehouse-ci/core';

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
export interface ResolvedJenkinsOptions extends CiCommonOptions {
  agent: JenkinsAgentOptions;
  credentials: Record<string, string>;
}

/** @default value of {@link JenkinsTargetOptions.path} */
export const DEFAULT_JENKINS_PATH = 'Jenkinsfile';

const SECRET_NAME = /^[A-Z_][A-Z0-9_]*$/;
const KNOWN = ['path', 'mode', 'cli', 'checkout_dir', 'agent', 'credentials'] as const;
const AGENT_KNOWN = ['label', 'docker'] as const;
// Escaped on output anyway; refused because no label, image or id legitimately has them.
// U+FFFF cannot be written at all (Groovy's lexer reads it as the end of input).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff\uffff]|[\uD800-\uDFFF]/u;

function text(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '' && !CONTROL.test(value);
}

/** Checks `targets.jenkins` and applies defaults. Diagnostics' paths are relative to the options. */
export function resolveJenkinsOptions(options: TargetOptions): {
  value: ResolvedJenkinsOptions;
  diagnostics: Diagnostic[];
} {
  const o: unknown = options;
  if (!isPlainObject(o)) {
    return {
      value: {
        path: DEFAULT_JENKINS_PATH,
        mode: 'native',
        cli: DEFAULT_CI_CLI,
        checkout_dir: null,
        agent: {},
        credentials: {},
      },
      diagnostics: [optionDiagnostic('', '`targets.jenkins` must be a mapping')],
    };
  }
  const r = new OptionReader(o, KNOWN);
  const value: ResolvedJenkinsOptions = {
    ...readCommonOptions(r, DEFAULT_JENKINS_PATH),
    agent: {},
    credentials: {},
  };
  const agent = r.nested(
    'agent',
    AGENT_KNOWN,
    '`agent` must be a mapping with `label` and/or `docker`',
    'e.g. `{ label: linux }`',
  );
  if (agent)
    for (const key of AGENT_KNOWN) {
      const v = agent.read(
        key,
        (x) => (text(x) ? x : undefined),
        `\`agent.${key}\` must be a non-empty one-line string`,
      );
      if (v !== undefined) value.agent[key] = v;
    }
  const credentials = r.mapping(
    'credentials',
    '`credentials` must map secret names to Jenkins credentials ids',
    'e.g. `{ SONAR_TOKEN: sonarqube-token }`',
  );
  for (const [name, id] of Object.entries(credentials ?? {})) {
    if (!SECRET_NAME.test(name))
      r.error(`credentials.${name}`, `\`${name}\` is not a secret name (${SECRET_NAME.source})`);
    else if (!text(id))
      r.error(
        `credentials.${name}`,
        `the credentials id of \`${name}\` must be a non-empty one-line string`,
      );
    else value.credentials[name] = id;
  }
  return { value, diagnostics: r.diagnostics };
}

/** The default credentials id of a secret: `SONAR_TOKEN` → `sonar-token`. */
export function defaultCredentialsId(secret: string): string {
  const id = secret
    .toLowerCase()
    .replace(/_+/g, '-')
    .replace(/^-+|-+$/g, '');
  return id === '' ? secret.toLowerCase() : id;
}
