/** What the turbo target writes, before it is serialised: turbo tasks and package scripts. */

/**
 * One entry of `turbo.json#tasks`, with the fields turbo 2 reads.
 * @see https://turbo.build/repo/docs/reference/configuration#tasks
 */
export interface TurboTask {
  /** Tasks that must finish first: `gatehouse:build` (same package), `web#gatehouse:build`, `//#gatehouse:audit`. */
  dependsOn: string[];
  /** Files hashed into the task's key, from the repository root (`$TURBO_ROOT$/…`). */
  inputs: string[];
  /** Files turbo stores and restores: the gate's `outputs` and its result file. */
  outputs: string[];
  /** Variables whose values are part of the key (`when.env` of the gate). */
  env: string[];
  /** Variables the task receives but that are never hashed: secrets. */
  passThroughEnv: string[];
  cache: boolean;
}

/** The turbo tasks of a pipeline, and the scripts they run. */
export interface TurboPlan {
  /** `turbo.json#tasks` keys owned by Gatehouse, in the order written. */
  tasks: Record<string, TurboTask>;
  /** Package directory (POSIX, relative to the root; `.` for the root) -> its `gatehouse:*` scripts. */
  scripts: Map<string, Record<string, string>>;
}
