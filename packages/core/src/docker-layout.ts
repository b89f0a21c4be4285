/**
 * The Docker result layout: what a gate stage of the generated Dockerfile leaves behind and
 * how it is exported. The `dockerfile` target writes it (its gate wrapper prints
 * `result.json`), CI docker mode builds and checks it, and the report package reads it back
 * (`report merge --docker`, the `docker` executor). All of them import it from here.
 *
 * A gate stage `gate-<id>` writes `<DOCKER_OUT_ROOT>/<id>/`:
 *   result.json   an {@link ExportedGateResult}, keys in {@link EXPORTED_RESULT_KEYS} order
 *   log.txt       the gate's stdout and stderr
 *   evidence/     the gate's `$GATEHOUSE_OUT`
 * and `result-<id>` (`FROM scratch`) holds only that directory, as `/<id>/…`, for
 * `docker build --target result-<id> -o type=local,dest=DIR`.
 */

/** Where the Dockerfile is written when `targets.dockerfile.path` does not say. */
export const DEFAULT_DOCKERFILE_PATH = 'Dockerfile';
/** Where gate results live inside gate stages: `<DOCKER_OUT_ROOT>/<id>/`. */
export const DOCKER_OUT_ROOT = '/gatehouse/out';
/** The file names inside a gate's result directory. */
export const DOCKER_RESULT_FILE = 'result.json';
export const DOCKER_LOG_FILE = 'log.txt';
export const DOCKER_EVIDENCE_DIR = 'evidence';

/** The stage that runs gate `id`. */
export function gateStageName(gateId: string): string {
  return `gate-${gateId}`;
}

/** The `FROM scratch` stage exporting only gate `id`'s results (`docker build --target result-<id> -o …`). */
export function resultStageName(gateId: string): string {
  return `result-${gateId}`;
}

/** `result.json` of a gate stage. */
export interface ExportedGateResult {
  /** The gate id. */
  id: string;
  /** The command's exit code; `null` when the gate did not run (see `skipped`). */
  exitCode: number | null;
  /** The stage's `timeout` stopped the command. */
  timedOut: boolean;
  /** Why the gate did not run (a needed gate did not pass, an unmet `when.env`), or `null`. */
  skipped: string | null;
  /** The gate did not run because its `when.env` condition is not met. */
  conditionUnmet: boolean;
  /** ISO 8601, UTC, milliseconds. */
  startedAt: string;
  finishedAt: string;
  durationMs: number;
}

/** The keys of `result.json`, in the order the gate stage writes them. */
export const EXPORTED_RESULT_KEYS = [
  'id',
  'exitCode',
  'timedOut',
  'skipped',
  'conditionUnmet',
  'startedAt',
  'finishedAt',
  'durationMs',
] as const satisfies ReadonlyArray<keyof ExportedGateResult>;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * `result.json` text as an {@link ExportedGateResult}, or the reasons it is not one: exactly
 * the keys of {@link EXPORTED_RESULT_KEYS}, in that order, each of its type. Readers that
 * accept older or partial files (the report's) check less; this is what a stage must write.
 */
export function parseExportedResult(
  text: string,
): { ok: true; value: ExportedGateResult } | { ok: false; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, problems: [`not JSON: ${(err as Error).message}`] };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, problems: ['not a JSON object'] };
  const r = raw as Record<string, unknown>;
  const problems: string[] = [];
  const keys = Object.keys(r);
  if (keys.join(',') !== EXPORTED_RESULT_KEYS.join(','))
    problems.push(`keys are ${keys.join(', ')}; expected ${EXPORTED_RESULT_KEYS.join(', ')}`);
  if (typeof r.id !== 'string') problems.push('id is not a string');
  if (r.exitCode !== null && !Number.isInteger(r.exitCode))
    problems.push('exitCode is neither an integer nor null');
  if (typeof r.timedOut !== 'boolean') problems.push('timedOut is not a boolean');
  if (r.skipped !== null && typeof r.skipped !== 'string')
    problems.push('skipped is neither a string nor null');
  if (typeof r.conditionUnmet !== 'boolean') problems.push('conditionUnmet is not a boolean');
  for (const k of ['startedAt', 'finishedAt'] as const)
    if (typeof r[k] !== 'string' || !ISO_UTC.test(r[k])) problems.push(`${k} is not an ISO time`);
  if (typeof r.durationMs !== 'number' || !(r.durationMs >= 0))
    problems.push('durationMs is not a non-negative number');
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, value: r as unknown as ExportedGateResult };
}
