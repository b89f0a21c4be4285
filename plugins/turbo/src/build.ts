/**
 * The resolved pipeline as turbo tasks: one `<package>#gatehouse:<gate>` task per gate of
 * `packages:`, one `//#gatehouse:<gate>` root task per other gate, and the package scripts they
 * run (`gatehouse run --only <id> --result-file …`). See docs/decisions/0013-turbo-tasks.md.
 */
import { posix } from 'node:path';
import {
  CI_REMOTE_CACHE_VARS,
  GatehouseError,
  isRootGlob,
  shellQuote,
  type Diagnostic,
  type ResolvedGate,
  type ResolvedPipeline,
  type TargetContext,
} from '@gatehouse-ci/core';
import type { TurboPlan, TurboTask } from './model.js';
import type { TurboOptions } from './options.js';

/** Prefix of every task and script the target owns. */
export const TASK_PREFIX = 'gatehouse:';
/** Where each task writes its gate's result, relative to the root (turbo stores it as an output). */
export const TURBO_RESULTS_DIR = '.gatehouse/turbo';
/** turbo's name for the repository root in `inputs` and `outputs`. */
export const TURBO_ROOT = '$TURBO_ROOT$';

// The lockfiles a Gatehouse cache key covers (docs/running.md#cache).
const LOCKFILES = [
  'package-lock.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'npm-shrinkwrap.json',
  '.yarnrc.yml',
];
// npm's rule for package names: no `#`, `/` only after a scope, nothing a task key could misread.
const PACKAGE_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/;

/** The task name of a gate: `gatehouse:lint` for every package's `lint`, `gatehouse:<id>` otherwise. */
export function taskName(gate: ResolvedGate): string {
  return `${TASK_PREFIX}${gate.package ? gate.package.gate : gate.id}`;
}

/** The turbo task id of a gate: `<package>#gatehouse:<gate>`, or `//#gatehouse:<id>` at the root. */
export function taskId(gate: ResolvedGate): string {
  return `${gate.package ? gate.package.name : '//'}#${taskName(gate)}`;
}

/** The result file of a gate, relative to the root. */
export function resultFile(gateId: string): string {
  return `${TURBO_RESULTS_DIR}/${gateId}.json`;
}

const hasMagic = (s: string) => /[*?[{]/.test(s);

/** The literal directory part of a glob body, where every path it matches lies. */
function baseOf(body: string): string {
  const out: string[] = [];
  for (const s of body.split('/')) {
    if (hasMagic(s)) break;
    out.push(s);
  }
  return out.join('/');
}

const overlaps = (a: string, b: string) =>
  a === '' || b === '' || a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);

/**
 * Gatehouse globs (relative to the root; the last pattern that matches decides, and a plain
 * path also matches everything under the directory it names) as turbo inputs or outputs (an exclusion
 * wins wherever it appears). An exclusion that a later pattern could override is dropped, so
 * turbo never hashes less than Gatehouse does.
 */
export function turboGlobs(globs: readonly string[]): string[] {
  const parsed = globs
    .filter((g) => g.trim() !== '')
    .map((g) => {
      const neg = g.startsWith('!');
      const body = (neg ? g.slice(1) : g).replace(/^(\.\/)+/, '').replace(/\/+$/, '');
      return { neg, body, base: baseOf(body) };
    });
  const kept = parsed.filter(
    (p, i) => !p.neg || parsed.slice(i + 1).every((q) => q.neg || !overlaps(p.base, q.base)),
  );
  // A plain path may name a directory, which stands for everything under it (docs/running.md#cache).
  return kept.flatMap((p) =>
    (hasMagic(p.body) ? [p.body] : [p.body, `${p.body}/**`]).map(
      (f) => `${p.neg ? '!' : ''}${TURBO_ROOT}/${f}`,
    ),
  );
}

/** What a task hashes: the config and lockfiles, the gate's inputs, minus what Gatehouse never reads. */
function inputsOf(pipeline: ResolvedPipeline, gate: ResolvedGate, configFile: string): string[] {
  const presets = (pipeline.presets ?? [])
    .map((p) =>
      posix.relative(pipeline.rootDir.split('\\').join('/'), p.file.split('\\').join('/')),
    )
    .filter((r) => r !== '' && !r.startsWith('../') && !r.split('/').includes('node_modules'));
  // A gate without inputs is keyed on every file of the project.
  const own = gate.inputs.length > 0 ? gate.inputs : ['**'];
  const namesModules = own.some(
    (g) => !g.startsWith('!') && baseOf(g).split('/').includes('node_modules'),
  );
  return [
    ...new Set([
      ...[configFile, ...presets, ...LOCKFILES].map((f) => `${TURBO_ROOT}/${f}`),
      ...turboGlobs(own),
      // turbo's own globs see ignored files too: keep out what Gatehouse never hashes, and turbo's logs.
      `!${TURBO_ROOT}/.git/**`,
      `!${TURBO_ROOT}/**/.git/**`,
      `!${TURBO_ROOT}/.gatehouse/**`,
      `!${TURBO_ROOT}/**/.gatehouse/**`,
      ...(namesModules ? [] : [`!${TURBO_ROOT}/**/node_modules/**`]),
      `!${TURBO_ROOT}/**/.turbo/**`,
    ]),
  ];
}

function emitError(path: string, message: string, hint?: string): Diagnostic {
  return {
    code: 'GH_TARGET_EMIT',
    severity: 'error',
    message,
    path,
    loc: null,
    ...(hint ? { hint } : {}),
  };
}

/** The turbo tasks and package scripts of `pipeline`. Throws `GH_TARGET_EMIT` for what turbo cannot name. */
export function buildTurboPlan(
  pipeline: ResolvedPipeline,
  options: TurboOptions,
  ctx: Pick<TargetContext, 'configFile'>,
): TurboPlan {
  const problems: Diagnostic[] = [];
  for (const g of pipeline.gates)
    if (g.package && !PACKAGE_NAME.test(g.package.name))
      problems.push(
        emitError(
          `gates.${g.package.gate}`,
          `package ${JSON.stringify(g.package.name)} cannot name a turbo task: turbo reads \`<package>#<task>\`, and npm package names are lowercase letters, digits and \`- . _ ~\`, with one \`@scope/\``,
          'rename the package, or leave it out with `packages: { match: [...] }`',
        ),
      );
  // turbo.json is written next to the config: `$TURBO_ROOT$` is that directory, and a `//` input
  // still in the pipeline names a workspace root above it, which no turbo glob reaches.
  for (const g of pipeline.gates)
    g.inputs.forEach((i, n) => {
      if (isRootGlob(i))
        problems.push(
          emitError(
            `gates.${g.id}.inputs[${n}]`,
            `\`${i}\` is a file of the workspace root ${pipeline.workspaceRoot ?? ''}, above the config directory, where the turbo target writes turbo.json ($TURBO_ROOT$)`,
            'keep the config of the turbo target at the workspace root, where `//x` is `$TURBO_ROOT$/x`',
          ),
        );
    });
  if (problems.length > 0)
    throw new GatehouseError('GH_TARGET_EMIT', problems[0]!.message, { diagnostics: problems });

  const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
  const remote = pipeline.cache?.remote === true ? Object.values(CI_REMOTE_CACHE_VARS) : [];
  const tasks: Record<string, TurboTask> = {};
  const scripts = new Map<string, Record<string, string>>([['.', {}]]);
  for (const g of pipeline.gates) {
    const dir = g.package ? g.package.dir : '.';
    const dependsOn = g.needs.map((n) => {
      const need = byId.get(n)!;
      return need.package && g.package && need.package.dir === g.package.dir
        ? taskName(need)
        : taskId(need);
    });
    const secrets = new Set(g.secrets);
    tasks[taskId(g)] = {
      dependsOn: [...new Set(dependsOn)].sort(),
      inputs: inputsOf(pipeline, g, ctx.configFile),
      outputs: [...turboGlobs(g.outputs), `${TURBO_ROOT}/${resultFile(g.id)}`],
      env: (g.when?.env ?? []).filter((n) => !secrets.has(n)).sort(),
      passThroughEnv: [...new Set([...g.secrets, ...remote, 'XDG_STATE_HOME'])].sort(),
      cache: true,
    };
    const up = dir === '.' ? '' : '../'.repeat(dir.split('/').length);
    const script = [
      options.cli,
      'run',
      '--config',
      shellQuote(`${up}${ctx.configFile}`),
      '--only',
      g.id,
      '--result-file',
      shellQuote(`${up}${resultFile(g.id)}`),
    ].join(' ');
    scripts.set(dir, { ...(scripts.get(dir) ?? {}), [taskName(g)]: script });
  }
  const sorted = Object.fromEntries(
    Object.entries(tasks).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  return { tasks: sorted, scripts };
}
