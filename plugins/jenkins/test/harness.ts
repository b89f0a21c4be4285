/**
 * Runs the Groovy recording harness (harness/JenkinsfileHarness.groovy) on many
 * Jenkinsfiles in one JVM, and maps the emitter's model to the JSON the harness records.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type {
  Agent,
  DeclarativePipeline,
  EnvironmentEntry,
  OptionDirective,
  Post,
  Stage,
  Step,
} from '../src/index.js';
import { POST_CONDITIONS } from '../src/index.js';

const execFileAsync = promisify(execFile);

export const HARNESS = fileURLToPath(
  new URL('./harness/JenkinsfileHarness.groovy', import.meta.url),
);
const JAVA_HOME = process.env.JAVA_HOME ?? '/usr/lib/jvm/java-17-openjdk-amd64';
const GROOVY = process.env.GATEHOUSE_GROOVY ?? '/usr/bin/groovy';

/** What the harness prints per file. */
export interface HarnessResult {
  file: string;
  ok: boolean;
  error?: string;
  pipeline?: RecordedPipeline;
}

/** The structure the harness records (plain JSON). */
export type RecordedPipeline = Record<string, unknown>;

/**
 * Whether the Groovy oracle can run. Missing groovy under `CI=true` is a failure, not
 * a skip: the tests that need it must not pass without it.
 */
export function groovyAvailable(): boolean {
  const ok = existsSync(GROOVY) && existsSync(JAVA_HOME);
  if (!ok && process.env.CI === 'true') {
    throw new Error(
      `groovy oracle missing (${GROOVY}, JAVA_HOME=${JAVA_HOME}): install Debian groovy (scripts/setup.sh --system)`,
    );
  }
  if (!ok)
    console.warn(`[jenkins] skipping Groovy oracle tests: ${GROOVY} or ${JAVA_HOME} not found`);
  return ok;
}

/** Runs the harness once over `texts`; results in the same order. */
export async function runHarness(texts: readonly string[]): Promise<HarnessResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-jenkins-'));
  try {
    const files = await Promise.all(
      texts.map(async (text, i) => {
        const file = join(dir, `Jenkinsfile.${i}`);
        await writeFile(file, text, 'utf8');
        return file;
      }),
    );
    const { stdout } = await execFileAsync(GROOVY, [HARNESS, ...files], {
      env: { ...process.env, JAVA_HOME },
      maxBuffer: 512 * 1024 * 1024,
      timeout: 300_000,
    });
    const results = JSON.parse(stdout) as HarnessResult[];
    if (results.length !== texts.length)
      throw new Error(`harness returned ${results.length} results for ${texts.length} files`);
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function agent(a: Agent): unknown {
  switch (a.kind) {
    case 'any':
    case 'none':
      return { type: a.kind };
    case 'label':
      return { type: 'label', label: a.label };
    case 'docker':
      return {
        type: 'docker',
        image: a.image,
        ...(a.label === undefined ? {} : { label: a.label }),
        ...(a.args === undefined ? {} : { args: a.args }),
      };
  }
}

function options(list: OptionDirective[]): unknown {
  return list.map((o) => {
    switch (o.kind) {
      case 'timeout':
        return { option: 'timeout', time: o.minutes, unit: 'MINUTES' };
      case 'retry':
        return { option: 'retry', count: o.count };
      default:
        return { option: o.kind };
    }
  });
}

function environment(entries: EnvironmentEntry[]): unknown {
  return Object.fromEntries(
    entries.map((e) => [
      e.name,
      e.kind === 'literal' ? { value: e.value } : { credentials: e.credentialsId },
    ]),
  );
}

function steps(list: Step[]): unknown[] {
  return list.map((s) => {
    switch (s.kind) {
      case 'sh':
        return {
          step: 'sh',
          script: s.script,
          ...(s.label === undefined ? {} : { label: s.label }),
        };
      case 'echo':
        return { step: 'echo', message: s.message };
      case 'withCredentials':
        return {
          step: 'withCredentials',
          bindings: s.bindings.map((b) => ({
            type: b.kind,
            credentialsId: b.credentialsId,
            variable: b.variable,
          })),
          steps: steps(s.steps),
        };
      case 'catchError':
        return {
          step: 'catchError',
          ...(s.buildResult === undefined ? {} : { buildResult: s.buildResult }),
          ...(s.stageResult === undefined ? {} : { stageResult: s.stageResult }),
          ...(s.message === undefined ? {} : { message: s.message }),
          steps: steps(s.steps),
        };
      case 'junit':
        return {
          step: 'junit',
          testResults: s.testResults,
          ...(s.allowEmptyResults === undefined ? {} : { allowEmptyResults: s.allowEmptyResults }),
        };
      case 'archiveArtifacts':
        return {
          step: 'archiveArtifacts',
          artifacts: s.artifacts,
          ...(s.allowEmptyArchive === undefined ? {} : { allowEmptyArchive: s.allowEmptyArchive }),
          ...(s.fingerprint === undefined ? {} : { fingerprint: s.fingerprint }),
        };
      case 'stash':
        return {
          step: 'stash',
          name: s.name,
          ...(s.includes === undefined ? {} : { includes: s.includes }),
          ...(s.excludes === undefined ? {} : { excludes: s.excludes }),
        };
      case 'unstash':
        return { step: 'unstash', name: s.name };
      case 'dir':
        return { step: 'dir', path: s.path, steps: steps(s.steps) };
      case 'deleteDir':
        return { step: 'deleteDir' };
    }
  });
}

function post(p: Post): unknown {
  return Object.fromEntries(
    POST_CONDITIONS.filter((c) => p[c] !== undefined).map((c) => [c, steps(p[c] ?? [])]),
  );
}

function stage(s: Stage): unknown {
  const out: Record<string, unknown> = { name: s.name };
  if (s.agent !== undefined) out.agent = agent(s.agent);
  if (s.options !== undefined && s.options.length > 0) out.options = options(s.options);
  if (s.environment !== undefined && s.environment.length > 0)
    out.environment = environment(s.environment);
  if (s.when !== undefined) out.when = { fileExists: s.when.path };
  switch (s.body.kind) {
    case 'steps':
      out.steps = steps(s.body.steps);
      break;
    case 'parallel':
      if (s.body.failFast !== undefined) out.failFast = s.body.failFast;
      out.parallel = s.body.stages.map(stage);
      break;
    case 'stages':
      out.stages = s.body.stages.map(stage);
      break;
  }
  if (s.post !== undefined) out.post = post(s.post);
  return out;
}

/**
 * The JSON the harness must record for a correct printing of `model`. Key order is
 * irrelevant (compared with toEqual); every stage, step and string must match.
 */
export function expectedRecording(model: DeclarativePipeline): RecordedPipeline {
  const out: Record<string, unknown> = { agent: agent(model.agent) };
  if (model.options.length > 0) out.options = options(model.options);
  if (model.environment.length > 0) out.environment = environment(model.environment);
  out.stages = model.stages.map(stage);
  if (model.post !== undefined) out.post = post(model.post);
  return out;
}
