/**
 * The plugins that ship with the CLI, as lazy entries: their target and executor names are
 * written here so that `validate`, `compile` and `--help` import only the plugins they use.
 * The Docker executor's plugin, for one, pulls in dockerode, ssh2 and gRPC, which cost
 * several times Node's own start-up. The registry checks on import that each plugin
 * provides exactly the names declared here, and a test compares them with the packages.
 *
 * The Docker executor is an optional package (`@gatehouse-ci/plugin-docker`, an optional peer
 * dependency of the CLI): projects that never run `--executor docker` do not install its
 * native add-ons. When it is missing, asking for the executor names the package to install.
 * So is `@gatehouse-ci/nx`, which reads nx's project graph (`workspace.ts`).
 */
import { GatehouseError, type GatehousePlugin, type LazyPlugin } from '@gatehouse-ci/core';

/** The default export of a plugin package. */
async function defaultOf(mod: Promise<{ default?: unknown }>): Promise<GatehousePlugin> {
  return (await mod).default as GatehousePlugin;
}

/** True when `err` says that `specifier` itself (not something it imports) cannot be found. */
export function isMissing(err: unknown, specifier: string): boolean {
  const e = err as NodeJS.ErrnoException;
  return (
    (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') &&
    typeof e.message === 'string' &&
    e.message.includes(`'${specifier}'`)
  );
}

/**
 * A module of an optional package, for `what` (`the docker executor`): its absence is
 * `GH_PLUGIN_NOT_FOUND` with the install command.
 */
export async function optionalPackage<T>(pkg: string, what: string, mod: Promise<T>): Promise<T> {
  try {
    return await mod;
  } catch (err) {
    if (!isMissing(err, pkg)) throw err;
    throw new GatehouseError(
      'GH_PLUGIN_NOT_FOUND',
      `${what} is in the optional package \`${pkg}\`, which is not installed`,
      {
        hint: `install it next to gatehouse-ci: npm install --save-dev ${pkg} (pnpm add -D ${pkg}, yarn add --dev ${pkg})`,
        cause: err,
      },
    );
  }
}

/** Built-in plugins, in a fixed order. */
export const builtinPlugins: readonly LazyPlugin[] = [
  {
    name: '@gatehouse-ci/runner',
    executors: {
      local: {
        description: 'Run gates as local processes (no Docker needed), cached and in parallel',
      },
    },
    load: () => defaultOf(import('@gatehouse-ci/runner')),
  },
  {
    name: '@gatehouse-ci/plugin-dockerfile',
    targets: {
      dockerfile: {
        description:
          'multi-stage Dockerfile: one stage per gate, a results collector, a verdict and the release image',
      },
    },
    load: () => defaultOf(import('@gatehouse-ci/plugin-dockerfile')),
  },
  {
    name: '@gatehouse-ci/plugin-docker',
    executors: {
      docker: {
        description:
          'run the gates as BuildKit stages of the generated Dockerfile, through the Docker Engine API',
      },
    },
    load: () =>
      defaultOf(
        optionalPackage(
          '@gatehouse-ci/plugin-docker',
          'the docker executor',
          import('@gatehouse-ci/plugin-docker'),
        ),
      ),
  },
  {
    name: '@gatehouse-ci/plugin-github-actions',
    targets: {
      github: {
        description: 'GitHub Actions workflow: one job per gate, merged report in the job summary',
      },
    },
    load: () => defaultOf(import('@gatehouse-ci/plugin-github-actions')),
  },
  {
    name: '@gatehouse-ci/plugin-jenkins',
    targets: {
      jenkins: {
        description:
          'declarative Jenkinsfile: one stage per gate, parallel by DAG layer, report published in post',
      },
    },
    load: () => defaultOf(import('@gatehouse-ci/plugin-jenkins')),
  },
  {
    name: '@gatehouse-ci/plugin-buildkite',
    targets: {
      buildkite: {
        description: 'Buildkite pipeline: one step per gate, merged report as a build annotation',
      },
    },
    load: () => defaultOf(import('@gatehouse-ci/plugin-buildkite')),
  },
  {
    name: '@gatehouse-ci/plugin-gitlab',
    targets: {
      gitlab: {
        description:
          'GitLab CI pipeline: one job per gate, merged report with test, code quality and coverage widgets',
      },
    },
    load: () => defaultOf(import('@gatehouse-ci/plugin-gitlab')),
  },
  {
    name: '@gatehouse-ci/plugin-turbo',
    targets: {
      turbo: {
        description:
          'turbo tasks: a gatehouse:<gate> task per package gate in turbo.json and a script in each package.json, results merged into one report',
      },
    },
    load: () => defaultOf(import('@gatehouse-ci/plugin-turbo')),
  },
];
