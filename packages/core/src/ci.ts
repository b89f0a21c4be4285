/**
 * What every CI target (GitHub Actions, Buildkite, Jenkins…) has in common: the options they
 * share, the commands a CI job runs, and where results travel. Each target only decides how
 * these are written in its own format.
 */
import { posix } from 'node:path';
import { withNeeds } from './dag.js';
import {
  DEFAULT_DOCKERFILE_PATH,
  DOCKER_RESULT_FILE,
  gateStageName,
  resultStageName,
} from './docker-layout.js';
import { GatehouseError, type Diagnostic } from './errors.js';
import type { ResolvedGate, ResolvedPipeline, TargetOptions } from './model.js';
import type { TargetContext } from './plugin.js';
import { CI_OPTION_INVALID, OptionReader } from './option-reader.js';

/** How a CI job runs a gate: through the gatehouse CLI on the agent, or by building its Dockerfile target. */
export type CiMode = 'native' | 'docker';

/** Options every CI target understands. */
export interface CiCommonOptions {
  /** Where the generated file goes, relative to the config's directory. */
  path: string;
  /** @default 'native' */
  mode: CiMode;
  /** How CI jobs call the CLI. @default 'npx --no-install gatehouse' */
  cli: string;
  /**
   * The config directory from the top of the checkout a CI job starts in (`packages/web`, `''`
   * at the top); null: found from git at compile time ({@link ciWithCheckoutDir}).
   */
  checkout_dir?: string | null;
}

/** Directory (relative to the checkout) where CI jobs put per-gate results. */
export const CI_RESULTS_DIR = 'gatehouse-results';
/** Directory (relative to the checkout) where the final CI job writes the merged report. */
export const CI_REPORT_DIR = 'gatehouse-report';
/** Default `cli` option. */
export const DEFAULT_CI_CLI = 'npx --no-install gatehouse';

// A command prefix that needs no shell quoting and holds no interpolation syntax of any target.
const CLI_PATTERN = /^[A-Za-z0-9_./@:=+-]+(?: [A-Za-z0-9_./@:=+-]+)*$/;
const SAFE_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9_./-]+$/;

/** Read and check `path`, `mode` and `cli`; invalid values fall back to defaults and add a diagnostic. */
export function readCiCommonOptions(
  options: TargetOptions,
  defaultPath: string,
): { value: CiCommonOptions; diagnostics: Diagnostic[] } {
  const reader = new OptionReader(options, null);
  return { value: readCommonOptions(reader, defaultPath), diagnostics: reader.diagnostics };
}

/** `path`, `mode` and `cli` of a CI target read by `reader`, with their defaults. */
export function readCommonOptions(reader: OptionReader, defaultPath: string): CiCommonOptions {
  return {
    path:
      reader.string(
        'path',
        SAFE_PATH,
        '`path` must be a relative file path inside the project (letters, digits, `_ . / -`, no `..`)',
        `e.g. \`${defaultPath}\``,
        (p) => !p.endsWith('/'),
      ) ?? defaultPath,
    mode:
      reader.oneOf(
        'mode',
        ['native', 'docker'],
        '`mode` must be `native` or `docker`',
        "native runs gates through the gatehouse CLI; docker builds each gate's Dockerfile target",
      ) ?? 'native',
    cli: readCliOption(reader),
    checkout_dir: readCheckoutDir(reader),
  };
}

/** The `checkout_dir` option: `.` or a relative directory, without `./` or a trailing `/`. */
function readCheckoutDir(reader: OptionReader): string | null {
  const dir = reader.string(
    'checkout_dir',
    SAFE_PATH,
    '`checkout_dir` must be `.` or a relative directory inside the repository (letters, digits, `_ . / -`, no `..`)',
    'the config directory from the top of the repository CI checks out, e.g. `packages/web`; found from git when absent',
  );
  if (dir === undefined) return null;
  const norm = posix.normalize(dir).replace(/\/+$/, '');
  return norm === '.' ? '' : norm;
}

/**
 * The options with `checkout_dir` settled: as written, else where compile found the config
 * directory in its git work tree (`ctx.checkoutDir`). CI jobs start at the checkout's top, and
 * every target runs the config's commands in this directory (docs/decisions/0017).
 */
export function ciWithCheckoutDir<O extends CiCommonOptions>(
  options: O,
  ctx: Pick<TargetContext, 'checkoutDir'>,
  target: string,
): O & { checkout_dir: string } {
  const found = ctx.checkoutDir ?? '';
  if (options.checkout_dir == null && found !== '' && !SAFE_PATH.test(found))
    // The directory's name is written into scripts and paths of the CI file: only plain names.
    throw new GatehouseError(
      'GH_TARGET_UNSAFE',
      `${target}: the config directory \`${found}\` cannot be written safely into the CI file`,
      {
        diagnostics: [
          {
            code: 'GH_TARGET_UNSAFE',
            severity: 'error',
            message: `the config directory's path from the top of the repository, \`${found}\`, holds characters a CI file cannot carry safely`,
            path: `targets.${target}`,
            loc: null,
            hint: 'rename the directory (letters, digits, `_ . / -`), or set `checkout_dir` when the CI checks out another layout',
          },
        ],
      },
    );
  return { ...options, checkout_dir: options.checkout_dir ?? found };
}

/**
 * `p`, relative to the config directory, as a path from the checkout's top. A path that climbs
 * out of the config directory (`../../pnpm-lock.yaml`, a workspace root's file) is normalized
 * (`pnpm-lock.yaml`); one that would climb above the top is kept as it is.
 */
export function ciFromTop(checkoutDir: string | null | undefined, p: string): string {
  if (!checkoutDir) return p;
  if (p === '.' || p === '') return checkoutDir;
  if (p.startsWith('../')) {
    const norm = posix.normalize(`${checkoutDir}/${p}`);
    return norm.startsWith('../') || norm === '..' ? p : norm;
  }
  return `${checkoutDir}/${p}`;
}

/** The way from the config directory back to the checkout's top: `../..`, or `.` at the top. */
export function ciUpToTop(checkoutDir: string | null | undefined): string {
  if (!checkoutDir) return '.';
  return checkoutDir
    .split('/')
    .map(() => '..')
    .join('/');
}

/** The `cli` option (how a generated command calls the CLI), read by `reader`, with its default. */
export function readCliOption(reader: OptionReader): string {
  return (
    reader.string(
      'cli',
      CLI_PATTERN,
      '`cli` must be a plain command prefix (words of letters, digits and `_ . / @ : = + -`, single spaces)',
      `e.g. \`${DEFAULT_CI_CLI}\` or \`node node_modules/.bin/gatehouse\``,
    ) ?? DEFAULT_CI_CLI
  );
}

/** The command a native CI job runs for one gate (setup and needs were done by the job). */
export function ciGateCommand(cli: string, gateId: string): string {
  return `${cli} run --only ${gateId} --result-file ${CI_RESULTS_DIR}/${gateId}.json`;
}

/**
 * Variables of the runner's remote cache that native CI gate jobs pass on when the config has
 * `cache: { remote: true }`: `url` and `team` from CI variables, `token` and `signatureKey` from
 * CI secrets, `readOnly` set by the job itself.
 */
export const CI_REMOTE_CACHE_VARS = {
  url: 'GATEHOUSE_REMOTE_CACHE_URL',
  team: 'GATEHOUSE_REMOTE_CACHE_TEAM',
  token: 'GATEHOUSE_REMOTE_CACHE_TOKEN',
  signatureKey: 'GATEHOUSE_REMOTE_CACHE_SIGNATURE_KEY',
  readOnly: 'GATEHOUSE_REMOTE_CACHE_READ_ONLY',
} as const;

/** Whether the native gate jobs of this pipeline use the remote cache. */
export function ciUsesRemoteCache(pipeline: ResolvedPipeline, mode: CiMode): boolean {
  return mode === 'native' && pipeline.cache?.remote === true;
}

/**
 * A POSIX shell line that makes the remote cache read-write only when `writes` (a shell test
 * over the CI's own variables: a push to the default branch) holds, and read-only otherwise.
 */
export function ciRemoteCacheModeLine(writes: string): string {
  const v = CI_REMOTE_CACHE_VARS.readOnly;
  return `if ${writes}; then ${v}=false; else ${v}=true; fi; export ${v}`;
}

/** Per-gate result file of a native CI job. */
export function ciResultFile(gateId: string): string {
  return `${CI_RESULTS_DIR}/${gateId}.json`;
}

/** Directory a docker-mode CI job exports one gate's `result-<id>` stage into (it holds `<id>/`). */
export const CI_DOCKER_RESULTS_DIR = `${CI_RESULTS_DIR}/docker`;

/**
 * The final job's commands: `prepare` makes sure the results directory exists (so that when no gate
 * uploaded anything the merge still runs and reports every gate as missing), `merge` merges every
 * gate result, `render` writes Markdown, HTML and JUnit; `markdown` is the Markdown file and
 * `json` the merged report.
 */
export function ciReportCommands(
  cli: string,
  mode: CiMode,
): { prepare: string; merge: string; render: string[]; markdown: string; json: string } {
  const report = `${CI_REPORT_DIR}/report.json`;
  const merge =
    mode === 'docker'
      ? `${cli} report merge --docker ${CI_DOCKER_RESULTS_DIR} -o ${report}`
      : `${cli} report merge ${CI_RESULTS_DIR} -o ${report}`;
  return {
    prepare: `mkdir -p ${mode === 'docker' ? CI_DOCKER_RESULTS_DIR : CI_RESULTS_DIR}`,
    merge,
    render: [
      `${cli} report render ${report} --format md -o ${CI_REPORT_DIR}/report.md`,
      `${cli} report render ${report} --format html -o ${CI_REPORT_DIR}/report.html`,
      `${cli} report render ${report} --format junit -o ${CI_REPORT_DIR}/junit.xml`,
    ],
    markdown: `${CI_REPORT_DIR}/report.md`,
    json: report,
  };
}

/** Every gate `gateId` depends on, directly or not, sorted. */
export function transitiveNeeds(pipeline: ResolvedPipeline, gateId: string): string[] {
  const needs = pipeline.gates.find((g) => g.id === gateId)?.needs ?? [];
  return [...withNeeds(pipeline.gates, needs)].sort();
}

/**
 * Secret names a CI job for `gate` must expose: setup's and the gate's; in docker mode also those
 * of every gate it transitively needs (the build runs them too).
 */
export function ciJobSecrets(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  mode: CiMode,
): string[] {
  const names = new Set([...(pipeline.setup?.secrets ?? []), ...gate.secrets]);
  if (mode === 'docker') {
    const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
    for (const id of transitiveNeeds(pipeline, gate.id))
      for (const s of byId.get(id)?.secrets ?? []) names.add(s);
  }
  return [...names].sort();
}

/**
 * Variables a job must have in its environment for `when.env` conditions: the gate's own in
 * native mode (the CLI checks them), and in docker mode also those of every gate it needs,
 * passed as build args (the build reruns those stages unless cached). Names that are also a
 * job secret are left out: they arrive as secrets.
 */
export function ciConditionEnv(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  mode: CiMode,
): string[] {
  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const gates =
    mode === 'docker'
      ? [gate, ...transitiveNeeds(pipeline, gate.id).map((id) => byId.get(id)!)]
      : [gate];
  const secrets = new Set(ciJobSecrets(pipeline, gate, mode));
  const names = new Set<string>();
  for (const g of gates) for (const n of g.when?.env ?? []) if (!secrets.has(n)) names.add(n);
  return [...names].sort();
}

/**
 * Job time limit in minutes: setup + gate (docker mode: + every needed gate, which the build
 * reruns unless cached), rounded up, plus 5 minutes so checkout, tool set-up and artifact
 * transfer never cut the gate short and the CLI's own timeout fires first and is recorded.
 */
export function ciJobTimeoutMinutes(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  mode: CiMode,
): number {
  let ms = (pipeline.setup?.timeoutMs ?? 0) + gate.timeoutMs;
  if (mode === 'docker') {
    const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
    for (const id of transitiveNeeds(pipeline, gate.id)) ms += byId.get(id)?.timeoutMs ?? 0;
  }
  return Math.ceil(ms / 60_000) + 5;
}

/** Which kind of user text a {@link CiUserText} is. */
export type CiUserTextField = 'name' | 'setup.run' | 'setup.env' | 'description' | 'output';

/** One piece of user text that a CI target writes into its file, with its config path. */
export interface CiUserText {
  /** Config path, e.g. `setup.env.NODE_ENV`, `gates.build.outputs[0]`. */
  path: string;
  field: CiUserTextField;
  text: string;
}

/**
 * Every piece of user text a CI target writes into its file (gate commands and gate env are not
 * among them: CI jobs run gates through the CLI, which reads them from the config).
 */
export function ciUserTexts(pipeline: ResolvedPipeline): CiUserText[] {
  const out: CiUserText[] = [{ path: 'name', field: 'name', text: pipeline.name }];
  if (pipeline.setup) {
    out.push({ path: 'setup.run', field: 'setup.run', text: pipeline.setup.run });
    for (const [k, v] of Object.entries(pipeline.setup.env))
      out.push({ path: `setup.env.${k}`, field: 'setup.env', text: v });
  }
  for (const gate of pipeline.gates) {
    if (gate.description)
      out.push({
        path: `gates.${gate.id}.description`,
        field: 'description',
        text: gate.description,
      });
    gate.outputs.forEach((glob, i) =>
      out.push({ path: `gates.${gate.id}.outputs[${i}]`, field: 'output', text: glob }),
    );
  }
  return out;
}

// Line breaks and invisible format characters would split or disguise an artifact path list.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

/** True when an output glob can be written as one artifact path: one printable line, no surrounding spaces. */
export function isPlainArtifactGlob(glob: string): boolean {
  return glob !== '' && glob.trim() === glob && !UNPRINTABLE.test(glob);
}

/**
 * Docker mode builds stages of the Dockerfile the `dockerfile` target generates: without that
 * target the CI jobs would build a file that does not exist. Returns the problem, located at
 * `targets.<target>.mode`, or null.
 */
export function ciDockerModeProblem(
  pipeline: ResolvedPipeline,
  target: string,
  mode: CiMode,
): Diagnostic | null {
  if (mode !== 'docker' || 'dockerfile' in pipeline.targets) return null;
  return {
    code: CI_OPTION_INVALID,
    severity: 'error',
    message:
      '`mode: docker` builds the Dockerfile of the `dockerfile` target, which this config does not list',
    path: `targets.${target}.mode`,
    loc: null,
    hint: 'add `dockerfile: {}` under `targets`, or use `mode: native`',
  };
}

/** Quote a word for POSIX `sh` (bare when it needs no quoting). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Docker mode's shared build cache: a registry repository holding one image per gate stage, with
 * BuildKit's inline cache metadata in its config (decision 0018). Every job logs in and imports
 * it (`--cache-from`); only where `pushWhen` holds (a push to the default branch) does a job push
 * its own gate's stage. Each field is shell text the target writes; none may hold user text.
 */
export interface CiDockerCache {
  /** The repository (`registry/path`, no tag), e.g. `"$CI_REGISTRY_IMAGE/gatehouse-cache/web"`. */
  repository: string;
  /** The registry host `docker login` is given, and the user and password it logs in with. */
  registry: string;
  user: string;
  password: string;
  /** A shell condition (`[ ... ] && [ ... ]`) true only in jobs that may write the cache. */
  pushWhen: string;
}

/**
 * `docker_cache` of a CI target: `registry` or `false` (the default). Refused, at the option,
 * outside docker mode, whose jobs alone build stages. `docs` is the target's page and anchor.
 */
export function readDockerCacheOption(
  reader: OptionReader,
  mode: CiMode,
  docs: string,
): 'registry' | false {
  const value =
    reader.oneOf(
      'docker_cache',
      ['registry', false] as const,
      '`docker_cache` must be `registry` or `false`',
      docs,
    ) ?? false;
  if (value !== false && mode !== 'docker')
    reader.error(
      'docker_cache',
      '`docker_cache` shares the build cache of `mode: docker` jobs; this target runs in `mode: native`',
      'set `mode: docker`, or use the remote cache for native jobs (docs/remote-cache.md)',
    );
  return value;
}

/** The job variable naming the cache repository (`registry/path`, no tag). */
export const CI_DOCKER_CACHE_VAR = 'GATEHOUSE_DOCKER_CACHE';

/**
 * The last path component of the cache repository, from the pipeline's name: lowercase letters
 * and digits joined by single `-`, as a registry path component must be. Two configs of one
 * repository with the same name share a repository (their stages' tags then overwrite each
 * other: a cache miss, never a wrong hit, since BuildKit checks every key).
 */
export function ciDockerCacheName(pipeline: ResolvedPipeline): string {
  const slug = pipeline.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug === '' ? 'pipeline' : slug;
}

/**
 * Whether a gate job may push its stage to the shared cache: only when no secret reaches its
 * build (setup's, its own, or a gate's it needs). A secret is mounted, never a layer, but a tool
 * could still write it into a file of the stage, and the pushed image holds the stage's files.
 */
export function ciDockerCacheExportable(pipeline: ResolvedPipeline, gate: ResolvedGate): boolean {
  return ciJobSecrets(pipeline, gate, 'docker').length === 0;
}

/**
 * Docker mode: build the gate's `result-<id>` target, export it, then fail the job when the gate's
 * recorded exit code is not 0 (the gate stage itself always succeeds so evidence is never lost).
 * The `grep`/`sed` read the `result.json` layout of `docker-layout.ts` (`"key":value`, no spaces).
 * With `cache`, the job logs in to the registry and the build imports the gate's stage and those
 * of the gates it needs; where the cache may be written, the gate's stage is built again with
 * inline cache metadata (answered from the build just made) and pushed. The cache never fails
 * the job: a refused login leaves it out, a missing or unreachable image is a cache miss, and a
 * failed push prints one line.
 */
export function ciDockerGateCommands(
  pipeline: ResolvedPipeline,
  gate: ResolvedGate,
  cache?: CiDockerCache,
): string[] {
  const dockerfileOptions = pipeline.targets.dockerfile;
  const dockerfile =
    typeof dockerfileOptions?.path === 'string' ? dockerfileOptions.path : DEFAULT_DOCKERFILE_PATH;
  const secrets = ciJobSecrets(pipeline, gate, 'docker').map((s) => `--secret id=${s},env=${s} `);
  // `--build-arg NAME` without a value takes it from the job's environment.
  const args = ciConditionEnv(pipeline, gate, 'docker').map((n) => `--build-arg ${n} `);
  const result = `${CI_DOCKER_RESULTS_DIR}/${gate.id}/${DOCKER_RESULT_FILE}`;
  const v = CI_DOCKER_CACHE_VAR;
  const ref = (id: string): string => `"$${v}:${gateStageName(id)}"`;
  const login = cache
    ? [
        `${v}=${cache.repository}`,
        `if [ -n "$${v}" ] && ! printf '%s' ${cache.password} | docker login -u ${cache.user} --password-stdin ${cache.registry} >/dev/null; then echo "the registry refused the login: building without the shared build cache"; ${v}=; fi`,
      ]
    : [];
  // An empty variable (no registry in this job) leaves the option out.
  const cacheFrom = cache
    ? [gate.id, ...transitiveNeeds(pipeline, gate.id)].map(
        (id) => `\${${v}:+--cache-from ${ref(id)}} `,
      )
    : [];
  const push =
    cache && ciDockerCacheExportable(pipeline, gate)
      ? [
          `if [ -n "$${v}" ] && ${cache.pushWhen}; then if DOCKER_BUILDKIT=1 docker build -q -f ${shellQuote(dockerfile)} --target ${gateStageName(gate.id)} ${args.join('')}--build-arg BUILDKIT_INLINE_CACHE=1 -t ${ref(gate.id)} . >/dev/null && docker push ${ref(gate.id)} >/dev/null; then echo "gate ${gate.id}: build cache pushed to "${ref(gate.id)}; else echo "gate ${gate.id}: build cache not pushed; the gate's result stands"; fi; fi`,
        ]
      : [];
  return [
    ...login,
    `DOCKER_BUILDKIT=1 docker build -f ${shellQuote(dockerfile)} --target ${resultStageName(gate.id)} ${secrets.join('')}${args.join('')}${cacheFrom.join('')}-o type=local,dest=${CI_DOCKER_RESULTS_DIR} .`,
    ...push,
    `if grep -q '"conditionUnmet":true' ${result}; then echo "gate ${gate.id} skipped: its when.env condition is not met"; else code=$(sed -n 's/.*"exitCode": *\\(-\\{0,1\\}[0-9]*\\).*/\\1/p' ${result} | head -n 1); echo "gate ${gate.id} exit code: \${code:-missing}"; test "$code" = 0; fi`,
  ];
}
