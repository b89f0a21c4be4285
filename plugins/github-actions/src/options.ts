/** `targets.github`: the options as the user writes them, resolved once, with defaults. */
import {
  OptionReader,
  readDockerCacheOption,
  readCommonOptions,
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
   * Docker mode: share BuildKit's cache between runs through the repository's GitHub Container
   * Registry (`registry`: `ghcr.io/<owner>/<repo>/gatehouse-cache/<name>`), or not (`false`).
   * See docs/ci/github-actions.md#a-shared-build-cache.
   * @default false
   */
  docker_cache: 'registry' | false;
  /**
   * Upload the report's SARIF to code scanning from the report job, which alone gets
   * `security-events: write`. @default true
   * @see https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/uploading-a-sarif-file-to-github
   */
  code_scanning: boolean;
  /**
   * Whether `path` was written in the config. When it was not and the config is in a
   * subdirectory of the repository, the workflow goes to the top's `.github/workflows/`, the
   * only place GitHub reads workflows from.
   */
  path_given: boolean;
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
  'checkout_dir',
  'node_version',
  'runs_on',
  'triggers',
  'actions',
  'concurrency',
  'cache',
  'code_scanning',
  'docker_cache',
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
  const r = new OptionReader(options, KNOWN);
  const common = readCommonOptions(r, DEFAULT_GITHUB_PATH);
  const nodeVersion = r.read(
    'node_version',
    (v) => {
      const text = typeof v === 'number' ? String(v) : v;
      return typeof text === 'string' && NODE_VERSION.test(text) && !text.includes('${{')
        ? text
        : undefined;
    },
    '`node_version` must be a version spec such as `20`, `22.x` or `lts/*`',
  );
  const runsOn = r.read(
    'runs_on',
    (v) => {
      const labels = typeof v === 'string' ? [v] : v;
      return Array.isArray(labels) &&
        labels.length > 0 &&
        labels.every((l) => typeof l === 'string' && LABEL.test(l))
        ? (v as string | string[])
        : undefined;
    },
    '`runs_on` must be a runner label or a non-empty list of labels (letters, digits, `_ . : -`)',
    'e.g. `ubuntu-24.04` or `[self-hosted, linux]`',
  );
  const triggers = readTriggers(r);
  const actions = { ...DEFAULT_ACTIONS };
  const rawActions = r.nested(
    'actions',
    Object.keys(DEFAULT_ACTIONS),
    '`actions` must be a mapping of action name to `owner/repo@<sha> # tag`',
  );
  if (rawActions) {
    for (const name of Object.keys(DEFAULT_ACTIONS) as Array<keyof GithubActions>) {
      const pinned = rawActions.read(
        name,
        (ref) => {
          const m = typeof ref === 'string' ? ACTION_REF.exec(ref.trim()) : null;
          return m ? { repo: m[1]!, sha: m[2]!, tag: m[3] ?? m[2]!.slice(0, 12) } : undefined;
        },
        `\`actions.${name}\` must pin a full 40-character commit SHA: \`owner/repo@<sha> # <tag>\``,
        `e.g. \`${DEFAULT_ACTIONS[name].repo}@${DEFAULT_ACTIONS[name].sha} # ${DEFAULT_ACTIONS[name].tag}\``,
      );
      if (pinned) actions[name] = pinned;
    }
  }
  const value: GithubOptions = {
    ...common,
    node_version: nodeVersion ?? null,
    runs_on: runsOn ?? 'ubuntu-24.04',
    triggers: triggers ?? { push: { branches: ['main'] }, pull_request: {} },
    actions,
    concurrency: r.bool('concurrency') ?? true,
    code_scanning: r.bool('code_scanning') ?? true,
    path_given: options['path'] !== undefined,
    cache:
      r.oneOf(
        'cache',
        [false, 'npm', 'yarn', 'pnpm'],
        '`cache` must be `npm`, `yarn`, `pnpm` or `false`',
      ) ?? null,
    docker_cache: readDockerCacheOption(
      r,
      common.mode,
      'docs/ci/github-actions.md#a-shared-build-cache',
    ),
  };
  return { value, diagnostics: r.diagnostics };
}

/** `triggers`, or undefined when it is absent or wrong (its diagnostics recorded). */
function readTriggers(r: OptionReader): GithubOptions['triggers'] | undefined {
  const before = r.diagnostics.length;
  const t = r.nested(
    'triggers',
    ['push', 'pull_request', 'workflow_dispatch'],
    '`triggers` must be a mapping with `push`, `pull_request` and/or `workflow_dispatch`',
  );
  if (!t) return undefined;
  const out: GithubOptions['triggers'] = {};
  for (const event of ['push', 'pull_request'] as const) {
    const spec = t.raw[event];
    if (spec === undefined || spec === false) continue;
    if (spec === true || spec === null) {
      out[event] = {};
      continue;
    }
    const e = t.nested(
      event,
      ['branches'],
      `\`triggers.${event}\` must be \`true\`, \`false\` or \`{ branches: [...] }\``,
    );
    if (!e) continue;
    if (e.raw.branches === undefined) {
      out[event] = {};
      continue;
    }
    const branches = e.read(
      'branches',
      (b) =>
        Array.isArray(b) &&
        b.length > 0 &&
        b.every((x) => typeof x === 'string' && BRANCH.test(x) && !x.includes('${{'))
          ? (b as string[])
          : undefined,
      'branches must be a non-empty list of branch patterns (no control characters, no `${{`)',
    );
    if (branches) out[event] = { branches };
  }
  if (t.bool('workflow_dispatch')) out.workflow_dispatch = true;
  if (r.diagnostics.length === before && !out.push && !out.pull_request && !out.workflow_dispatch) {
    r.error(
      'triggers',
      'at least one trigger must be enabled',
      'e.g. `{ push: { branches: [main] }, pull_request: true }`',
    );
  }
  return r.diagnostics.length === before ? out : undefined;
}
