/**
 * The Buildkite pipeline Gatehouse emits, typed with `@buildkite/buildkite-sdk`'s step types.
 * @see https://buildkite.com/docs/pipelines/configure/step-types/command-step
 */
import type { CommandStep } from '@buildkite/buildkite-sdk';

/**
 * A command step as Gatehouse writes it. `secrets` and `image` are in Buildkite's pipeline schema
 * (vendored under `schema/`) but not yet in the SDK's `CommandStep` type.
 */
export interface GatehouseCommandStep extends Pick<
  CommandStep,
  | 'key'
  | 'label'
  | 'depends_on'
  | 'allow_dependency_failure'
  | 'agents'
  | 'env'
  | 'soft_fail'
  | 'timeout_in_minutes'
  | 'artifact_paths'
> {
  key: string;
  label: string;
  commands: string[];
  /** Names of Buildkite secrets exposed to the job as environment variables of the same name. */
  secrets?: string[];
  /** Container image for the job (Buildkite hosted agents and the Kubernetes agent stack). */
  image?: string;
}

/** A whole `pipeline.yml`. */
export interface BuildkitePipeline {
  steps: GatehouseCommandStep[];
}
