/** `targets.github`: the options as the user writes them, resolved once, with defaults. */
import {
  isPlainObject,
  optionDiagnostic,
  readCiCommonOptions,
  unknownOptionDiagnostics,
  type CiCommonOptions,
  type Diagnostic,
  type TargetOptions,
} from '@gatehouse-ci/core';

/** An action reference pinned to a full commit SHA, with the tag it stands for. */
export interface PinnedAction {
  /** `owner/repo` (optionally `/path`). */
  repo: string;
  /** 40 hex digits. */
  sha: string;
  /** e.g. `v4.2.2`, written as a comment next to the SHA. */
  tag: string;
}

/** Which actions the workflow uses. Overridable per action. */
export interface GithubActions {
  checkout: PinnedAction;
  setup_node: PinnedAction;
  /** Used when the project's package manager is pnpm. */
  setup_pnpm: PinnedAction;
  upload_artifact: PinnedAction;
  download_artifact: PinnedAction;
  /** Uploads `report.sarif` to code scanning (when `code_scanning` is on). */
  upload_sarif: PinnedAction;
}

/** `targets.github` options, resolved. */
export interface GithubOptions extends CiCommonOptions {
  /**
   * `actions/setup-node`'s `node-version`. `null` (the default) takes it from the project:
   * the config's image when it is an official `node` image, else `.nvmrc`, `.node-version`
   * or `engines.node` (through `node-version-file`), else `lts/*`.
   * @default null
   */
  node_version: string | null;
  /** Runner label(s). @default 'ubuntu-24.04' */
  runs_on: string | string[];
  /** `on:`. @default push to `main`, and pull requests */
  triggers: {
    push?: { branches?: string[] };
    pull_request?: { branches?: string[] };
    workflow_dispatch?: boolean;
  };
  actions: GithubActions;
  /** Cancel a running workflow of the same ref when a new one starts. @default true */
  concurrency: boolean;
  /**
   * Dependency cache of `actions/setup-node` (`npm`, `yarn`, `pnpm`), or `false`. `null`
   * (the default) uses the project's package manager (its lockfile or `packageManager`).
   * @default null
   */
  cache: 'npm' | 'yarn' | 'pnpm' | false | null;
  /**
   * Upload the report's SARIF to code scanning from the report job, which alone gets
   * `security-events: write`. @default true
   * @see https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/uploading-a-sarif-file-to-github
   */
  code_scanning: boolean;
}

/**
 * Defaults: real release commits of each action, the tag in the comment.
 * @see https://github.com/actions/checkout/releases
 */
export const DEFAULT_ACTIONS: GithubActions = {
  checkout: {
    repo: 'actions/checkout',
    sha: '11bd71901bbe5b1630ceea73d27597364c9af683',
    tag: 'v4.2.2',
  },
  setup_node: {
    repo: 'actions/setup-node',
    sha: '49933ea5288caeca8642d1e84afbd3f7d6820020',
    tag: 'v4.4.0',
  },
  setup_pnpm: {
    repo: 'pnpm/action-setup',
    sha: 'a7487c7e89a18df4991f7f222e4898a00d66ddda',
    tag: 'v4.1.0',
  },
  upload_artifact: {
    repo: 'actions/upload-artifact',
    sha: 'ea165f8d65b6e75b540449e92b4886f43607fa02',
    tag: 'v4.6.2',
  },
  download_artifact: {
    repo: 'actions/download-artifact',
    sha: 'd3f86a106a0bac45b974a628896c90dbdf5c8093',
    tag: 'v4.3.0',
  },
  upload_sarif: {
    repo: 'github/codeql-action/upload-sarif',
    sha: '8aad20d150bbac5944a9f9d289da16a4b0d87c1e',
    tag: 'v4.36.2',
  },
};

export const DEFAULT_GITHUB_PATH = '.github/workflows/gatehouse.yml';

const KNOWN = [
  'path',
  'mode',
  'cli',
  'node_version',
  'runs_on',
  'triggers',
  'actions',
  'concurrency',
  'cache',
  'code_scanning',
] as const;
const ACTION_REF =
  /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_./-]+)?)@([0-9a-f]{40})(?:\s+#\s*([A-Za-z0-9_.+-]+))?$/;
const LABEL = /^[A-Za-z0-9_.:-]+$/;
const NODE_VERSION = /^[A-Za-z0-9_.*/+-]+$/;
// Branch filters are glob patterns; refuse only what would change the file's meaning.
const BRANCH = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]+$/;

/** Check `targets.github` and resolve its defaults. Diagnostics' paths are relative to the options. */
export function resolveGithubOptions(options: TargetOptions): {
  value: GithubOptions;
  diagnostics: Diagnostic[];
} {
  const diagnostics = unknownOptionDiagnostics(options, KNOWN);
  const common = readCiCommonOptions(options, DEFAULT_GITHUB_PATH);
  diagnostics.push(...common.diagnostics);
  const value: GithubOptions = {
    ...common.value,
    node_version: null,
    runs_on: 'ubuntu-24.04',
    triggers: { push: { branches: ['main'] }, pull_request: {} },
    actions: { ...DEFAULT_ACTIONS },
    concurrency: true,
    cache: null,
    code_scanning: true,
  };

  const nodeVersion = options.node_version;
  if (nodeVersion !== undefined) {
    const text = typeof nodeVersion === 'number' ? String(nodeVersion) : nodeVersion;
    if (typeof text === 'string' && NODE_VERSION.test(text) && !text.includes('${{'))
      value.node_version = text;
    else
      diagnostics.push(
        optionDiagnostic(
          'node_version',
          '`node_version` must be a version spec such as `20`, `22.x` or `lts/*`',
        ),
      );
  }

  const runsOn = options.runs_on;
  if (runsOn !== undefined) {
    const labels = typeof runsOn === 'string' ? [runsOn] : runsOn;
    if (
      Array.isArray(labels) &&
      labels.length > 0 &&
      labels.every((l) => typeof l === 'string' && LABEL.test(l))
    ) {
      value.runs_on = typeof runsOn === 'string' ? runsOn : (labels as string[]);
    } else {
      diagnostics.push(
        optionDiagnostic(
          'runs_on',
          '`runs_on` must be a runner label or a non-empty list of labels (letters, digits, `_ . : -`)',
          'e.g. `ubuntu-24.04` or `[self-hosted, linux]`',
        ),
      );
    }
  }

  if (options.triggers !== undefined) {
    const triggers = readTriggers(options.triggers, diagnostics);
    if (triggers) value.triggers = triggers;
  }

  if (options.actions !== undefined) {
    if (!isPlainObject(options.actions)) {
      diagnostics.push(
        optionDiagnostic(
          'actions',
          '`actions` must be a mapping of action name to `owner/repo@<sha> # tag`',
        ),
      );
    } else {
      diagnostics.push(
        ...unknownOptionDiagnostics(options.actions, Object.keys(DEFAULT_ACTIONS), 'actions.'),
      );
      for (const name of Object.keys(DEFAULT_ACTIONS) as Array<keyof GithubActions>) {
        const ref = options.actions[name];
        if (ref === undefined) continue;
        const m = typeof ref === 'string' ? ACTION_REF.exec(ref.trim()) : null;
        if (m) value.actions[name] = { repo: m[1]!, sha: m[2]!, tag: m[3] ?? m[2]!.slice(0, 12) };
        else
          diagnostics.push(
            optionDiagnostic(
              `actions.${name}`,
              `\`actions.${name}\` must pin a full 40-character commit SHA: \`owner/repo@<sha> # <tag>\``,
              `e.g. \`${DEFAULT_ACTIONS[name].repo}@${DEFAULT_ACTIONS[name].sha} # ${DEFAULT_ACTIONS[name].tag}\``,
            ),
          );
      }
    }
  }

  if (options.concurrency !== undefined) {
    if (typeof options.concurrency === 'boolean') value.concurrency = options.concurrency;
    else
      diagnostics.push(optionDiagnostic('concurrency', '`concurrency` must be `true` or `false`'));
  }

  if (options.code_scanning !== undefined) {
    if (typeof options.code_scanning === 'boolean') value.code_scanning = options.code_scanning;
    else
      diagnostics.push(
        optionDiagnostic('code_scanning', '`code_scanning` must be `true` or `false`'),
      );
  }

  if (options.cache !== undefined) {
    if (
      options.cache === false ||
      options.cache === 'npm' ||
      options.cache === 'yarn' ||
      options.cache === 'pnpm'
    )
      value.cache = options.cache;
    else
      diagnostics.push(
        optionDiagnostic('cache', '`cache` must be `npm`, `yarn`, `pnpm` or `false`'),
      );
  }
  return { value, diagnostics };
}

function readTriggers(raw: unknown, diagnostics: Diagnostic[]): GithubOptions['triggers'] | null {
  if (!isPlainObject(raw)) {
    diagnostics.push(
      optionDiagnostic(
        'triggers',
        '`triggers` must be a mapping with `push`, `pull_request` and/or `workflow_dispatch`',
      ),
    );
    return null;
  }
  const before = diagnostics.length;
  diagnostics.push(
    ...unknownOptionDiagnostics(raw, ['push', 'pull_request', 'workflow_dispatch'], 'triggers.'),
  );
  const out: GithubOptions['triggers'] = {};
  for (const event of ['push', 'pull_request'] as const) {
    const spec = raw[event];
    if (spec === undefined || spec === false) continue;
    if (spec === true || spec === null) {
      out[event] = {};
      continue;
    }
    if (!isPlainObject(spec)) {
      diagnostics.push(
        optionDiagnostic(
          `triggers.${event}`,
          `\`triggers.${event}\` must be \`true\`, \`false\` or \`{ branches: [...] }\``,
        ),
      );
      continue;
    }
    diagnostics.push(...unknownOptionDiagnostics(spec, ['branches'], `triggers.${event}.`));
    const branches = spec.branches;
    if (branches === undefined) out[event] = {};
    else if (
      Array.isArray(branches) &&
      branches.length > 0 &&
      branches.every((b) => typeof b === 'string' && BRANCH.test(b) && !b.includes('${{'))
    ) {
      out[event] = { branches: branches as string[] };
    } else {
      diagnostics.push(
        optionDiagnostic(
          `triggers.${event}.branches`,
          'branches must be a non-empty list of branch patterns (no control characters, no `${{`)',
        ),
      );
    }
  }
  const dispatch = raw.workflow_dispatch;
  if (dispatch !== undefined) {
    if (typeof dispatch === 'boolean') {
      if (dispatch) out.workflow_dispatch = true;
    } else
      diagnostics.push(
        optionDiagnostic(
          'triggers.workflow_dispatch',
          '`triggers.workflow_dispatch` must be `true` or `false`',
        ),
      );
  }
  if (diagnostics.length === before && !out.push && !out.pull_request && !out.workflow_dispatch) {
    diagnostics.push(
      optionDiagnostic(
        'triggers',
        'at least one trigger must be enabled',
        'e.g. `{ push: { branches: [main] }, pull_request: true }`',
      ),
    );
  }
  return diagnostics.length === before ? out : null;
}
