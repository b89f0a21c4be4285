/**
 * `gatehouse import`: a hand-written multi-stage "Dockerfile as CI" (builder, linting,
 * sonarqube, unit-tests, access-tests, serve) -> a gatehouse.yml, plus the problems the
 * original has, each with its line.
 */
import { stringifyYaml } from '@gatehouse-ci/core';
import type { YamlValue } from '@gatehouse-ci/core';
import { parseAssignments, parseDockerfile, parseExecForm } from './parse.js';
import type { RawDockerfile, RawInstruction, RawStage } from './parse.js';

/** Stable codes of import findings. */
export const IMPORT_FINDINGS = {
  /** BuildKit builds only what the target needs: this stage never runs on `docker build .`. */
  UNREACHABLE_STAGE: 'GH_IMPORT_UNREACHABLE_STAGE',
  /** A code scanner stage (SonarQube) that no build ever runs. */
  SCANNER_NEVER_RUNS: 'GH_IMPORT_SCANNER_NEVER_RUNS',
  /** `RUN npm start` starts a server inside the build: it never ends. */
  RUN_NEVER_ENDS: 'GH_IMPORT_RUN_NEVER_ENDS',
  /** `["…"]` that is not valid JSON (curly or single quotes): silently run as shell form. */
  EXEC_FORM_NOT_JSON: 'GH_IMPORT_EXEC_FORM_NOT_JSON',
  /** `npm lint`: not an npm command (`npm run lint` is). */
  NPM_NOT_A_COMMAND: 'GH_IMPORT_NPM_NOT_A_COMMAND',
  /** `FROM x`, `FROM x:latest`: not reproducible. */
  UNPINNED_IMAGE: 'GH_IMPORT_UNPINNED_IMAGE',
  /** A token-like name in ARG/ENV: its value ends up in the image or its history. */
  SECRET_IN_ARG_ENV: 'GH_IMPORT_SECRET_IN_ARG_ENV',
  /** A failing RUN in a check stage aborts the build and loses every other stage's evidence. */
  CHECK_ABORTS_BUILD: 'GH_IMPORT_CHECK_ABORTS_BUILD',
  /** A check stage with no RUN checks nothing: imported as a real scan, or a gate that fails until given a command. */
  STAGE_WITHOUT_COMMAND: 'GH_IMPORT_STAGE_WITHOUT_COMMAND',
  /** The release stage has no CMD: the imported `cmd` is a guess to check. */
  NO_CMD: 'GH_IMPORT_NO_CMD',
} as const;

/** A scan that fails when the server's quality gate fails (the token is a secret, the server URL a condition). */
const SONAR_SCAN = 'npx @sonar/scan -Dsonar.qualitygate.wait=true';

/** Whether a COPY source is a file pattern (`package*`) rather than a directory. */
function isFileGlob(path: string): boolean {
  return /[*?[]/.test(path.split('/').pop() ?? '');
}

/** A COPY source as a release `copy` entry: files and file globs as they are, directories with `/`. */
function copyEntry(path: string): string {
  return /\.[A-Za-z0-9]+$/.test(path) || isFileGlob(path) ? path : `${path}/`;
}

/** One problem in the original Dockerfile. */
export interface ImportFinding {
  code: string;
  /** 1-based line in the original file. */
  line: number;
  message: string;
  /** What the generated gatehouse.yml does about it. */
  fix: string;
}

/** What {@link importDockerfile} returns. */
export interface ImportResult {
  /** The generated gatehouse.yml text. */
  yaml: string;
  /** The config as data (what `yaml` serialises). */
  config: Record<string, YamlValue>;
  /** Problems found in the original, by line. */
  findings: ImportFinding[];
}

/** Options of {@link importDockerfile}. */
export interface ImportOptions {
  /** `name:` of the generated config. @default 'imported' */
  name?: string;
  /** File name shown in the generated header. @default 'Dockerfile' */
  source?: string;
}

const SECRET_NAME_RE = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL/i;
const SCANNER_RE = /sonar/i;
const NEVER_ENDING_RE =
  /\b(?:npm|pnpm|yarn)\s+(?:run\s+)?(?:start|serve|dev)\b|\bnode\s+\S*server\b/;
// npm's own commands (and common aliases); anything else after `npm` is a script name.
const NPM_COMMANDS = new Set(
  (
    'access adduser audit bugs cache ci clean-install completion config dedupe deprecate diff dist-tag docs doctor edit exec ' +
    'explain explore find-dupes fund get help help-search hook init install install-ci-test install-test link ll login logout ls ' +
    'org outdated owner pack ping pkg prefix profile prune publish query rebuild repo restart root run run-script sbom search set ' +
    'shrinkwrap star stars start stop team test token uninstall unpublish unstar update version view whoami i in ins inst insta ' +
    'instal isnt isnta isntal add it cit ci rm r un unlink remove t tst c x up upgrade udpate ln home s se find list la author ' +
    'issues info show v dist-tags create innit verison why'
  ).split(' '),
);

/** Stage names as gate ids: lower case, `[a-z0-9-]`, starting with a letter. */
function gateId(name: string, used: Set<string>): string {
  let id = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63);
  if (id === '') id = 'gate';
  let unique = id;
  for (let n = 2; used.has(unique); n++) unique = `${id.slice(0, 60)}-${n}`;
  used.add(unique);
  return unique;
}

function stageLabel(s: RawStage): string {
  return s.name ?? String(s.index);
}

/** Stage referenced by a `--from`/`FROM` value, if it names an earlier stage. */
function stageRef(df: RawDockerfile, ref: string, before: number): RawStage | null {
  const lower = ref.toLowerCase();
  if (/^\d+$/.test(lower)) return df.stages[Number(lower)] ?? null;
  return df.stages.slice(0, before).find((s) => s.name === lower) ?? null;
}

/** Stages each stage depends on: FROM <stage>, COPY --from, RUN --mount=…,from=. */
function dependencies(df: RawDockerfile, s: RawStage): RawStage[] {
  const deps = new Set<RawStage>();
  const add = (ref: string | undefined): void => {
    if (!ref) return;
    const d = stageRef(df, ref, s.index);
    if (d) deps.add(d);
  };
  add(s.from);
  for (const ins of s.instructions) {
    if (ins.keyword === 'COPY' || ins.keyword === 'ADD') add(ins.flags['from']);
    for (const m of ins.mounts) add(/(?:^|,)from=([^,]+)/.exec(m)?.[1]);
  }
  return [...deps];
}

function reachableFromLast(df: RawDockerfile): Set<RawStage> {
  const seen = new Set<RawStage>();
  const last = df.stages[df.stages.length - 1];
  const stack = last ? [last] : [];
  while (stack.length > 0) {
    const s = stack.pop() as RawStage;
    if (seen.has(s)) continue;
    seen.add(s);
    stack.push(...dependencies(df, s));
  }
  return seen;
}

/** Resolve `${VAR}`/`$VAR` in a FROM line from global ARG defaults. */
function expandArgs(text: string, args: Map<string, string>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, a, dflt, b) => {
      const name = (a ?? b) as string;
      return args.get(name) ?? (dflt as string | undefined) ?? '';
    },
  );
}

function isPinned(image: string): boolean {
  if (image.includes('@sha256:')) return true;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon >= 0 && lastSegment.slice(colon + 1) !== 'latest';
}

/** Shell-quote one word for a generated `run:` (only when needed). */
function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** Exec form with curly or single quotes, as the author meant it; null if not recoverable. */
function recoverExecForm(args: string): string[] | null {
  const straight = args.replace(/[\u201c\u201d\u201e\u2033]/g, '"').replace(/[\u2018\u2019]/g, "'");
  const asJson = straight.replace(/'([^']*)'/g, (_m, inner: string) => JSON.stringify(inner));
  return parseExecForm(asJson);
}

interface Command {
  text: string;
  ins: RawInstruction;
}

/** RUN instructions of a stage as shell command text, with findings for each. */
function runCommands(s: RawStage, findings: ImportFinding[]): Command[] {
  const out: Command[] = [];
  for (const ins of s.instructions) {
    if (ins.keyword !== 'RUN') continue;
    let text = ins.args;
    if (ins.args.startsWith('[')) {
      const exec = parseExecForm(ins.args);
      if (exec) text = exec.map(shellWord).join(' ');
      else {
        const recovered = recoverExecForm(ins.args);
        findings.push({
          code: IMPORT_FINDINGS.EXEC_FORM_NOT_JSON,
          line: ins.line,
          message: `\`RUN ${ins.args}\` is not valid JSON (curly or single quotes), so the builder runs it as a shell command line`,
          fix: recovered
            ? `imported as \`${recovered.map(shellWord).join(' ')}\``
            : 'imported as written; check it',
        });
        if (recovered) text = recovered.map(shellWord).join(' ');
      }
    }
    const npm = /(^|[;&|(]\s*|\s)npm\s+([a-z][a-z0-9:_-]*)/g;
    text = text.replace(npm, (whole, pre: string, cmd: string) => {
      if (NPM_COMMANDS.has(cmd)) return whole;
      findings.push({
        code: IMPORT_FINDINGS.NPM_NOT_A_COMMAND,
        line: ins.line,
        message: `\`npm ${cmd}\` is not an npm command, so this step fails (\`npm run ${cmd}\` runs the script)`,
        fix: `imported as \`npm run ${cmd}\``,
      });
      return `${pre}npm run ${cmd}`;
    });
    out.push({ text, ins });
  }
  return out;
}

function guessKind(id: string, commands: string): string {
  const hay = `${id} ${commands}`.toLowerCase();
  if (/sonar/.test(hay)) return 'sonarqube';
  if (/lint|eslint|stylelint/.test(hay)) return 'lint';
  if (/access|a11y|pa11y|axe/.test(hay)) return 'a11y-test';
  if (/unit|jest|vitest|mocha|\btest/.test(hay)) return 'unit-test';
  if (/build|tsc|webpack|vite|rollup/.test(hay)) return 'build';
  return 'custom';
}

function relativeTo(workdir: string, path: string): string {
  const base = workdir.replace(/\/+$/, '') + '/';
  const p = path.startsWith(base) ? path.slice(base.length) : path.replace(/^\.\//, '');
  return p.replace(/^\/+/, '');
}

/**
 * Read a hand-written multi-stage Dockerfile and produce the equivalent gatehouse.yml
 * and the list of problems of the original.
 */
export function importDockerfile(text: string, options: ImportOptions = {}): ImportResult {
  const df = parseDockerfile(text);
  const findings: ImportFinding[] = [];
  const argDefaults = new Map<string, string>();
  for (const a of df.globalArgs) {
    for (const { name, value } of parseAssignments('ARG', a.args))
      if (value !== null) argDefaults.set(name, value);
  }
  const stageNames = new Set(df.stages.map((s) => s.name).filter((n): n is string => n !== null));
  const reachable = reachableFromLast(df);
  const last = df.stages[df.stages.length - 1];

  // Per-stage problems that do not depend on the conversion.
  for (const s of df.stages) {
    const image = expandArgs(s.from, argDefaults);
    if (
      !stageNames.has(s.from.toLowerCase()) &&
      s.from.toLowerCase() !== 'scratch' &&
      !isPinned(image)
    ) {
      findings.push({
        code: IMPORT_FINDINGS.UNPINNED_IMAGE,
        line: s.line,
        message: `\`FROM ${s.from}\` is not pinned: each build may get a different image`,
        fix: 'kept as written; pin a version tag or a digest in gatehouse.yml',
      });
    }
    const runsScanner =
      s.instructions.some((i) => i.keyword === 'RUN' && SCANNER_RE.test(i.args)) ||
      SCANNER_RE.test(s.name ?? '');
    if (!reachable.has(s)) {
      findings.push({
        code: IMPORT_FINDINGS.UNREACHABLE_STAGE,
        line: s.line,
        message: `stage \`${stageLabel(s)}\` is not needed by the final stage, so BuildKit skips it on \`docker build .\``,
        fix: 'imported as a gate: the generated Dockerfile runs every gate and collects its result',
      });
      if (runsScanner) {
        findings.push({
          code: IMPORT_FINDINGS.SCANNER_NEVER_RUNS,
          line: s.line,
          message: `scanner stage \`${stageLabel(s)}\` never runs, so its quality gate is never checked`,
          fix: 'imported as a sonarqube gate whose token is a secret',
        });
      }
    }
    for (const ins of [...s.instructions, ...(s.index === 0 ? df.globalArgs : [])]) {
      if (ins.keyword !== 'ARG' && ins.keyword !== 'ENV') continue;
      for (const { name } of parseAssignments(ins.keyword, ins.args)) {
        if (SECRET_NAME_RE.test(name)) {
          findings.push({
            code: IMPORT_FINDINGS.SECRET_IN_ARG_ENV,
            line: ins.line,
            message: `\`${ins.keyword} ${name}\` looks like a secret: ${ins.keyword} values stay in the image or its history`,
            fix: `declared as secret \`${name.toUpperCase()}\` (a BuildKit secret mount at run time; the value is not imported)`,
          });
        }
      }
    }
  }

  // The builder ("setup"): the first stage other stages build on.
  const derivedFrom = (s: RawStage): RawStage | null => stageRef(df, s.from, s.index);
  const setupStage =
    df.stages.find((s) => derivedFrom(s) === null && df.stages.some((o) => derivedFrom(o) === s)) ??
    null;
  const releaseStage = last && derivedFrom(last) === null && last !== setupStage ? last : null;
  const gateStages = df.stages.filter((s) => s !== setupStage && s !== releaseStage);

  const workdirOf = (s: RawStage | null): string | null => {
    let w: string | null = null;
    for (let cur: RawStage | null = s; cur && w === null; cur = derivedFrom(cur)) {
      const ws = cur.instructions.filter((i) => i.keyword === 'WORKDIR');
      if (ws.length > 0) w = (ws[ws.length - 1] as RawInstruction).args;
    }
    return w;
  };

  const used = new Set<string>();
  const ids = new Map<RawStage, string>(
    gateStages.map((s) => [s, gateId(s.name ?? `stage-${s.index}`, used)]),
  );
  const config: Record<string, YamlValue> = { version: 1, name: options.name ?? 'imported' };
  const baseStage = setupStage ?? gateStages[0] ?? null;
  if (baseStage) config['image'] = expandArgs(baseStage.from, argDefaults);
  const workdir = workdirOf(baseStage) ?? '/app';
  config['workdir'] = workdir;

  const secretsOf = (s: RawStage): string[] => {
    const names: string[] = [];
    for (const ins of s.instructions) {
      if (ins.keyword !== 'ARG' && ins.keyword !== 'ENV') continue;
      for (const { name } of parseAssignments(ins.keyword, ins.args))
        if (SECRET_NAME_RE.test(name)) names.push(name.toUpperCase());
    }
    for (const ins of s.instructions) {
      for (const m of ins.mounts) {
        const id = /(?:^|,)type=secret(?:,|$)/.test(m)
          ? /(?:^|,)id=([^,]+)/.exec(m)?.[1]
          : undefined;
        if (id && /^[A-Za-z_][A-Za-z0-9_]*$/.test(id)) names.push(id.toUpperCase());
      }
    }
    return names;
  };
  const envOf = (s: RawStage): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const ins of s.instructions) {
      if (ins.keyword !== 'ENV') continue;
      for (const { name, value } of parseAssignments('ENV', ins.args)) {
        if (!SECRET_NAME_RE.test(name) && value !== null && /^[A-Z_][A-Z0-9_]*$/.test(name))
          env[name] = value;
      }
    }
    return env;
  };

  // Secrets declared in the builder go to the gates that use them (scanner tokens) or to setup.
  const setupSecrets: string[] = [];
  const extraGateSecrets = new Map<RawStage, string[]>();
  if (setupStage) {
    for (const name of secretsOf(setupStage)) {
      const users = SCANNER_RE.test(name)
        ? gateStages.filter(
            (g) =>
              guessKind(ids.get(g) ?? '', g.instructions.map((i) => i.args).join(' ')) ===
              'sonarqube',
          )
        : [];
      if (users.length === 0) setupSecrets.push(name);
      for (const u of users) extraGateSecrets.set(u, [...(extraGateSecrets.get(u) ?? []), name]);
    }
  }

  if (setupStage) {
    const commands = runCommands(setupStage, findings);
    const inputs: string[] = [];
    for (const ins of setupStage.instructions) {
      if (ins.keyword === 'RUN') break;
      if ((ins.keyword === 'COPY' || ins.keyword === 'ADD') && !ins.flags['from']) {
        const words = parseExecForm(ins.args) ?? ins.args.split(/\s+/);
        for (const src of words.slice(0, -1))
          if (src !== '.' && src !== './') inputs.push(src.replace(/^\.\//, ''));
      }
    }
    const setup: Record<string, YamlValue> = {
      run: commands.map((c) => c.text).join(' && ') || 'true',
    };
    if (inputs.length > 0) setup['inputs'] = inputs;
    const env = envOf(setupStage);
    if (Object.keys(env).length > 0) setup['env'] = env;
    if (setupSecrets.length > 0) setup['secrets'] = [...new Set(setupSecrets)].sort();
    config['setup'] = setup;
  }

  // Outputs: what the release copies out of a gate stage.
  const outputs = new Map<RawStage, string[]>();
  const releaseCopies: Array<{ stage: RawStage; path: string }> = [];
  if (releaseStage) {
    for (const ins of releaseStage.instructions) {
      if (ins.keyword !== 'COPY' || !ins.flags['from']) continue;
      const from = stageRef(df, ins.flags['from'], releaseStage.index);
      if (!from) continue;
      const words = parseExecForm(ins.args) ?? ins.args.split(/\s+/);
      const fromDir = workdirOf(from) ?? workdir;
      for (const src of words.slice(0, -1)) {
        const rel = relativeTo(fromDir, src);
        if (rel === '') continue;
        releaseCopies.push({ stage: from, path: rel });
        if (ids.has(from) && !/\.[A-Za-z0-9]+$/.test(rel))
          outputs.set(from, [...(outputs.get(from) ?? []), isFileGlob(rel) ? rel : `${rel}/**`]);
      }
    }
  }

  const gates: Record<string, YamlValue> = {};
  for (const s of gateStages) {
    const id = ids.get(s) as string;
    const commands = runCommands(s, findings);
    let run = commands.map((c) => c.text).join(' && ');
    const kind = guessKind(id, run);
    const gate: Record<string, YamlValue> = { kind, run };
    if (run === '') {
      // A stage without RUN checks nothing: never import it as a gate that passes.
      const scan = kind === 'sonarqube';
      run = scan
        ? SONAR_SCAN
        : `echo "gate ${id}: its stage in the Dockerfile had no command; write the check here" >&2; exit 1`;
      gate['run'] = run;
      findings.push({
        code: IMPORT_FINDINGS.STAGE_WITHOUT_COMMAND,
        line: s.line,
        message: `stage \`${id}\` has no RUN, so it checks nothing (a gate for it would always pass)`,
        fix: scan
          ? `imported as \`${SONAR_SCAN}\` with SONAR_TOKEN as a secret, run when SONAR_HOST_URL is set`
          : `imported as a gate that fails until you write its command`,
      });
    }
    const parent = derivedFrom(s);
    const needs = parent && ids.has(parent) ? [ids.get(parent) as string] : [];
    if (needs.length > 0) gate['needs'] = needs;
    const env = envOf(s);
    if (Object.keys(env).length > 0) gate['env'] = env;
    const secrets = [...new Set([...secretsOf(s), ...(extraGateSecrets.get(s) ?? [])])].sort();
    if (secrets.length > 0) gate['secrets'] = secrets;
    if (gate['kind'] === 'sonarqube') {
      if (run === SONAR_SCAN) {
        gate['secrets'] = [...new Set([...secrets, 'SONAR_TOKEN'])].sort();
        if (!('SONAR_HOST_URL' in env)) gate['when'] = { env: ['SONAR_HOST_URL'] };
      }
      gate['mode'] = 'advisory';
    }
    const outs = outputs.get(s);
    if (outs) gate['outputs'] = [...new Set(outs)];
    if (!stageRef(df, s.from, s.index)) gate['image'] = expandArgs(s.from, argDefaults);
    gates[id] = gate;
    const failing = commands[0];
    if (failing && gate['kind'] !== 'build' && gate['kind'] !== 'custom') {
      findings.push({
        code: IMPORT_FINDINGS.CHECK_ABORTS_BUILD,
        line: failing.ins.line,
        message: `when this check fails the whole build stops and the other stages' results are lost`,
        fix: `gate \`${id}\` records its exit code, log and evidence and always completes; a verdict stage decides`,
      });
    }
  }
  config['gates'] = gates;

  if (releaseStage) {
    let cmd: string[] | null = null;
    for (const ins of releaseStage.instructions) {
      if (ins.keyword === 'CMD')
        cmd = parseExecForm(ins.args) ?? recoverExecForm(ins.args) ?? ['/bin/sh', '-c', ins.args];
      const exec = ins.keyword === 'RUN' ? parseExecForm(ins.args) : null;
      if (ins.keyword === 'RUN' && NEVER_ENDING_RE.test(exec ? exec.join(' ') : ins.args)) {
        if (!cmd) cmd = exec ?? ins.args.split(/\s+/);
        findings.push({
          code: IMPORT_FINDINGS.RUN_NEVER_ENDS,
          line: ins.line,
          message: `\`RUN ${ins.args}\` starts the server during the build: the build never ends`,
          fix: `imported as the release command: CMD ${JSON.stringify(cmd)} (exec form)`,
        });
      }
    }
    const counts = new Map<RawStage, number>();
    for (const c of releaseCopies)
      if (ids.has(c.stage)) counts.set(c.stage, (counts.get(c.stage) ?? 0) + 1);
    const from =
      [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ??
      gateStages[gateStages.length - 1];
    if (from && !cmd) {
      findings.push({
        code: IMPORT_FINDINGS.NO_CMD,
        line: releaseStage.line,
        message: `the final stage \`${releaseStage.name ?? 'release'}\` has no CMD: nothing says how the image starts`,
        fix: 'imported as `npm start` (your start script, with package.json copied): check it',
      });
    }
    if (from) {
      const release: Record<string, YamlValue> = {
        from: ids.get(from) as string,
        copy: [...new Set(releaseCopies.map((c) => copyEntry(c.path)))],
        cmd: cmd ?? ['npm', 'start'],
        image: expandArgs(releaseStage.from, argDefaults),
      };
      const expose = releaseStage.instructions
        .filter((i) => i.keyword === 'EXPOSE')
        .flatMap((i) => i.args.split(/\s+/))
        .map((p) => Number.parseInt(p, 10))
        .filter((p) => Number.isInteger(p) && p > 0 && p < 65536);
      if (expose.length > 0) release['expose'] = expose;
      const rw = workdirOf(releaseStage);
      if (rw) release['workdir'] = rw;
      const user = releaseStage.instructions.filter((i) => i.keyword === 'USER').pop();
      if (user) release['user'] = user.args;
      const env = envOf(releaseStage);
      if (Object.keys(env).length > 0) release['env'] = env;
      config['release'] = release;
    }
  }
  config['targets'] = { dockerfile: {} };

  findings.sort((a, b) => a.line - b.line || a.code.localeCompare(b.code));
  const source = /^[\x20-\x7e]*$/.test(options.source ?? '')
    ? (options.source ?? 'Dockerfile')
    : 'Dockerfile';
  const yaml = stringifyYaml(config, {
    header: [
      `imported by \`gatehouse import\` from ${source}: review it, then run \`gatehouse compile\``,
    ],
  });
  return { yaml, config, findings };
}
