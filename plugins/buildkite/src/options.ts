/** `targets.buildkite`: the options as the user writes them, resolved once, with defaults. */
import {
  isPlainObject,
  optionDiagnostic,
  readCiCommonOptions,
  unknownOptionDiagnostics,
  type CiCommonOptions,
  type Diagnostic,
  type TargetOptions,
} from '@gatehouse-ci/core';

/** `targets.buildkite` options, resolved. */
export interface BuildkiteOptions extends CiCommonOptions {
  /** Agent tags every step targets, e.g. `{ queue: linux }`. @default {} */
  agents: Record<string, string>;
  /** Container image of every step (Buildkite hosted agents, Kubernetes stack). @default none */
  docker_image: string | null;
  /**
   * Where secret values come from: `buildkite` lists them under each step's `secrets:` (Buildkite
   * Secrets); `agent` emits no `secrets:` and relies on the agent's environment hook to export them.
   * @default 'buildkite'
   */
  secret_source: 'buildkite' | 'agent';
}

export const DEFAULT_BUILDKITE_PATH = '.buildkite/pipeline.yml';

const KNOWN = ['path', 'mode', 'cli', 'agents', 'docker_image', 'secret_source'] as const;
const TAG_NAME = /^[A-Za-z0-9_.-]+$/;
// Tag values and image references: no `$` (upload-time interpolation) and nothing unprintable.
const PLAIN_VALUE = /^[A-Za-z0-9_.:/@+=*-]+$/;

/** Check `targets.buildkite` and resolve its defaults. Diagnostics' paths are relative to the options. */
export function resolveBuildkiteOptions(options: TargetOptions): {
  value: BuildkiteOptions;
  diagnostics: Diagnostic[];
} {
  const diagnostics = unknownOptionDiagnostics(options, KNOWN);
  const common = readCiCommonOptions(options, DEFAULT_BUILDKITE_PATH);
  diagnostics.push(...common.diagnostics);
  const value: BuildkiteOptions = {
    ...common.value,
    agents: {},
    docker_image: null,
    secret_source: 'buildkite',
  };
  if (options.agents !== undefined) {
    if (!isPlainObject(options.agents)) {
      diagnostics.push(
        optionDiagnostic(
          'agents',
          '`agents` must be a mapping of agent tag to value',
          'e.g. `{ queue: linux }`',
        ),
      );
    } else {
      for (const [tag, v] of Object.entries(options.agents)) {
        const text = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
        if (!TAG_NAME.test(tag))
          diagnostics.push(
            optionDiagnostic(`agents.${tag}`, 'agent tag names are letters, digits and `_ . -`'),
          );
        else if (typeof text !== 'string' || !PLAIN_VALUE.test(text))
          diagnostics.push(
            optionDiagnostic(
              `agents.${tag}`,
              'agent tag values are plain words (letters, digits and `_ . : / @ + = * -`)',
            ),
          );
        else value.agents[tag] = text;
      }
    }
  }
  if (options.docker_image !== undefined) {
    if (typeof options.docker_image === 'string' && PLAIN_VALUE.test(options.docker_image))
      value.docker_image = options.docker_image;
    else
      diagnostics.push(
        optionDiagnostic(
          'docker_image',
          '`docker_image` must be an image reference such as `node:22-bookworm-slim`',
        ),
      );
  }
  if (options.secret_source !== undefined) {
    if (options.secret_source === 'buildkite' || options.secret_source === 'agent')
      value.secret_source = options.secret_source;
    else
      diagnostics.push(
        optionDiagnostic(
          'secret_source',
          '`secret_source` must be `buildkite` (step `secrets:`) or `agent` (exported by an agent hook)',
        ),
      );
  }
  return { value, diagnostics };
}
