/**
 * Diagnostics are data. Every problem Gatehouse finds in user input is a `Diagnostic`
 * with a stable `code`, a location and, where possible, a hint. Libraries throw
 * `GatehouseError` (which may carry many diagnostics); only the CLI prints or exits.
 */

/** A position in a file. Lines and columns are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
  /** End of the offending range, when known. */
  endLine?: number;
  endColumn?: number;
}

export type Severity = 'error' | 'warning';

/** One problem with user input. */
export interface Diagnostic {
  /** Stable code, e.g. `GH_UNKNOWN_KEY`. Never reused for another meaning. */
  code: string;
  severity: Severity;
  message: string;
  /** Config path, e.g. `gates.unit.needs[0]`; empty for file-level problems. */
  path: string;
  loc: SourceLocation | null;
  /** A suggestion, e.g. "did you mean `build`?". */
  hint?: string;
  /** A few lines of source with a caret under the problem. */
  frame?: string;
}

/** A thrown error with a stable code; may carry the diagnostics that caused it. */
export class GatehouseError extends Error {
  override readonly name = 'GatehouseError';
  readonly code: string;
  readonly diagnostics: Diagnostic[];
  readonly hint: string | undefined;

  constructor(
    code: string,
    message: string,
    options: { diagnostics?: Diagnostic[]; hint?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.diagnostics = options.diagnostics ?? [];
    this.hint = options.hint;
  }
}

/** True for errors thrown by Gatehouse on purpose (as opposed to bugs). */
export function isGatehouseError(err: unknown): err is GatehouseError {
  return err instanceof GatehouseError || (err instanceof Error && err.name === 'GatehouseError');
}
