/**
 * Reading a target's options (`targets.<name>`): each reader checks one key and, when its value
 * does not fit, records a diagnostic at that key's path and gives `undefined`, so the caller
 * keeps the default. Every target plugin reads its options through it, so a wrong value is said
 * the same way whichever target it belongs to.
 */
import { didYouMean } from './diagnostics.js';
import type { Diagnostic } from './errors.js';
import { isPlainObject } from './object.js';

/** Diagnostic codes of target options, shared by every CI target. */
export const CI_OPTION_UNKNOWN = 'GH_UNKNOWN_KEY';
export const CI_OPTION_INVALID = 'GH_TARGET_OPTIONS';

/** An error diagnostic about `targets.<name>.<path>`; the driver prefixes and locates it. */
export function optionDiagnostic(
  path: string,
  message: string,
  hint?: string,
  code = CI_OPTION_INVALID,
): Diagnostic {
  return {
    code,
    severity: 'error',
    message,
    path,
    loc: null,
    ...(hint === undefined ? {} : { hint }),
  };
}

/** Diagnostics for keys of `options` (at `prefix`) that are not in `known`, with a "did you mean". */
export function unknownOptionDiagnostics(
  options: Record<string, unknown>,
  known: readonly string[],
  prefix = '',
): Diagnostic[] {
  return Object.keys(options)
    .filter((k) => !known.includes(k))
    .map((k) =>
      optionDiagnostic(
        `${prefix}${k}`,
        `unknown option \`${k}\``,
        didYouMean(k, known) ?? `known options: ${known.join(', ')}`,
        CI_OPTION_UNKNOWN,
      ),
    );
}

/** Reads the keys of one options mapping; its diagnostics' paths are relative to the options. */
export class OptionReader {
  readonly #raw: Record<string, unknown>;
  readonly #prefix: string;
  /** Every diagnostic of this reader and of the readers of its nested mappings. */
  readonly diagnostics: Diagnostic[];

  /**
   * A reader of `raw`, whose known keys are `known` (any other key is a diagnostic with a "did
   * you mean"; `null`: not checked here). `prefix` is the path of `raw` within the options
   * (`actions.`).
   */
  constructor(
    raw: Record<string, unknown>,
    known: readonly string[] | null,
    prefix = '',
    diagnostics: Diagnostic[] = [],
  ) {
    this.#raw = raw;
    this.#prefix = prefix;
    this.diagnostics = diagnostics;
    if (known !== null) diagnostics.push(...unknownOptionDiagnostics(raw, known, prefix));
  }

  /** The raw mapping. */
  get raw(): Readonly<Record<string, unknown>> {
    return this.#raw;
  }

  /** Record an error at `key` (relative to this mapping). */
  error(key: string, message: string, hint?: string, code?: string): void {
    this.diagnostics.push(optionDiagnostic(`${this.#prefix}${key}`, message, hint, code));
  }

  /**
   * The value of `key` as `accept` makes it (`undefined` from `accept`: it does not fit, and
   * `message` is recorded). `undefined` when the key is absent.
   */
  read<T>(
    key: string,
    accept: (value: unknown) => T | undefined,
    message: string,
    hint?: string,
  ): T | undefined {
    const raw = this.#raw[key];
    if (raw === undefined) return undefined;
    const value = accept(raw);
    if (value === undefined) this.error(key, message, hint);
    return value;
  }

  /** A string of `key` that `pattern` accepts (and `also`, when given). */
  string(
    key: string,
    pattern: RegExp,
    message: string,
    hint?: string,
    also: (value: string) => boolean = () => true,
  ): string | undefined {
    return this.read(
      key,
      (v) => (typeof v === 'string' && pattern.test(v) && also(v) ? v : undefined),
      message,
      hint,
    );
  }

  /** `true` or `false`. */
  bool(key: string): boolean | undefined {
    return this.read(
      key,
      (v) => (typeof v === 'boolean' ? v : undefined),
      `\`${this.#prefix}${key}\` must be \`true\` or \`false\``,
    );
  }

  /** One of `values`. */
  oneOf<const V extends string | boolean>(
    key: string,
    values: readonly V[],
    message: string,
    hint?: string,
  ): V | undefined {
    return this.read(key, (v) => (values.includes(v as V) ? (v as V) : undefined), message, hint);
  }

  /** A mapping at `key` (recorded as `message` when it is not one). */
  mapping(key: string, message: string, hint?: string): Record<string, unknown> | undefined {
    return this.read(key, (v) => (isPlainObject(v) ? v : undefined), message, hint);
  }

  /** A reader of the mapping at `key`, whose known keys are `known`; see {@link mapping}. */
  nested(
    key: string,
    known: readonly string[],
    message: string,
    hint?: string,
  ): OptionReader | undefined {
    const raw = this.mapping(key, message, hint);
    if (raw === undefined) return undefined;
    return new OptionReader(raw, known, `${this.#prefix}${key}.`, this.diagnostics);
  }
}
