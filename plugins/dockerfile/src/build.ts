/**
 * Resolved pipeline -> the Dockerfile model (`model.ts`), laid out as `layout.ts` says, plus
 * the `.dockerignore` lines and the generated files the Dockerfile copies. `checks.ts` has
 * refused every value a Dockerfile cannot carry before anything is built.
 */
import { isAbsolute, posix, relative, sep } from 'node:path';
import { GatehouseError, generatedHeader } from '@gatehouse-ci/core';
import type { ReleasePackage, ResolvedGate, ResolvedPipeline } from '@gatehouse-ci/core';
import { dockerVerdictJudge, dockerVerdictSpec } from '@gatehouse-ci/report';
import { dockerfileProblems } from './checks.js';
import { dockerignoreLines } from './dockerignore.js';
import {
  BASE_STAGE,
  DEPLOY_ROOT,
  DEPLOY_STAGE,
  INLINE_COMMAND_LIMIT,
  JUDGE_ROOT,
  JUDGED_STAGE,
  RELEASE_STAGE,
  RELEASE_VERDICT_PATH,
  RESULTS_STAGE,
  SCRIPTS_DIR,
  SETUP_STAGE,
  VERDICT_JUDGE_FILE,
  VERDICT_SPEC_FILE,
  VERDICT_STAGE,
  resultStageName,
  stageName,
} from './layout.js';
import type {
  CopyInstruction,
  DockerfileModel,
  Instruction,
  Mount,
  RunInstruction,
  Stage,
} from './model.js';
import { DEFAULT_DOCKERFILE_OPTIONS, type DockerfileOptions } from './options.js';
import { containerPath, copySpec, tolerantSource } from './paths.js';
import { NPM_DEPLOY_SCRIPT } from './npm-deploy.js';
import { jsonString } from './print.js';
import {
  CA_SECRET_ID,
  CMD_ROOT,
  DEPLOY_ARGV0,
  GATE_ARGV0,
  OUT_ROOT,
  SETUP_ARGV0,
  deployCommand,
  npmDeployCommand,
  gateWrapper,
  setupWrapper,
  verdictCommand,
} from './wrapper.js';

/** What {@link buildDockerfile} produces: everything `print.ts` turns into files. */
export interface DockerfileBuild {
  /** Where the Dockerfile goes, relative to rootDir (the `path` option). */
  path: string;
  /** The typed Dockerfile. */
  model: DockerfileModel;
  /** The `.dockerignore` lines, its header comment first. */
  dockerignore: string[];
  /** Command files for commands too long for a Dockerfile line, keyed by path relative to rootDir. */
  scripts: Record<string, string>;
  /**
   * The verdict stage's judge and what it judges by ({@link VERDICT_JUDGE_FILE},
   * {@link VERDICT_SPEC_FILE}), keyed by path relative to rootDir: part of the build context
   * for a plain `docker build .`.
   */
  judge: Record<string, string>;
}

/** `ENV` pairs, sorted by name. */
function envVars(env: Record<string, string>): Array<[string, string]> {
  return Object.keys(env)
    .sort()
    .map((name) => [name, env[name] ?? '']);
}

function secretMounts(secrets: string[], ca: boolean): Mount[] {
  const mounts: Mount[] = secrets.map((id) => ({ type: 'secret', id }));
  if (ca) mounts.push({ type: 'secret', id: CA_SECRET_ID });
  return mounts;
}

interface CommandPlacement {
  /** argv tail after the wrapper: `[argv0, command]` or `[argv0]` with a file. */
  args: string[];
  commandFile: string | null;
  copy: CopyInstruction | null;
}

function placeCommand(
  key: string,
  command: string,
  argv0: string,
  scripts: Record<string, string>,
): CommandPlacement {
  if (jsonString(command).length <= INLINE_COMMAND_LIMIT)
    return { args: [argv0, command], commandFile: null, copy: null };
  const rel = `${SCRIPTS_DIR}/${key}.sh`;
  scripts[rel] = command;
  const commandFile = `${CMD_ROOT}/${key}.sh`;
  return { args: [argv0], commandFile, copy: { kind: 'COPY', sources: [rel], dest: commandFile } };
}

function copyGlobs(
  globs: string[],
  workdir: string,
  from?: string,
  chown?: string,
  destDir?: string,
): CopyInstruction[] {
  return globs.map((g) => {
    const spec = copySpec(g);
    const src = from === undefined ? spec.source : containerPath(workdir, spec.source);
    const dest = containerPath(destDir ?? workdir, spec.dest);
    return {
      kind: 'COPY',
      ...(from !== undefined ? { from } : {}),
      ...(chown !== undefined ? { chown } : {}),
      sources: [src],
      dest: spec.wildcard && !dest.endsWith('/') ? dest + '/' : dest,
    };
  });
}

function timeoutSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Build the Dockerfile model, the `.dockerignore` and any command files for a pipeline.
 * Throws `GatehouseError('GH_DOCKERFILE_UNREPRESENTABLE')` with located diagnostics
 * (from `checks.ts`) for config values a Dockerfile cannot carry safely.
 */
export function buildDockerfile(
  pipeline: ResolvedPipeline,
  options: Partial<DockerfileOptions> = {},
  ctx: { configFile?: string } = {},
): DockerfileBuild {
  const opts: DockerfileOptions = { ...DEFAULT_DOCKERFILE_OPTIONS, ...options };
  const problems = dockerfileProblems(pipeline);
  if (problems.length > 0) {
    throw new GatehouseError(
      'GH_DOCKERFILE_UNREPRESENTABLE',
      `the pipeline cannot be written as a Dockerfile safely (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      { diagnostics: problems },
    );
  }
  const withCa = opts.ca !== 'none';
  const scripts: Record<string, string> = {};
  const workdir = pipeline.workdir;

  // base
  const stages: Stage[] = [
    {
      name: BASE_STAGE,
      from: pipeline.image,
      comments: [
        'Stage layout: base, setup, gate-<id>, result-<id>, gatehouse-results, gatehouse-verdict, gatehouse-judged, release.',
      ],
      instructions: [{ kind: 'WORKDIR', path: workdir }],
    },
  ];

  // setup
  const setupIns: Instruction[] = [];
  const setup = pipeline.setup;
  if (setup !== null) {
    const env = envVars(setup.env);
    if (env.length > 0) setupIns.push({ kind: 'ENV', vars: env });
    setupIns.push(...copyGlobs(setup.inputs, workdir));
    const place = placeCommand('setup', setup.run, SETUP_ARGV0, scripts);
    if (place.copy) setupIns.push(place.copy);
    const mounts = secretMounts(setup.secrets, withCa);
    if (opts.npmCache)
      mounts.push({ type: 'cache', id: 'gatehouse-npm', target: '/root/.npm', sharing: 'locked' });
    const wrapper = setupWrapper({
      id: 'setup',
      timeoutSeconds: timeoutSeconds(setup.timeoutMs),
      secrets: setup.secrets,
      ca: withCa,
      commandFile: place.commandFile,
    });
    setupIns.push({ kind: 'RUN', mounts, argv: ['/bin/sh', '-c', wrapper, ...place.args] });
  }
  setupIns.push({ kind: 'COPY', sources: ['.'], dest: '.' });
  stages.push({ name: SETUP_STAGE, from: BASE_STAGE, instructions: setupIns });

  // gates
  const gateById = new Map(pipeline.gates.map((g) => [g.id, g]));
  for (const gate of pipeline.gates)
    stages.push(gateStage(gate, pipeline, gateById, scripts, withCa));

  // results
  const resultCopies = (g: ResolvedGate): CopyInstruction => ({
    kind: 'COPY',
    from: stageName(g.id),
    sources: [`${OUT_ROOT}/${g.id}`],
    dest: `/${g.id}`,
  });
  for (const g of pipeline.gates) {
    stages.push({ name: resultStageName(g.id), from: 'scratch', instructions: [resultCopies(g)] });
  }
  stages.push({
    name: RESULTS_STAGE,
    from: 'scratch',
    instructions: pipeline.gates.map(resultCopies),
  });

  // verdict: Gatehouse's own judge (evidence, policies, modes), bundled, over every result
  // The judge never changes with the config; the spec does, so it rides in the Dockerfile
  // (which is not in the build context): a gate edit must not change setup's `COPY . .`.
  const judge: Record<string, string> = {};
  judge[VERDICT_JUDGE_FILE] = dockerVerdictJudge();
  const specJson = JSON.stringify(dockerVerdictSpec(workdir, pipeline.gates));
  const specInline = jsonString(specJson).length <= INLINE_COMMAND_LIMIT;
  const baselines = [
    ...new Set(
      pipeline.gates.flatMap((g) =>
        g.policy.baseline === undefined ? [] : [posix.normalize(g.policy.baseline)],
      ),
    ),
  ].sort();
  if (!specInline) judge[VERDICT_SPEC_FILE] = `${specJson}\n`;
  stages.push({
    name: VERDICT_STAGE,
    from: BASE_STAGE,
    instructions: [
      { kind: 'COPY', from: RESULTS_STAGE, sources: ['/'], dest: '/gatehouse/results/' },
      {
        kind: 'COPY',
        sources: specInline ? [VERDICT_JUDGE_FILE] : [VERDICT_JUDGE_FILE, VERDICT_SPEC_FILE],
        dest: `${JUDGE_ROOT}/`,
      },
      // Baseline reports (`policy.baseline`, relative to the config) where the judge looks.
      ...baselines.map((b): Instruction => ({
        kind: 'COPY',
        sources: [b],
        dest: posix.join(workdir, b),
      })),
      {
        kind: 'RUN',
        mounts: [],
        argv: [
          '/bin/sh',
          '-c',
          verdictCommand(JUDGE_ROOT),
          'gatehouse-verdict',
          specInline ? specJson : `${JUDGE_ROOT}/verdict.json`,
        ],
      },
    ],
  });

  // release
  const release = pipeline.release;
  if (release !== null) {
    stages.push({
      name: JUDGED_STAGE,
      from: stageName(release.from),
      instructions: [
        {
          kind: 'COPY',
          from: VERDICT_STAGE,
          sources: ['/gatehouse/verdict.txt'],
          dest: '/gatehouse/judged.txt',
        },
      ],
    });
    const env = envVars(release.env);
    const ins: Instruction[] = [
      { kind: 'WORKDIR', path: release.workdir },
      // Depending on the verdict is what makes `docker build` refuse a failing pipeline.
      {
        kind: 'COPY',
        from: VERDICT_STAGE,
        sources: ['/gatehouse/verdict.txt'],
        dest: RELEASE_VERDICT_PATH,
      },
    ];
    if (env.length > 0) ins.push({ kind: 'ENV', vars: env });
    const pkg = release.package;
    if (pkg === undefined) {
      ins.push(...copyGlobs(release.copy, workdir, JUDGED_STAGE, release.user, release.workdir));
    } else {
      stages.push(deployStage(pkg, setup, withCa));
      // `copy` is under the package's directory, and lands at the same place under the
      // release's workdir; the deployed package.json and node_modules come last, so they win.
      const own = release.copy.map((c) => posix.relative(pkg.dir, c) || '.');
      const pkgRoot = posix.join(workdir, pkg.dir);
      ins.push(...copyGlobs(own, pkgRoot, JUDGED_STAGE, release.user, release.workdir));
      // A package without production dependencies may have no node_modules.
      for (const [name, source] of [
        ['package.json', `${DEPLOY_ROOT}/package.json`],
        ['node_modules', tolerantSource(`${DEPLOY_ROOT}/node_modules`)],
      ] as const)
        ins.push({
          kind: 'COPY',
          from: DEPLOY_STAGE,
          chown: release.user,
          sources: [source],
          dest: containerPath(release.workdir, name),
        });
    }
    ins.push({ kind: 'USER', user: release.user });
    if (release.expose.length > 0) ins.push({ kind: 'EXPOSE', ports: [...release.expose] });
    ins.push({ kind: 'CMD', argv: release.cmd });
    stages.push({ name: RELEASE_STAGE, from: release.image, instructions: ins });
  }

  const header = generatedHeader(ctx.configFile ?? 'gatehouse.yml');
  const configFile = contextPath(pipeline) ?? ctx.configFile ?? 'gatehouse.yml';
  return {
    path: opts.path,
    model: { header, stages },
    dockerignore: dockerignoreLines(pipeline, header, opts.path, configFile),
    scripts,
    judge,
  };
}

function gateStage(
  gate: ResolvedGate,
  pipeline: ResolvedPipeline,
  gateById: Map<string, ResolvedGate>,
  scripts: Record<string, string>,
  withCa: boolean,
): Stage {
  const env = envVars(gate.env);
  const ins: Instruction[] = [];
  const needs = gate.needs.filter((n) => gateById.has(n));
  const sameImage = gate.image === pipeline.image;
  let from: string;
  if (needs.length === 1 && sameImage && gateById.get(needs[0] as string)?.image === gate.image) {
    from = stageName(needs[0] as string);
  } else {
    from = sameImage ? SETUP_STAGE : gate.image;
    if (!sameImage) {
      ins.push({ kind: 'WORKDIR', path: pipeline.workdir });
      ins.push({
        kind: 'COPY',
        from: SETUP_STAGE,
        sources: [pipeline.workdir],
        dest: pipeline.workdir,
      });
    }
    for (const n of needs) {
      const need = gateById.get(n) as ResolvedGate;
      ins.push({
        kind: 'COPY',
        from: stageName(n),
        sources: [`${OUT_ROOT}/${n}`],
        dest: `${OUT_ROOT}/${n}`,
      });
      // A failed need may not have produced its outputs: a wildcard source tolerates that.
      for (const c of copyGlobs(need.outputs, pipeline.workdir, stageName(n))) {
        ins.push({ ...c, sources: c.sources.map(tolerantSource) });
      }
    }
  }
  if (env.length > 0) ins.push({ kind: 'ENV', vars: env });
  // `when.env` names that are not secrets arrive as build args (`--build-arg NAME`): they
  // hold configuration such as a server URL, never credentials.
  const when = gate.when?.env ?? [];
  for (const name of when) if (!gate.secrets.includes(name)) ins.push({ kind: 'ARG', name });
  const place = placeCommand(stageName(gate.id), gate.run, GATE_ARGV0, scripts);
  if (place.copy) ins.push(place.copy);
  const wrapper = gateWrapper({
    id: gate.id,
    timeoutSeconds: timeoutSeconds(gate.timeoutMs),
    secrets: gate.secrets,
    ca: withCa,
    commandFile: place.commandFile,
    needs,
    when,
  });
  const run: RunInstruction = {
    kind: 'RUN',
    mounts: secretMounts(gate.secrets, withCa),
    argv: ['/bin/sh', '-c', wrapper, ...place.args],
  };
  ins.push(run);
  return { name: stageName(gate.id), from, instructions: ins };
}

/**
 * The judged stage with the release's workspace package deployed into {@link DEPLOY_ROOT}:
 * its production dependencies, and its workspace dependencies as the gates built them.
 */
function deployStage(
  pkg: ReleasePackage,
  setup: ResolvedPipeline['setup'],
  withCa: boolean,
): Stage {
  if (pkg.manager === 'npm' || pkg.manager === 'yarn')
    return {
      name: DEPLOY_STAGE,
      from: JUDGED_STAGE,
      instructions: [
        {
          kind: 'RUN',
          mounts: [],
          argv: [
            '/bin/sh',
            '-c',
            npmDeployCommand(),
            DEPLOY_ARGV0,
            pkg.manager,
            pkg.name,
            pkg.dir,
            DEPLOY_ROOT,
            NPM_DEPLOY_SCRIPT,
          ],
        },
      ],
    };
  const secrets = setup?.secrets ?? [];
  return {
    name: DEPLOY_STAGE,
    from: JUDGED_STAGE,
    instructions: [
      {
        kind: 'RUN',
        mounts: secretMounts(secrets, withCa),
        argv: [
          '/bin/sh',
          '-c',
          deployCommand({ secrets, ca: withCa }),
          DEPLOY_ARGV0,
          pkg.name,
          DEPLOY_ROOT,
        ],
      },
    ],
  };
}

/** The config file relative to the build context (the config's directory), or null. */
function contextPath(pipeline: ResolvedPipeline): string | null {
  if (!pipeline.configPath || !pipeline.rootDir) return null;
  const rel = relative(pipeline.rootDir, pipeline.configPath).split(sep).join('/');
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? null : rel;
}
