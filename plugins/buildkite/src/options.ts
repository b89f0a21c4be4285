/** `targets.buildkite`: the options as the user writes them, resolved once, with defaults. */
import {
  OptionReader,
  readCommonOptions,
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

const KNOWN = [
  'path',
  'mode',
  'cli',
  'checkout_dir',
  'agents',
  'docker_image',
  'secret_source',
] as const;
const TAG_NAME = /^[A-Za-z0-9_.-]+$/;
// Tag values and image references: no `$` (upload-time interpolation) and nothing unprintable.
const PLAIN_VALUE = /^[A-Za-z0-9_.:/@+=*-]+$/;

/** Check `targets.buildkite` and resolve its defaults. Diagnostics' paths are relative to the options. */
export function resolveBuildkiteOptions(options: TargetOptions): {
  value: BuildkiteOptions;
  diagnostics: Diagnostic[];
} {
  const r = new OptionReader(options, KNOWN);
  const common = readCommonOptions(r, DEFAULT_BUILDKITE_PATH);
  const agents: Record<string, string> = {};
  const rawAgents = r.mapping(
    'agents',
    '`agents` must be a mapping of agent tag to value',
    'e.g. `{ queue: linux }`',
  );
  for (const [tag, v] of Object.entries(rawAgents ?? {})) {
    const text = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
    if (!TAG_NAME.test(tag))
      r.error(`agents.${tag}`, 'agent tag names are letters, digits and `_ . -`');
    else if (typeof text !== 'string' || !PLAIN_VALUE.test(text))
      r.error(
        `agents.${tag}`,
        'agent tag values are plain words (letters, digits and `_ . : / @ + = * -`)',
      );
    else agents[tag] = text;
  }
  const value: BuildkiteOptions = {
    ...common,
    agents,
    docker_image:
      r.string(
        'docker_image',
        PLAIN_VALUE,
        '`docker_image` must be an image reference such as `node:22-bookworm-slim`',
      ) ?? null,
    secret_source:
      r.oneOf(
        'secret_source',
        ['buildkite', 'agent'],
        '`secret_source` must be `buildkite` (step `secrets:`) or `agent` (exported by an agent hook)',
      ) ?? 'buildkite',
  };
  return { value, diagnostics: r.diagnostics };
}
