/**
 * Every diagnostic code Gatehouse reports, in one place, plus the helpers that make a
 * diagnostic readable: code frames, "did you mean" suggestions and the one-line format.
 */
import type { Diagnostic, Severity, SourceLocation } from './errors.js';

/** What a code means; the config reference lists these. */
export interface DiagnosticCodeInfo {
  severity: Severity;
  /** One sentence: when this code is reported. */
  summary: string;
}

/**
 * The catalogue of diagnostic codes. Codes are stable: a code is never reused for
 * another meaning. `docs/config-reference.md` is generated from this table.
 */
export const DIAGNOSTIC_CODES = {
  GH_CONFIG_NOT_FOUND: {
    severity: 'error',
    summary:
      'The config file does not exist or cannot be read; without `--config`, no directory from the current one up to the root has one, or the nearest belongs to another user.',
  },
  GH_CONFIG_NOT_FILE: {
    severity: 'error',
    summary:
      'The config path is not a regular file (a directory, a FIFO, a device); it is not read.',
  },
  GH_CONFIG_TOO_LARGE: {
    severity: 'error',
    summary: 'The config file is larger than 1 MiB; it is not parsed.',
  },
  GH_CONFIG_INVALID: {
    severity: 'error',
    summary: 'Thrown by `loadPipeline` when the config has errors; carries every diagnostic.',
  },
  GH_EMPTY_CONFIG: {
    severity: 'error',
    summary: 'The config file is empty (or only comments/whitespace).',
  },
  GH_NOT_UTF8: { severity: 'error', summary: 'The file contains bytes that are not valid UTF-8.' },
  GH_BOM: {
    severity: 'warning',
    summary:
      'The file starts with a UTF-8 byte order mark; it is ignored (the hash still covers it).',
  },
  GH_NUL_BYTE: {
    severity: 'error',
    summary: 'A NUL character appears in the file or in a value (also via the `\\0` escape).',
  },
  GH_LONE_SURROGATE: {
    severity: 'error',
    summary: 'A value contains an unpaired UTF-16 surrogate (e.g. from a `\\uD800` escape).',
  },
  GH_YAML_SYNTAX: { severity: 'error', summary: 'The file is not valid YAML.' },
  GH_YAML_WARNING: {
    severity: 'warning',
    summary: 'The YAML parser warned (e.g. an unknown tag).',
  },
  GH_DUPLICATE_KEY: { severity: 'error', summary: 'A mapping has the same key twice.' },
  GH_UNKNOWN_KEY: { severity: 'error', summary: 'A key that the config language does not define.' },
  GH_WRONG_TYPE: {
    severity: 'error',
    summary: 'A value has the wrong type (e.g. a string where a list is expected).',
  },
  GH_MISSING_FIELD: {
    severity: 'error',
    summary: 'A required field is absent (`version`, `name`, `gates`, a gate `run`, …).',
  },
  GH_EMPTY_VALUE: {
    severity: 'error',
    summary: 'A string or list that must not be empty is empty.',
  },
  GH_INVALID_VALUE: { severity: 'error', summary: 'A value is outside its allowed range or form.' },
  GH_UNKNOWN_VERSION: {
    severity: 'error',
    summary: '`version` is not a supported config version (only `1`).',
  },
  GH_UNKNOWN_KIND: {
    severity: 'error',
    summary: 'A gate `kind` is neither built in nor registered by a plugin.',
  },
  GH_UNKNOWN_EVIDENCE_FORMAT: {
    severity: 'error',
    summary: 'An evidence `format` Gatehouse cannot parse.',
  },
  GH_INVALID_MODE: { severity: 'error', summary: '`mode` is not `blocking` or `advisory`.' },
  GH_UNKNOWN_GATE: {
    severity: 'error',
    summary: '`needs`, `release.from` or a selection names a gate that does not exist.',
  },
  GH_SELF_NEED: { severity: 'error', summary: 'A gate lists itself in `needs`.' },
  GH_CYCLE: {
    severity: 'error',
    summary: 'The `needs` graph has a cycle; the message prints it (`a -> b -> a`).',
  },
  GH_PRESET_NOT_FOUND: {
    severity: 'error',
    summary:
      'An `extends` entry names a preset file that cannot be read, or an npm package that is not installed (or names no preset file).',
  },
  GH_PRESET_CYCLE: {
    severity: 'error',
    summary: 'Presets extend each other in a loop; the message prints the chain.',
  },
  GH_PRESET_VERSION: {
    severity: 'error',
    summary: 'A preset has another `version` than the config that extends it.',
  },
  GH_PRESET_TOO_DEEP: {
    severity: 'error',
    summary: 'Presets extend presets more than 16 levels deep.',
  },
  GH_PRESET_UNKNOWN_GATE: {
    severity: 'error',
    summary: '`gates.<id>: null` removes a gate that no preset of the config defines.',
  },
  GH_PRESET_PLUGINS: {
    severity: 'error',
    summary:
      'A preset sets `plugins`; plugins are loaded before presets are read, so only the config itself may list them.',
  },
  GH_NO_WORKSPACE: {
    severity: 'error',
    summary:
      'A gate declares `packages`, but the config directory has no workspace (`pnpm-workspace.yaml` or `package.json#workspaces`) with packages, or, in an nx workspace, nx has no project outside the root.',
  },
  GH_NX_GRAPH: {
    severity: 'error',
    summary:
      "A gate declares `packages` in an nx workspace whose projects come from nx's project graph, and nx could not compute it; the message has nx's reason.",
  },
  GH_NO_PACKAGES: {
    severity: 'warning',
    summary: 'The `packages` filter of a gate selects no workspace package: the gate disappears.',
  },
  GH_DIRECT_NO_EFFECT: {
    severity: 'warning',
    summary:
      "`packages.direct: true` on a gate whose scripts cannot start without the package manager: the gate has no `packages.script`, has its own `run` (or a package's override does), or its packages are nx projects (run by `nx run`). The gate runs its `run` as before.",
  },
  GH_UNKNOWN_PACKAGE: {
    severity: 'error',
    summary: '`packages.overrides` names a package that is not in the workspace.',
  },
  GH_PACKAGE_NEED: {
    severity: 'error',
    summary:
      'A `^gate` need outside a gate of `packages`, or naming a gate that is not declared for `packages`.',
  },
  GH_PACKAGE_GATE_CLASH: {
    severity: 'error',
    summary: 'The id a package gate expands to (`<package>-<gate>`) is already taken, or too long.',
  },
  GH_RELEASE_DEPLOY: {
    severity: 'error',
    summary:
      "`release.deploy: true`, but `release.from` is not a gate of `packages:`, or the workspace is a bun workspace or a yarn workspace installed with Plug'n'Play (pnpm, npm and yarn workspaces with `node_modules` are deployed).",
  },
  GH_RELEASE_NOT_DEPLOYED: {
    severity: 'warning',
    summary:
      "`release.from` is a gate of `packages:` in a bun workspace or in a yarn workspace installed with Plug'n'Play: the image gets `copy` as written and no production dependencies (pnpm, npm and yarn workspaces with `node_modules` are deployed).",
  },
  GH_INVALID_ID: {
    severity: 'error',
    summary: 'A gate id does not match `^[a-z][a-z0-9-]{0,62}$`.',
  },
  GH_INVALID_ENV_NAME: {
    severity: 'error',
    summary: 'An env variable name does not match `^[A-Z_][A-Z0-9_]*$`.',
  },
  GH_INVALID_SECRET_NAME: {
    severity: 'error',
    summary: 'A secret name does not match `^[A-Z_][A-Z0-9_]*$`.',
  },
  GH_RESERVED_NAME: {
    severity: 'error',
    summary:
      'An env or secret name uses a prefix owned by a CI system (`GITHUB_`, `BUILDKITE`, `BK_`).',
  },
  GH_SECRET_VALUE: {
    severity: 'error',
    summary: 'A secret was given as a value instead of a name; the value is masked in the output.',
  },
  GH_SECRET_IN_ENV: {
    severity: 'warning',
    summary:
      'A plain `env` variable whose name looks like a credential has a literal value; the value is masked in the output.',
  },
  GH_IMAGE_UNPINNED: {
    severity: 'warning',
    summary: 'An image uses `latest` or no tag, so builds are not reproducible.',
  },
  GH_IMAGE_STAGE_NAME: {
    severity: 'error',
    summary:
      'An image is a bare stage name of the generated Dockerfile (`base`, `setup`, `gate-*`, `result-*`, `gatehouse-results`, `gatehouse-verdict`, `gatehouse-judged`, `gatehouse-deploy`, `release`), which `FROM` would read as that stage.',
  },
  GH_INVALID_TIMEOUT: {
    severity: 'error',
    summary: 'A timeout is not `<n>ms|s|m|h` or a positive number of seconds, or exceeds 24h.',
  },
  GH_POLICY_NOT_FOR_KIND: {
    severity: 'warning',
    summary: 'A policy key that gates of this kind never measure.',
  },
  GH_EVIDENCE_PATH: {
    severity: 'error',
    summary: 'An evidence path is absolute or contains `..`.',
  },
  GH_PATH_ESCAPES_ROOT: {
    severity: 'error',
    summary:
      'An `inputs`/`outputs`/`copy` glob is absolute or leaves the config directory (a `//` input: the workspace root), or an `outputs`/`copy` glob starts with `//`.',
  },
  GH_NO_WORKSPACE_ROOT: {
    severity: 'error',
    summary:
      'An `inputs` glob starts with `//` (the workspace root), but the config is in no workspace (`pnpm-workspace.yaml` or `package.json#workspaces` at or above its directory) and no git work tree.',
  },
  GH_CA_PATH: {
    severity: 'error',
    summary:
      '`targets.dockerfile.ca` names a file outside the project (also through a link) that is not a listed system CA bundle, or a file that is not a regular file.',
  },
  GH_UNKNOWN_TARGET: { severity: 'error', summary: 'A target name no loaded plugin provides.' },
  GH_UNKNOWN_EXECUTOR: {
    severity: 'error',
    summary: 'An executor name no loaded plugin provides.',
  },
  GH_TARGET_OPTIONS: {
    severity: 'error',
    summary: 'A target rejected its options (`targets.<name>…`).',
  },
  GH_TARGET_EMIT: {
    severity: 'error',
    summary: 'A target could not represent the pipeline safely, or produced an invalid file path.',
  },
  GH_COMPILE_FAILED: {
    severity: 'error',
    summary: 'Thrown by `compileTargets` when any target reported errors; carries them all.',
  },
  GH_TARGET_PATH: {
    severity: 'error',
    summary:
      "A target's output path is inside `.git/`, or leads out of the project (or into `.git/`) through a symbolic link.",
  },
  GH_TARGET_OVERWRITE: {
    severity: 'error',
    summary:
      '`compile` would replace a file that Gatehouse did not generate (no generated-by header); nothing is written without `--force`.',
  },
  GH_TARGET_MERGE: {
    severity: 'error',
    summary:
      'A file whose keys a target merges into (`turbo.json`, a `package.json`) is not plain JSON (comments, trailing commas: located at the character), is not an object, or is missing where the target does not create it.',
  },
  GH_DUPLICATE_OUTPUT: { severity: 'error', summary: 'Two targets want to write the same file.' },
  GH_PLUGIN_NOT_FOUND: {
    severity: 'error',
    summary:
      "A package named in `plugins:` cannot be resolved from the config directory, the optional package of a built-in executor (`@gatehouse-ci/plugin-docker`) is not installed, or a gate declares `packages` in an nx workspace with `project.json` projects and `@gatehouse-ci/nx`, which reads nx's project graph, is not installed.",
  },
  GH_PLUGIN_INVALID: {
    severity: 'error',
    summary: 'A plugin module does not have the plugin shape; the message says which key.',
  },
  GH_PLUGIN_DUPLICATE: {
    severity: 'error',
    summary: 'Two plugins register the same target, executor or gate kind, or share a name.',
  },
  GH_PLUGIN_NOT_LOADED: {
    severity: 'error',
    summary:
      'A target or executor of a lazily loaded plugin was looked up before its plugin was imported (a bug in the caller).',
  },
  GH_KEY_IN_PROJECT: {
    severity: 'error',
    summary:
      '`gatehouse report keygen -o DIR` names a directory inside a project or git work tree (a parent holds `gatehouse.yml`, `gatehouse.yaml` or `.git`); `--force` writes there anyway.',
  },
  GH_REPORT_WRITE: {
    severity: 'error',
    summary:
      'A report file (or `--result-file`, `--report-dir`) could not be written; the message names the file and the system error (e.g. `ENOSPC`). `gatehouse run` still prints its summary and exits 1.',
  },
  GH_DURATION_INVALID: {
    severity: 'error',
    summary: '`parseDuration` received something that is not a duration.',
  },
  GH_SANDBOX_UNAVAILABLE: {
    severity: 'error',
    summary:
      '`gatehouse run --sandbox` found no `bwrap` on `PATH`, or bwrap cannot create namespaces here; nothing is run and the exit code is 2. Install Debian/Ubuntu `bubblewrap`; as a non-root user, allow unprivileged user namespaces (`kernel.unprivileged_userns_clone=1`, and on Ubuntu 24.04+ `kernel.apparmor_restrict_unprivileged_userns=0`).',
  },
  // Targets: values a generated file cannot carry
  GH_TARGET_UNSAFE: {
    severity: 'error',
    summary:
      'A CI target (github, buildkite, gitlab) refuses the pipeline: the diagnostics it carries name each config value the file cannot hold safely.',
  },
  GH_GITHUB_EXPRESSION: {
    severity: 'error',
    summary:
      'A config text written into the GitHub workflow contains `${{`, which GitHub Actions would evaluate as an expression.',
  },
  GH_GITHUB_UNSAFE_PATH: {
    severity: 'error',
    summary:
      'An output glob cannot be an `upload-artifact` path: more than one line, surrounding spaces, or a leading `!`.',
  },
  GH_GITHUB_UNSAFE_NAME: {
    severity: 'error',
    summary:
      'An env or secret name cannot be a GitHub Actions variable name (not `[A-Z_][A-Z0-9_]*`, or starts with `GITHUB_`).',
  },
  GH_BUILDKITE_BACKSLASH_DOLLAR: {
    severity: 'error',
    summary:
      'A config text has an odd number of backslashes before `$`, which `buildkite-agent pipeline upload` would change.',
  },
  GH_BUILDKITE_UNSAFE_PATH: {
    severity: 'error',
    summary:
      'An output glob cannot be a Buildkite artifact path: more than one line, surrounding spaces, or a `;`.',
  },
  GH_GITLAB_UNSAFE_PATH: {
    severity: 'error',
    summary:
      'An output glob or JUnit evidence path cannot be a GitLab artifact path: more than one line, surrounding spaces, or a `$` (the runner expands variables in artifact paths).',
  },
  GH_DOCKERFILE_UNREPRESENTABLE: {
    severity: 'error',
    summary:
      'The dockerfile target refuses the pipeline: the diagnostics it carries name each value a Dockerfile cannot hold safely.',
  },
  GH_DOCKERFILE_UNSAFE: {
    severity: 'error',
    summary:
      'The Dockerfile printer met a value its checks should have refused (a bug: the model holds unsafe text).',
  },
  GH_DOCKERFILE_TEXT: {
    severity: 'error',
    summary:
      'A command holds a NUL character or a lone UTF-16 surrogate, which no exec-form argument can carry.',
  },
  GH_DOCKERFILE_ENV_NAME: {
    severity: 'error',
    summary: 'An env variable name cannot be written to a Dockerfile `ENV`.',
  },
  GH_DOCKERFILE_ENV_VALUE: {
    severity: 'error',
    summary:
      'An env value holds a line break or a control character, which a Dockerfile `ENV` cannot carry.',
  },
  GH_DOCKERFILE_IMAGE: {
    severity: 'error',
    summary: 'An image is not a valid image reference for `FROM`.',
  },
  GH_DOCKERFILE_PATH: {
    severity: 'error',
    summary:
      'A workdir, input, output or copy path cannot be written into the Dockerfile (not absolute where it must be, or a glob `COPY` cannot express).',
  },
  GH_DOCKERFILE_ID: {
    severity: 'error',
    summary: 'A gate id cannot name a Dockerfile stage.',
  },
  GH_DOCKERFILE_SECRET: {
    severity: 'error',
    summary:
      'A secret or `when.env` name is not a valid variable name for a build secret or build argument.',
  },
  GH_DOCKERFILE_USER: {
    severity: 'error',
    summary: '`release.user` is not a user name or `uid[:gid]`.',
  },
  GH_DOCKERFILE_RELEASE_FROM: {
    severity: 'error',
    summary: '`release.from` names no gate of the pipeline being written.',
  },
  GH_DOCKERFILE_CMD: {
    severity: 'error',
    summary: '`release.cmd` is empty.',
  },
  GH_DOCKERFILE_PORT: {
    severity: 'error',
    summary: 'A `release.expose` entry is not a port (1-65535).',
  },
  // Running gates
  GH_AFFECTED_BASE: {
    severity: 'error',
    summary:
      '`--affected` cannot compare with its base: not a git work tree, or the base ref (`--base`, default `main`) has no merge-base with `HEAD`.',
  },
  GH_USAGE: {
    severity: 'error',
    summary:
      'The command line is wrong (an unknown flag value, flags that cannot be combined); the CLI prints the usage and exits 2.',
  },
  GH_LOCKED: {
    severity: 'error',
    summary: "Another run holds the project's `.gatehouse/` lock; `--wait SECONDS` waits for it.",
  },
  GH_SECRET_MISSING: {
    severity: 'error',
    summary: 'A secret that setup or a gate declares is not set in the environment.',
  },
  GH_SECRETS_MISSING: {
    severity: 'error',
    summary:
      'Thrown before anything runs when secrets are missing; carries one `GH_SECRET_MISSING` per secret.',
  },
  GH_NO_RESULT: {
    severity: 'error',
    summary: '`gatehouse run --result-file` found no result for the gate in the run.',
  },
  GH_DOCKER_UNREACHABLE: {
    severity: 'error',
    summary:
      'The `docker` executor cannot reach the Docker engine (`DOCKER_HOST` or the default socket).',
  },
  // Reports and the ledger
  GH_REPORT_NOT_FOUND: {
    severity: 'error',
    summary: 'A report file named on the command line cannot be read.',
  },
  GH_REPORT_INVALID: {
    severity: 'error',
    summary: 'A report file is not valid JSON.',
  },
  GH_REPORT_TAMPERED: {
    severity: 'error',
    summary: 'A sealed report or result does not match its digest; it is not merged.',
  },
  GH_REPORT_MERGE_INVALID: {
    severity: 'error',
    summary: 'A file given to `report merge` is neither a gate result nor a report.',
  },
  GH_REPORT_MERGE_DUPLICATE: {
    severity: 'error',
    summary: '`report merge` found the same gate in two result files.',
  },
  GH_REPORT_KEY_INVALID: {
    severity: 'error',
    summary: 'The signing key is not a PEM private key.',
  },
  GH_FILE_EXISTS: {
    severity: 'error',
    summary: '`gatehouse report keygen` would overwrite an existing key file.',
  },
  GH_LEDGER_LOCKED: {
    severity: 'error',
    summary: "Another process holds the ledger's lock.",
  },
  GH_LEDGER_BROKEN: {
    severity: 'error',
    summary:
      '`.gatehouse/ledger.jsonl` ends with a partial line; `gatehouse report history` shows where it broke.',
  },
  // init and import
  GH_INIT_NO_PACKAGE_JSON: {
    severity: 'error',
    summary: '`gatehouse init` found no `package.json` in the directory.',
  },
  GH_INIT_BAD_PACKAGE_JSON: {
    severity: 'error',
    summary: '`gatehouse init` found a `package.json` that is not valid JSON.',
  },
  GH_INIT_EXISTS: {
    severity: 'error',
    summary: '`gatehouse init` would overwrite an existing config (`--force` replaces it).',
  },
  GH_INIT_WRITE: {
    severity: 'error',
    summary: '`gatehouse init` could not write the config.',
  },
  GH_IMPORT_NOT_FOUND: {
    severity: 'error',
    summary: '`gatehouse import` cannot read the Dockerfile.',
  },
  GH_IMPORT_EXISTS: {
    severity: 'error',
    summary:
      '`gatehouse import --output` would overwrite an existing file (`--force` replaces it).',
  },
  GH_IMPORT_UNREACHABLE_STAGE: {
    severity: 'warning',
    summary: 'Import finding: a stage that no build of the default target runs.',
  },
  GH_IMPORT_SCANNER_NEVER_RUNS: {
    severity: 'warning',
    summary: 'Import finding: a code scanner stage (SonarQube) that no build runs.',
  },
  GH_IMPORT_RUN_NEVER_ENDS: {
    severity: 'warning',
    summary: 'Import finding: a `RUN` that starts a server (`npm start`) and never ends.',
  },
  GH_IMPORT_EXEC_FORM_NOT_JSON: {
    severity: 'warning',
    summary:
      'Import finding: an exec form that is not valid JSON, so Docker runs it as shell form.',
  },
  GH_IMPORT_NPM_NOT_A_COMMAND: {
    severity: 'warning',
    summary: 'Import finding: an npm script run without `run` (`npm lint`).',
  },
  GH_IMPORT_UNPINNED_IMAGE: {
    severity: 'warning',
    summary: 'Import finding: `FROM` with no tag or `latest`.',
  },
  GH_IMPORT_SECRET_IN_ARG_ENV: {
    severity: 'warning',
    summary:
      'Import finding: a token-like name in `ARG`/`ENV`, whose value ends up in the image or its history.',
  },
  GH_IMPORT_CHECK_ABORTS_BUILD: {
    severity: 'warning',
    summary:
      "Import finding: a failing check stage aborts the build and loses the other stages' evidence.",
  },
  GH_IMPORT_STAGE_WITHOUT_COMMAND: {
    severity: 'warning',
    summary: 'Import finding: a check stage with no `RUN`.',
  },
  GH_IMPORT_NO_CMD: {
    severity: 'warning',
    summary:
      'Import finding: the release stage has no `CMD`; the imported `cmd` is a guess to check.',
  },
} as const satisfies Record<string, DiagnosticCodeInfo>;

/** A known diagnostic code. */
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** Edit distance (insert/delete/substitute), used for "did you mean" hints. */
export function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The closest candidate within a distance that still looks like a typo, or null. */
export function closest(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const lower = word.toLowerCase();
  for (const c of [...candidates].sort()) {
    const d = levenshtein(lower, c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

/** "did you mean `x`?" or undefined. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  return c === null ? undefined : `did you mean \`${c}\`?`;
}

/** Options of {@link codeFrame}. */
export interface CodeFrameOptions {
  /** Lines of context above the problem line. @default 2 */
  context?: number;
  /** Parts of the source (UTF-16 offsets, end exclusive) shown as `***`: secret values. */
  masks?: ReadonlyArray<{ start: number; end: number }>;
}

/**
 * A few lines of source with a caret under the problem:
 * ```
 *   11 |   a11y:
 * > 12 |     needs: [biuld]
 *      |             ^^^^^
 * ```
 */
export function codeFrame(
  source: string,
  loc: SourceLocation,
  options: CodeFrameOptions = {},
): string {
  const lines = source.split('\n');
  const starts: number[] = [];
  let off = 0;
  for (const l of lines) {
    starts.push(off);
    off += l.length + 1;
  }
  const context = options.context ?? 2;
  const lineIdx = Math.min(Math.max(loc.line - 1, 0), Math.max(lines.length - 1, 0));
  const first = Math.max(0, lineIdx - context);
  const width = String(lineIdx + 1).length;
  const masks = options.masks ?? [];
  const out: string[] = [];
  let caretShift = 0;
  const col = Math.max(1, loc.column);
  for (let i = first; i <= lineIdx; i++) {
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    const lineStart = starts[i] ?? 0;
    // Masked spans on this line, in line-relative columns, merged and sorted.
    const spans = masks
      .map((m) => ({
        s: Math.max(0, m.start - lineStart),
        e: Math.min(raw.length, m.end - lineStart),
      }))
      .filter((m) => m.e > m.s)
      .sort((a, b) => a.s - b.s);
    let text = '';
    let at = 0;
    for (const sp of spans) {
      if (sp.s < at) continue;
      text += visible(raw.slice(at, sp.s)) + '***';
      if (i === lineIdx && sp.s < col - 1) caretShift += 3 - (Math.min(sp.e, col - 1) - sp.s);
      at = sp.e;
    }
    text += visible(raw.slice(at));
    out.push(`${i === lineIdx ? '>' : ' '} ${String(i + 1).padStart(width)} | ${text}`);
  }
  let len = 1;
  if (loc.endLine === loc.line && loc.endColumn !== undefined && loc.endColumn > col)
    len = loc.endColumn - col;
  const lineStart = starts[lineIdx] ?? 0;
  const caretAbs = lineStart + col - 1;
  if (masks.some((m) => caretAbs >= m.start && caretAbs < m.end)) len = 3;
  const lineText = lines[lineIdx] ?? '';
  // Tabs are kept so the caret lines up under tab-indented text.
  const pad = [...lineText.slice(0, col - 1)].map((ch) => (ch === '\t' ? '\t' : ' ')).join('');
  const shift = caretShift > 0 ? ' '.repeat(caretShift) : '';
  const padded = caretShift < 0 ? pad.slice(0, pad.length + caretShift) : pad + shift;
  out.push(`  ${' '.repeat(width)} | ${padded}${'^'.repeat(Math.min(len, 80))}`);
  return out.join('\n');
}

// Control characters would let a config file rewrite the terminal; show them escaped.
function visible(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\u0000' ? '\\0' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * One diagnostic as text:
 * ```
 * gatehouse.yml:12:13 error GH_UNKNOWN_GATE gates.a11y.needs[0]: unknown gate `biuld`
 *   > 12 |     needs: [biuld]
 *        |             ^^^^^
 *   hint: did you mean `build`?
 * ```
 */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.column} ` : '';
  const path = d.path ? ` ${d.path}:` : ':';
  const lines = [`${where}${d.severity} ${d.code}${path} ${visible(d.message)}`];
  if (d.frame) lines.push(...d.frame.split('\n').map((l) => `  ${l}`));
  if (d.hint) lines.push(`  hint: ${visible(d.hint)}`);
  return lines.join('\n');
}

/** `2 errors, 1 warning` */
export function summarizeDiagnostics(diagnostics: Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  return `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
}

/** Stable order for output: by file, line, column, then code. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.loc?.file ?? '').localeCompare(b.loc?.file ?? '') ||
      (a.loc?.line ?? 0) - (b.loc?.line ?? 0) ||
      (a.loc?.column ?? 0) - (b.loc?.column ?? 0) ||
      a.code.localeCompare(b.code) ||
      a.path.localeCompare(b.path),
  );
}

/** `gates.unit.needs[0]` from segments; keys that are not plain identifiers are quoted. */
export function formatPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
