/** Executor name, as in `gatehouse run --executor docker` and `GateResult.executor`. */
export const EXECUTOR = 'docker';
/** Label on every image this plugin tags, so leftovers can be found. */
export const LABEL = 'io.gatehouse.run';
