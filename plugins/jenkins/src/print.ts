/**
 * Prints a {@link DeclarativePipeline} as Groovy. Every user-controlled string goes
 * through {@link groovyString}; identifiers (environment and credential variable names)
 * are checked against the pattern Groovy and the shell both accept.
 */
import {
  GatehouseError,
  generatedHeader,
  type EmittedFile,
  type TargetContext,
} from '@gatehouse-ci/core';
import { groovyString } from './groovy.js';
import {
  POST_CONDITIONS,
  type Agent,
  type DeclarativePipeline,
  type EnvironmentEntry,
  type OptionDirective,
  type Post,
  type Stage,
  type Step,
} from './model.js';
import type { ResolvedJenkinsOptions } from './options.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INDENT = '  ';

class Out {
  readonly lines: string[] = [];
  private depth = 0;

  line(text: string): void {
    this.lines.push(INDENT.repeat(this.depth) + text);
  }

  block(head: string, body: () => void): void {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    this.line('}');
  }
}

function identifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new GatehouseError('GH_TARGET_EMIT', `${what} \`${name}\` is not a valid variable name`);
  }
  return name;
}

function positiveInt(n: number, what: string): string {
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new GatehouseError('GH_TARGET_EMIT', `${what} must be a positive integer, got ${n}`);
  }
  return String(n);
}

function printAgent(out: Out, agent: Agent): void {
  switch (agent.kind) {
    case 'any':
    case 'none':
      out.line(`agent ${agent.kind}`);
      return;
    case 'label':
      out.block('agent', () => out.line(`label ${groovyString(agent.label, 'agent label')}`));
      return;
    case 'docker':
      out.block('agent', () =>
        out.block('docker', () => {
          out.line(`image ${groovyString(agent.image, 'agent image')}`);
          if (agent.label !== undefined)
            out.line(`label ${groovyString(agent.label, 'agent label')}`);
          if (agent.args !== undefined) out.line(`args ${groovyString(agent.args, 'agent args')}`);
        }),
      );
      return;
  }
}

function printOptions(out: Out, options: OptionDirective[]): void {
  if (options.length === 0) return;
  out.block('options', () => {
    for (const o of options) {
      switch (o.kind) {
        case 'timeout':
          out.line(`timeout(time: ${positiveInt(o.minutes, 'timeout')}, unit: 'MINUTES')`);
          break;
        case 'retry':
          out.line(`retry(${positiveInt(o.count, 'retry count')})`);
          break;
        case 'skipDefaultCheckout':
        case 'disableConcurrentBuilds':
          out.line(`${o.kind}()`);
          break;
      }
    }
  });
}

function printEnvironment(out: Out, entries: EnvironmentEntry[]): void {
  if (entries.length === 0) return;
  out.block('environment', () => {
    for (const e of entries) {
      const name = identifier(e.name, 'environment variable');
      if (e.kind === 'literal')
        out.line(`${name} = ${groovyString(e.value, `environment value of ${name}`)}`);
      else out.line(`${name} = credentials(${groovyString(e.credentialsId, 'credentials id')})`);
    }
  });
}

function namedArgs(args: Array<[string, string | boolean | undefined]>): string {
  return args
    .filter((a): a is [string, string | boolean] => a[1] !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === 'boolean' ? String(v) : groovyString(v, k)}`)
    .join(', ');
}

function printSteps(out: Out, steps: Step[]): void {
  for (const s of steps) {
    switch (s.kind) {
      case 'sh':
        if (s.label === undefined) out.line(`sh ${groovyString(s.script, 'sh script')}`);
        else
          out.line(
            `sh(${namedArgs([
              ['label', s.label],
              ['script', s.script],
            ])})`,
          );
        break;
      case 'echo':
        out.line(`echo ${groovyString(s.message, 'echo message')}`);
        break;
      case 'withCredentials': {
        const bindings = s.bindings.map(
          (b) =>
            `string(credentialsId: ${groovyString(b.credentialsId, 'credentials id')}, variable: ${groovyString(
              identifier(b.variable, 'credential variable'),
            )})`,
        );
        out.block(`withCredentials([${bindings.join(', ')}])`, () => printSteps(out, s.steps));
        break;
      }
      case 'catchError':
        out.block(
          `catchError(${namedArgs([
            ['buildResult', s.buildResult],
            ['stageResult', s.stageResult],
            ['message', s.message],
          ])})`,
          () => printSteps(out, s.steps),
        );
        break;
      case 'junit':
        out.line(
          `junit(${namedArgs([
            ['testResults', s.testResults],
            ['allowEmptyResults', s.allowEmptyResults],
          ])})`,
        );
        break;
      case 'archiveArtifacts':
        out.line(
          `archiveArtifacts(${namedArgs([
            ['artifacts', s.artifacts],
            ['allowEmptyArchive', s.allowEmptyArchive],
            ['fingerprint', s.fingerprint],
          ])})`,
        );
        break;
      case 'stash':
        out.line(
          `stash(${namedArgs([
            ['name', s.name],
            ['includes', s.includes],
            ['excludes', s.excludes],
          ])})`,
        );
        break;
      case 'unstash':
        out.line(`unstash ${groovyString(s.name, 'stash name')}`);
        break;
      case 'dir':
        out.block(`dir(${groovyString(s.path, 'dir path')})`, () => printSteps(out, s.steps));
        break;
      case 'deleteDir':
        out.line('deleteDir()');
        break;
    }
  }
}

function printPost(out: Out, post: Post | undefined): void {
  if (post === undefined) return;
  const present = POST_CONDITIONS.filter((c) => post[c] !== undefined);
  if (present.length === 0) return;
  out.block('post', () => {
    for (const c of present) out.block(c, () => printSteps(out, post[c] ?? []));
  });
}

function printStage(out: Out, stage: Stage): void {
  out.block(`stage(${groovyString(stage.name, 'stage name')})`, () => {
    if (stage.agent !== undefined) printAgent(out, stage.agent);
    printOptions(out, stage.options ?? []);
    if (stage.when !== undefined) {
      const path = groovyString(stage.when.path, 'when path');
      out.block('when', () => out.block('expression', () => out.line(`fileExists(${path})`)));
    }
    printEnvironment(out, stage.environment ?? []);
    const body = stage.body;
    switch (body.kind) {
      case 'steps':
        out.block('steps', () => printSteps(out, body.steps));
        break;
      case 'parallel':
        if (body.failFast !== undefined) out.line(`failFast ${String(body.failFast)}`);
        out.block('parallel', () => body.stages.forEach((s) => printStage(out, s)));
        break;
      case 'stages':
        out.block('stages', () => body.stages.forEach((s) => printStage(out, s)));
        break;
    }
    printPost(out, stage.post);
  });
}

/** Options of {@link printJenkinsfile}. */
export interface PrintOptions {
  /**
   * Comment lines written before `pipeline {`. Must not contain line breaks or `\`
   * (user text in a comment must be reduced to safe characters first).
   */
  comments?: string[];
}

/** The Jenkinsfile text for `pipeline`: deterministic, ASCII outside comments, ends with a newline. */
export function printJenkinsfile(
  pipeline: DeclarativePipeline,
  options: PrintOptions = {},
): string {
  const out = new Out();
  for (const c of options.comments ?? []) {
    if (/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/u.test(c)) {
      throw new GatehouseError(
        'GH_TARGET_EMIT',
        'a comment line contains a control character or `\\`',
      );
    }
    out.line(`// ${c}`);
  }
  out.block('pipeline', () => {
    printAgent(out, pipeline.agent);
    printOptions(out, pipeline.options);
    printEnvironment(out, pipeline.environment);
    out.block('stages', () => pipeline.stages.forEach((s) => printStage(out, s)));
    printPost(out, pipeline.post);
  });
  return out.lines.join('\n') + '\n';
}

/**
 * The Jenkinsfile at the `path` option, headed by the generated comment (core's header keeps
 * only `[A-Za-z0-9._/-]` of the file name; {@link printJenkinsfile} re-checks the line).
 */
export function printJenkinsfileFile(
  model: DeclarativePipeline,
  options: ResolvedJenkinsOptions,
  ctx: TargetContext,
): EmittedFile {
  return {
    path: options.path,
    contents: printJenkinsfile(model, { comments: [generatedHeader(ctx.configFile)] }),
  };
}
