/**
 * A typed model of the declarative Pipeline subset Gatehouse emits. The printer turns
 * it into Groovy; nothing else ever writes Jenkinsfile text.
 *
 * @see https://www.jenkins.io/doc/book/pipeline/syntax/
 */

/** Where a pipeline or stage runs. */
export type Agent =
  | { kind: 'any' }
  | { kind: 'none' }
  | { kind: 'label'; label: string }
  /** Needs the Docker Pipeline plugin on the controller. */
  | { kind: 'docker'; image: string; label?: string; args?: string };

/** `options { timeout(...) }` — always written in minutes. */
export interface TimeoutOption {
  kind: 'timeout';
  minutes: number;
}

/** Directives accepted in `options { }` (pipeline or stage level). */
export type OptionDirective =
  | TimeoutOption
  | { kind: 'retry'; count: number }
  | { kind: 'skipDefaultCheckout' }
  /** Pipeline level only. */
  | { kind: 'disableConcurrentBuilds' };

/** One `NAME = value` line of an `environment { }` block. */
export type EnvironmentEntry =
  | { name: string; kind: 'literal'; value: string }
  | { name: string; kind: 'credentials'; credentialsId: string };

/** A Jenkins build/stage result, as `catchError` takes it. */
export type BuildResult = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'NOT_BUILT' | 'ABORTED';

/** A `string(credentialsId:, variable:)` binding of `withCredentials` (Credentials Binding plugin). */
export interface StringCredentialBinding {
  kind: 'string';
  credentialsId: string;
  variable: string;
}

/** Steps that can appear inside `steps { }` and `post` conditions. */
export type Step =
  | { kind: 'sh'; script: string; label?: string }
  | { kind: 'echo'; message: string }
  | { kind: 'withCredentials'; bindings: StringCredentialBinding[]; steps: Step[] }
  | {
      kind: 'catchError';
      buildResult?: BuildResult;
      stageResult?: BuildResult;
      message?: string;
      steps: Step[];
    }
  | { kind: 'junit'; testResults: string; allowEmptyResults?: boolean }
  | {
      kind: 'archiveArtifacts';
      artifacts: string;
      allowEmptyArchive?: boolean;
      fingerprint?: boolean;
    }
  | { kind: 'stash'; name: string; includes?: string; excludes?: string }
  | { kind: 'unstash'; name: string }
  | { kind: 'dir'; path: string; steps: Step[] }
  | { kind: 'deleteDir' };

/** `post` conditions, in the order Jenkins evaluates them. */
export const POST_CONDITIONS = [
  'always',
  'changed',
  'fixed',
  'regression',
  'aborted',
  'failure',
  'success',
  'unstable',
  'unsuccessful',
  'cleanup',
] as const;
/** One of {@link POST_CONDITIONS}. */
export type PostCondition = (typeof POST_CONDITIONS)[number];
/** A `post { }` section. */
export type Post = Partial<Record<PostCondition, Step[]>>;

/** What a stage does: run steps, fan out in parallel, or nest sequential stages. */
export type StageBody =
  | { kind: 'steps'; steps: Step[] }
  | { kind: 'parallel'; stages: Stage[]; failFast?: boolean }
  | { kind: 'stages'; stages: Stage[] };

/**
 * `when { expression { fileExists('path') } }`: the stage runs only when the file exists in the
 * workspace. A file, not a variable: setting one from a step needs a `script` block.
 */
export interface FileExistsCondition {
  kind: 'fileExists';
  path: string;
}

/** One `stage('name') { ... }`. */
export interface Stage {
  name: string;
  agent?: Agent;
  options?: OptionDirective[];
  when?: FileExistsCondition;
  environment?: EnvironmentEntry[];
  body: StageBody;
  post?: Post;
}

/** The whole `pipeline { ... }` block. */
export interface DeclarativePipeline {
  agent: Agent;
  options: OptionDirective[];
  environment: EnvironmentEntry[];
  stages: Stage[];
  post?: Post;
}
