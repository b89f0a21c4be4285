/** `targets.turbo`: the options as the user writes them, resolved once, with defaults. */
import {
  OptionReader,
  readCliOption,
  type Diagnostic,
  type TargetOptions,
} from '@gatehouse-ci/core';

/** `targets.turbo` options, resolved. */
export interface TurboOptions {
  /**
   * How a package script calls the CLI, e.g. `pnpm exec gatehouse`.
   * @default 'npx --no-install gatehouse'
   */
  cli: string;
}

const KNOWN = ['cli'] as const;

/** Check `targets.turbo` and resolve its defaults. Diagnostics' paths are relative to the options. */
export function resolveTurboOptions(options: TargetOptions): {
  value: TurboOptions;
  diagnostics: Diagnostic[];
} {
  const r = new OptionReader(options, KNOWN);
  return { value: { cli: readCliOption(r) }, diagnostics: r.diagnostics };
}
