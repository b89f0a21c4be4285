/**
 * The subset of the GitHub Actions workflow syntax Gatehouse emits, typed.
 * Property order here is the order keys are written in.
 * @see https://docs.github.com/actions/reference/workflows-and-actions/workflow-syntax
 */
import type { YamlCommented } from '@gatehouse-ci/core';

/** A branch filter of `push` / `pull_request`. */
export interface BranchFilter {
  branches?: string[];
}

/** `on:` — the events that start the workflow. */
export interface WorkflowTriggers {
  push?: BranchFilter;
  pull_request?: BranchFilter;
  workflow_dispatch?: Record<string, never>;
}

/** `permissions:` — scopes of the `GITHUB_TOKEN`. */
export type Permissions = Record<string, 'read' | 'write' | 'none'>;

/** `concurrency:`. */
export interface Concurrency {
  group: string;
  'cancel-in-progress': boolean;
}

/** One step: either an action (`uses`) or a shell script (`run`). */
export interface Step {
  name: string;
  if?: string;
  /** `owner/repo@<sha>`, written with the tag as a comment. */
  uses?: YamlCommented;
  id?: string;
  with?: Record<string, string | number | boolean>;
  run?: string;
  env?: Record<string, string>;
  'timeout-minutes'?: number;
  'continue-on-error'?: boolean;
}

/** One job. */
export interface Job {
  name: string;
  'runs-on': string | string[];
  needs?: string[];
  if?: string;
  /** Scopes of this job's token, replacing the workflow's (only the report job widens them). */
  permissions?: Permissions;
  /** Outputs of the job, read by later jobs as `needs.<job>.outputs.<name>`. */
  outputs?: Record<string, string>;
  /** A matrix: one run of the job per entry. */
  strategy?: { 'fail-fast': boolean; matrix: { include: string } };
  'timeout-minutes'?: number;
  'continue-on-error'?: boolean;
  steps: Step[];
}

/** A whole workflow file. */
export interface Workflow {
  name: string;
  on: WorkflowTriggers;
  permissions: Permissions;
  concurrency?: Concurrency;
  /** Where `run` steps start: the config directory when it is not the checkout's top. */
  defaults?: { run: { 'working-directory': string } };
  jobs: Record<string, Job>;
}
