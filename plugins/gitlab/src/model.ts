/**
 * The `.gitlab-ci.yml` Gatehouse emits: the subset of GitLab's CI/CD YAML syntax it writes.
 * @see https://docs.gitlab.com/ci/yaml/
 */

/** A job variable; `expand: false` makes GitLab and the runner pass the value as written. */
export interface RawVariable {
  value: string;
  expand: false;
}

/** `needs:` entry: the job waits for `job` and downloads its artifacts. */
export interface Need {
  job: string;
  artifacts: boolean;
  /** The job may be left out of the pipeline by its `rules:`. */
  optional?: true;
}

/** A `rules:` entry of a job: it is in the pipeline when a file under `paths` changed. */
export interface ChangesRule {
  changes: { paths: string[] };
}

/** `cache:` keyed on the lockfile's content. */
export interface Cache {
  key: { files: string[] };
  paths: string[];
  /** Jobs may run while the cache is being written by another job. */
  policy: 'pull-push';
  /** Also keep the cache when the job fails: dependencies were installed all the same. */
  when: 'always';
}

/** `artifacts:` of a job. */
export interface Artifacts {
  /** Entries may name a directory (trailing `/`) or be runner globs. */
  paths: string[];
  when: 'always' | 'on_success';
  expire_in: string;
  /** Shown as a link in merge requests. */
  expose_as?: string;
  reports?: {
    junit?: string[];
    codequality?: string[];
  };
}

/** One job. */
export interface Job {
  stage: string;
  /** Monorepos: the job is in the pipeline only when a file it depends on changed. */
  rules?: ChangesRule[];
  image?: string;
  /** Always present (`[]` for a gate without needs), so the job starts as soon as it can. */
  needs: Need[];
  variables?: Record<string, RawVariable>;
  script: string[];
  /** Advisory gates: a failure shows but does not fail the pipeline. */
  allow_failure?: boolean;
  /** Only the final report job: it runs even when a gate failed. */
  when?: 'always';
  /** e.g. `35 minutes`. */
  timeout: string;
  /** A regular expression (`/…/`) GitLab applies to the job log for the coverage badge. */
  coverage?: string;
  artifacts: Artifacts;
}

/** `default:` keywords every job inherits. */
export interface Defaults {
  image: string;
  interruptible: true;
  tags?: string[];
  services?: string[];
  cache?: Cache;
}

/** A whole `.gitlab-ci.yml`: the global keywords, then one entry per job. */
export interface GitlabPipeline {
  workflow: { rules: Array<{ if: string; when?: 'never' }> };
  stages: string[];
  /** Global variables; Gatehouse writes only its own, whose `$` references are meant. */
  variables?: Record<string, string>;
  default: Defaults;
  jobs: Record<string, Job>;
}
