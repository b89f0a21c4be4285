/** `targets.gitlab`: the options as the user writes them, resolved once, with defaults. */
import {
  OptionReader,
  readDockerCacheOption,
  readCommonOptions,
  type CiCommonOptions,
  type Diagnostic,
  type TargetOptions,
} from '@gatehouse-ci/core';

/** `targets.gitlab` options, resolved. */
export interface GitlabOptions extends CiCommonOptions {
  /**
   * Image of every job (`default: image:`). `null` takes the config's `image` in native mode,
   * and `docker:27` in docker mode (with a `docker:27-dind` service).
   * @default null
   */
  image: string | null;
  /** Runner tags every job asks for (`default: tags:`). @default [] */
  tags: string[];
  /**
   * Cache the package manager's download cache between pipelines, keyed on the lockfile
   * (`cache: key: files:`). Native mode only.
   * @default true
   */
  cache: boolean;
  /** How long artifacts are kept (`artifacts: expire_in:`). @default '1 week' */
  expire_in: string;
  /**
   * Docker mode: share BuildKit's cache between pipelines through the project's container
   * registry (`registry`), or not (`false`). See docs/ci/gitlab.md#a-shared-build-cache.
   * @default false
   */
  docker_cache: 'registry' | false;
}

export const DEFAULT_GITLAB_PATH = '.gitlab-ci.yml';

const KNOWN = [
  'path',
  'mode',
  'cli',
  'checkout_dir',
  'image',
  'tags',
  'cache',
  'expire_in',
  'docker_cache',
] as const;
// Image references and runner tags: plain words. No `$`: GitLab would expand it.
const PLAIN_VALUE = /^[A-Za-z0-9_.:/@+=-]+$/;
const DURATION =
  /^[0-9]+ ?(?:sec|second|seconds|min|mins|minute|minutes|hr|hrs|hour|hours|day|days|week|weeks|month|months|year|years)$|^never$/;

/** Check `targets.gitlab` and resolve its defaults. Diagnostics' paths are relative to the options. */
export function resolveGitlabOptions(options: TargetOptions): {
  value: GitlabOptions;
  diagnostics: Diagnostic[];
} {
  const r = new OptionReader(options, KNOWN);
  const common = readCommonOptions(r, DEFAULT_GITLAB_PATH);
  const value: GitlabOptions = {
    ...common,
    image:
      r.string(
        'image',
        PLAIN_VALUE,
        '`image` must be an image reference such as `node:22-bookworm-slim`',
      ) ?? null,
    tags:
      r.read(
        'tags',
        (v) =>
          Array.isArray(v) && v.every((t) => typeof t === 'string' && PLAIN_VALUE.test(t))
            ? [...(v as string[])]
            : undefined,
        '`tags` must be a list of runner tags (letters, digits and `_ . : / @ + = -`)',
        'e.g. `[docker, linux]`',
      ) ?? [],
    cache: r.bool('cache') ?? true,
    expire_in:
      r.string(
        'expire_in',
        DURATION,
        '`expire_in` must be a duration such as `1 week`, `30 days` or `never`',
      ) ?? '1 week',
    docker_cache: readDockerCacheOption(r, common.mode, 'docs/ci/gitlab.md#a-shared-build-cache'),
  };
  return { value, diagnostics: r.diagnostics };
}
