/**
 * The POSIX shell scripts that wrap a gate's (or setup's) command inside a `RUN`.
 *
 * They contain only Gatehouse's own text plus validated tokens (gate ids, secret
 * names, numbers). The user's command never appears in them: it is passed to the
 * wrapper as its own argv element (`$1`) — or, when too long for a Dockerfile line,
 * read from a generated script file — and handed unchanged to `/bin/sh -c "$1"`.
 */

import {
  DOCKER_EVIDENCE_DIR,
  DOCKER_LOG_FILE,
  DOCKER_OUT_ROOT,
  DOCKER_RESULT_FILE,
  EXPORTED_RESULT_KEYS,
  type ExportedGateResult,
} from '@gatehouse-ci/core';

/** Where gate results live inside gate stages: `<OUT_ROOT>/<id>/{result.json,log.txt,evidence/}`. */
export const OUT_ROOT = DOCKER_OUT_ROOT;
/** Where generated command files are copied to inside the image. */
export const CMD_ROOT = '/gatehouse/cmd';
/** BuildKit secret id of the optional CA bundle (`docker build --secret id=gatehouse_ca,src=…`). */
export const CA_SECRET_ID = 'gatehouse_ca';
/** `$0` of the wrapper shells; shows up in `ps` and error messages. */
export const GATE_ARGV0 = 'gatehouse-gate';
export const SETUP_ARGV0 = 'gatehouse-setup';
export const DEPLOY_ARGV0 = 'gatehouse-deploy';

/** What a wrapper needs to know; every field is a validated token. */
export interface WrapperParams {
  /** Gate id (`^[a-z][a-z0-9-]*$`), or `setup`. */
  id: string;
  /** Whole seconds, at least 1. */
  timeoutSeconds: number;
  /** Secret names (`^[A-Z_][A-Z0-9_]*$`), each mounted at `/run/secrets/<NAME>`. */
  secrets: string[];
  /** Whether the optional `gatehouse_ca` secret is mounted. */
  ca: boolean;
  /** Container path of the command file, or `null` when the command is `$1`. */
  commandFile: string | null;
}

/**
 * The awk program that redacts a gate's log: the values of the variables named in
 * `GH_SECRET_NAMES` become `***`. It treats the log as one stream, not line by line, so a
 * multi-line value (a PEM key) is found too: wherever values start, the longest one is
 * replaced and the scan goes on after it, and it never looks at its own output, so it ends
 * for any value (`*` included). Lines are joined back with the newlines between them, and
 * the final one is written only when `nl` says the log had it. Held back: at most the
 * longest value's length minus one characters. POSIX awk only (busybox, mawk, gawk).
 */
export const REDACT_AWK = [
  'function gh_flush(final,   out, at, len, i, p, stop) {',
  'stop = final ? length(buf) : length(buf) - keep; out = "";',
  'while (1) {',
  'at = 0;',
  'for (i = 1; i <= m; i++) { p = index(buf, v[i]); if (p > 0 && (at == 0 || p < at)) { at = p; len = length(v[i]) } }',
  'if (at == 0 || at > stop) break;',
  'out = out substr(buf, 1, at - 1) "***"; buf = substr(buf, at + len); stop -= at - 1 + len',
  '}',
  'if (stop > 0) { out = out substr(buf, 1, stop); buf = substr(buf, stop + 1) }',
  'printf "%s", out',
  '}',
  'BEGIN {',
  'n = split(ENVIRON["GH_SECRET_NAMES"], k, " "); m = 0;',
  'for (i = 1; i <= n; i++) if (ENVIRON[k[i]] != "") v[++m] = ENVIRON[k[i]];',
  'for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j >= 1 && length(v[j]) < length(x); j--) v[j + 1] = v[j]; v[j + 1] = x }',
  'keep = m > 0 ? length(v[1]) - 1 : 0',
  '}',
  'NR > 1 { buf = buf "\\n" }',
  '{ buf = buf $0; gh_flush(0) }',
  'END { if (NR > 0 && nl) buf = buf "\\n"; gh_flush(1) }',
].join(' ');

/** Env names of a gate's `when.env`: the gate runs only when each is set and non-empty. */
export interface GateCondition {
  when: string[];
}

function loadCommand(p: WrapperParams): string[] {
  if (p.commandFile === null) return ['gh_cmd=$1'];
  // `$(...)` strips trailing newlines; the sentinel keeps them so the text stays byte-identical.
  return [`gh_cmd=$(cat ${p.commandFile}; printf x)`, 'gh_cmd=${gh_cmd%x}'];
}

function exportSecrets(p: Pick<WrapperParams, 'secrets' | 'ca'>): string[] {
  const lines = p.secrets.map(
    (name) =>
      `if [ -f /run/secrets/${name} ]; then ${name}=$(cat /run/secrets/${name}); export ${name}; fi`,
  );
  if (p.ca) {
    lines.push(
      `if [ -s /run/secrets/${CA_SECRET_ID} ]; then NODE_EXTRA_CA_CERTS=/run/secrets/${CA_SECRET_ID}; export NODE_EXTRA_CA_CERTS; fi`,
    );
  }
  return lines;
}

/**
 * Setup: export secrets (and the CA), then replace the wrapper with the command.
 * A failing setup fails the build: no gate could run without it.
 */
export function setupWrapper(p: WrapperParams): string {
  return [
    ...loadCommand(p),
    ...exportSecrets(p),
    `if command -v timeout >/dev/null 2>&1; then exec timeout -s TERM ${p.timeoutSeconds} /bin/sh -c "$gh_cmd"; fi`,
    'exec /bin/sh -c "$gh_cmd"',
  ].join('\n');
}

/**
 * A gate: runs the command with `GATEHOUSE_OUT` set, its output in `log.txt`, and
 * always exits 0 after writing `result.json`; the verdict stage decides. A gate
 * whose needed gate did not pass is not run and records `exitCode: null`.
 */
export function gateWrapper(p: WrapperParams & GateCondition & { needs: string[] }): string {
  const o = `${OUT_ROOT}/${p.id}`;
  const t = p.timeoutSeconds;
  const lines = [
    `o=${o}`,
    `mkdir -p "$o/${DOCKER_EVIDENCE_DIR}"`,
    `GATEHOUSE_OUT="$o/${DOCKER_EVIDENCE_DIR}"; export GATEHOUSE_OUT`,
    // GNU date has %N (nanoseconds); busybox prints it literally, so fall back to seconds.
    'gh_ms() { gh_n=$(date +%s%N 2>/dev/null); case $gh_n in ""|*[!0-9]*) echo $(( $(date +%s) * 1000 ));; *) echo $(( gh_n / 1000000 ));; esac; }',
    'gh_iso() { printf "%s.%03dZ" "$(date -u -d "@$(( $1 / 1000 ))" +%Y-%m-%dT%H:%M:%S 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%S)" $(( $1 % 1000 )); }',
    ...loadCommand(p),
    'printf "%s" "$gh_cmd" > "$o/command.txt"',
    'gh_skip=',
  ];
  if (p.needs.length > 0) {
    lines.push(
      `for gh_need in ${p.needs.join(' ')}; do case $(cat "${OUT_ROOT}/$gh_need/${DOCKER_RESULT_FILE}" 2>/dev/null) in *'"exitCode":0,'*) ;; *) gh_skip=$gh_need; break;; esac; done`,
    );
  }
  lines.push(...exportSecrets(p), 'gh_unmet=');
  // `when.env`: names are validated tokens; values come from build args or secrets.
  for (const name of p.when) lines.push(`[ -n "\${${name}:-}" ] || gh_unmet="$gh_unmet ${name}"`);
  lines.push(
    'gh_t0=$(gh_ms)',
    'gh_cond=false',
    'if [ -n "$gh_unmet" ]; then',
    '  gh_rc=null; gh_cond=true; gh_skipj="\\"not set (when.env):$gh_unmet\\""',
    `  printf "gatehouse: not run: not set (when.env):%s\\n" "$gh_unmet" > "$o/${DOCKER_LOG_FILE}"`,
    'elif [ -n "$gh_skip" ]; then',
    '  gh_rc=null; gh_skipj="\\"needed gate $gh_skip did not pass\\""',
    `  printf "gatehouse: not run: needed gate %s did not pass\\n" "$gh_skip" > "$o/${DOCKER_LOG_FILE}"`,
    'else',
    '  gh_skipj=null',
    `  if command -v timeout >/dev/null 2>&1; then timeout -s TERM ${t} /bin/sh -c "$gh_cmd" > "$o/${DOCKER_LOG_FILE}" 2>&1 < /dev/null; else /bin/sh -c "$gh_cmd" > "$o/${DOCKER_LOG_FILE}" 2>&1 < /dev/null; fi`,
    '  gh_rc=$?',
    'fi',
    'gh_t1=$(gh_ms)',
    'gh_to=false',
    // GNU timeout exits 124; busybox's is killed by the signal itself (128+15), so check the clock.
    `case $gh_rc in 124) gh_to=true;; 137|143) [ $(( gh_t1 - gh_t0 )) -ge ${Math.max(0, t - 1) * 1000} ] && gh_to=true;; esac`,
  );
  if (p.secrets.length > 0) {
    // Redact secret values from the log where awk exists (busybox and Debian images have it).
    // awk cannot tell whether the last line ended with a newline; `tail | wc` can.
    lines.push(
      `if command -v awk >/dev/null 2>&1; then gh_nl=$(tail -c 1 "$o/${DOCKER_LOG_FILE}" 2>/dev/null | wc -l); GH_SECRET_NAMES="${p.secrets.join(' ')}" awk -v nl="$gh_nl" '${REDACT_AWK}' "$o/${DOCKER_LOG_FILE}" > "$o/log.redacted" && mv "$o/log.redacted" "$o/${DOCKER_LOG_FILE}"; fi`,
    );
  }
  lines.push(resultWriter(p.id), 'exit 0');
  return lines.join('\n');
}

/**
 * The deploy step of a release made of a workspace package: `$1` is the package's name, `$2`
 * the directory it is deployed to, with its production dependencies (workspace packages
 * included, as the judged stage holds them, build outputs and all). pnpm 10 deploys a
 * workspace without `inject-workspace-packages` only with `--legacy`; earlier versions do not
 * know that flag. Setup's secrets and the CA are there in case a package is not in the store.
 */
export function deployCommand(p: Pick<WrapperParams, 'secrets' | 'ca'>): string {
  return [
    'if ! command -v pnpm >/dev/null 2>&1; then',
    '  echo "gatehouse: the release image of a workspace package is made with pnpm deploy, and pnpm is not on the PATH of the gates\' image" >&2',
    '  exit 1',
    'fi',
    ...exportSecrets(p),
    'gh_legacy=',
    'case $(pnpm --version) in [0-9].*) ;; *) [ "$(pnpm config get inject-workspace-packages 2>/dev/null)" = true ] || gh_legacy=--legacy;; esac',
    'exec pnpm --filter "$1" --prod --prefer-offline deploy $gh_legacy "$2"',
  ].join('\n');
}

/**
 * The deploy step of a release made of a package of an npm or yarn workspace, which neither
 * has a command for: `$1` is the package manager (`npm` or `yarn`), `$2` the package's name,
 * `$3` its directory, `$4` the directory it is deployed to, and `$5` Gatehouse's deploy program
 * ({@link NPM_DEPLOY_SCRIPT}), run by node. It copies the production dependencies from the
 * installed workspace, so it never reaches a registry: no secret or CA is needed. npm is
 * needed in both (`npm pack --dry-run` lists the files of a workspace package).
 */
export function npmDeployCommand(): string {
  return [
    'for gh_tool in node npm; do',
    '  if ! command -v $gh_tool >/dev/null 2>&1; then',
    '    echo "gatehouse: the release image of a package of an $1 workspace is made with node and npm, and $gh_tool is not on the PATH of the gates\' image" >&2',
    '    exit 1',
    '  fi',
    'done',
    'exec node -e "$5" -- "$1" "$2" "$3" "$4"',
  ].join('\n');
}

/**
 * The verdict step: Gatehouse's judge (`verdict.mjs`, bundled from @gatehouse-ci/report) reads
 * every exported result with its evidence and applies the config's policies and modes, as
 * `gatehouse run` does; it writes `/gatehouse/verdict.txt` and fails the build when the
 * verdict failed. The gates' image must have `node`: without it the verdict fails, saying so.
 */
export function verdictCommand(judgeRoot: string): string {
  return [
    'if ! command -v node >/dev/null 2>&1; then',
    '  echo "gatehouse: the verdict stage needs node in the gates\' image to judge the results" >&2',
    '  exit 1',
    'fi',
    // $1: the spec's JSON, or the path of its file.
    `exec node ${judgeRoot}/verdict.mjs "$1" /gatehouse/results /gatehouse/verdict.txt`,
  ].join('\n');
}

/**
 * How each `result.json` field is printed: its `printf` conversion (a JSON string is `"%s"`)
 * and the shell word that supplies it. Every word is a number, `true`/`false`, `null`, a
 * validated gate id or a JSON string literal the wrapper built (`$gh_skipj`).
 */
const RESULT_FIELDS: Record<
  keyof ExportedGateResult,
  { format: string; arg: (id: string) => string }
> = {
  id: { format: '"%s"', arg: (id) => `"${id}"` },
  exitCode: { format: '%s', arg: () => '"$gh_rc"' },
  timedOut: { format: '%s', arg: () => '"$gh_to"' },
  skipped: { format: '%s', arg: () => '"$gh_skipj"' },
  conditionUnmet: { format: '%s', arg: () => '"$gh_cond"' },
  startedAt: { format: '"%s"', arg: () => '"$(gh_iso "$gh_t0")"' },
  finishedAt: { format: '"%s"', arg: () => '"$(gh_iso "$gh_t1")"' },
  durationMs: { format: '%s', arg: () => '$(( gh_t1 - gh_t0 ))' },
};

/** The `printf` that writes `result.json` (core's layout, keys in its order) for gate `id`. */
function resultWriter(id: string): string {
  const format = EXPORTED_RESULT_KEYS.map((k) => `"${k}":${RESULT_FIELDS[k].format}`).join(',');
  const args = EXPORTED_RESULT_KEYS.map((k) => RESULT_FIELDS[k].arg(id)).join(' ');
  return `printf '{${format}}\\n' ${args} > "$o/${DOCKER_RESULT_FILE}"`;
}
