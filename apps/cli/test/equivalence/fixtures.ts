/**
 * The fixture projects of the verdict-equivalence suite and the faults planted in them.
 * Each reproduces a shape that once gave a false green (see docs/equivalence.md).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ensureBaseImage,
  ensureBrowserImage,
  hostPnpmDir,
  hostYarnDir,
  type BaseImageSources,
} from '@gatehouse-ci/test-utils';
import { STOREFRONT } from '../e2e/helpers.js';
import { replaceIn, type Fault, type Fixture } from './harness.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface FixtureSource extends Fixture {
  source: string;
  /** `init` writes the config (the project has none of its own). */
  init: boolean;
  /**
   * The fixture commits the `gatehouse.yml` that `init` wrote when the fixture was made (its
   * README says how), and the suite checks that `init` still writes exactly that file.
   */
  initCommitted?: boolean;
}

/** A same-length edit of a gate's command that makes it fail (a stale Dockerfile hides it). */
function commandEdit(from: string, to: string): Fault {
  if (from.length !== to.length) throw new Error('a same-length edit, please');
  return {
    id: 'command-edit',
    what: `same-length edit of a gate's command (\`${from}\` → \`${to}\`)`,
    plant: (dir) => replaceIn(dir, 'gatehouse.yml', `run: ${from}\n`, `run: ${to}\n`),
    expect: 'failed',
    configOnly: true,
  };
}

/** A `run` with a typo added in gatehouse.yml to a gate of `packages:` (each package's gate fails). */
function packageRunTypo(
  script: string,
  typo: string,
  fails: string[],
  manager: 'npm' | 'yarn' = 'npm',
): Fault {
  return {
    id: 'config-run',
    what: `a \`run\` added in gatehouse.yml to a gate of packages, with a typo (\`${manager} run ${typo}\`)`,
    plant: (dir) =>
      replaceIn(
        dir,
        'gatehouse.yml',
        `    packages: { script: ${script} }\n`,
        `    packages: { script: ${script} }\n    run: ${manager} run ${typo}\n`,
      ),
    expect: 'failed',
    configOnly: true,
    fails,
  };
}

/** A fault planted by one edit of a project file. */
function sourceEdit(
  id: string,
  what: string,
  file: string,
  [from, to]: [string, string],
  gates: Pick<Fault, 'rerun' | 'fails'>,
): Fault {
  return { id, what, plant: (dir) => replaceIn(dir, file, from, to), expect: 'failed', ...gates };
}

/**
 * A workspace whose `gatehouse.yml` is committed as `init` wrote it, checked with the root's
 * `lint`, `build` and `test` scripts run by its package manager (npm unless said).
 */
function npmWorkspaceFixture(
  name: string,
  faults: Fault[],
  image: Partial<BaseImageSources> | (() => Promise<Partial<BaseImageSources>>) = {},
  manager: 'npm' | 'yarn' = 'npm',
): FixtureSource {
  return {
    name,
    source: join(HERE, `fixtures/${name}`),
    init: true,
    initCommitted: true,
    own: [
      { script: `${manager} run lint` },
      { script: `${manager} run build` },
      { script: `${manager} test` },
    ],
    image: async () => ensureBaseImage(typeof image === 'function' ? await image() : image),
    faults: [NONE, ...faults],
  };
}

const NONE: Fault = {
  id: 'none',
  what: 'none (the project as committed)',
  plant: async () => async () => undefined,
  expect: 'passed',
};

/**
 * React + Vite single-page app: ESLint 8 called with `--ext js,jsx src --max-warnings 0`,
 * Vitest with coverage thresholds in vite.config.js, pa11y-ci over the app served by
 * `vite preview`, the page shell in the root `index.html`, and both a yarn and an npm
 * lockfile, with `packageManager` naming npm (the test machines have yarn too: without the
 * field `init` would take yarn, which the browser image does not have).
 */
export const viteSpa: FixtureSource = {
  name: 'vite-spa',
  source: join(HERE, 'fixtures/vite-spa'),
  init: true,
  own: [
    { script: 'npm run lint' },
    { script: 'npm test' },
    { script: 'npm run build' },
    { script: 'npm run test:a11y', serve: 'npm run preview', url: 'http://localhost:4173/' },
  ],
  image: () => ensureBrowserImage(),
  faults: [
    NONE,
    {
      id: 'nested-error',
      what: 'ESLint error in a nested source file (src/components/Todo.jsx)',
      plant: (dir) =>
        replaceIn(
          dir,
          'src/components/Todo.jsx',
          'export default function Todo({ todo, onToggle }) {\n',
          'export default function Todo({ todo, onToggle }) {\n  const unused = 1;\n',
        ),
      expect: 'failed',
    },
    {
      id: 'one-warning',
      what: 'one ESLint warning over `--max-warnings 0`',
      plant: (dir) =>
        replaceIn(
          dir,
          'src/App.jsx',
          '    event.preventDefault();\n',
          "    event.preventDefault();\n    console.log('submit');\n",
        ),
      expect: 'failed',
    },
    commandEdit('npm run build', 'npm run bujld'),
    {
      id: 'failing-test',
      what: 'a failing unit test',
      plant: (dir) =>
        replaceIn(
          dir,
          'test/todos.test.js',
          "{ id: 5, title: 'b', done: false }",
          "{ id: 5, title: 'b', done: true }",
        ),
      expect: 'failed',
    },
    {
      id: 'coverage',
      what: 'line coverage under the threshold (untested code added)',
      plant: (dir) =>
        replaceIn(
          dir,
          'src/lib/todos.js',
          'export function toggleTodo(',
          [
            'export function countDone(list) {',
            '  let done = 0;',
            '  for (const t of list) {',
            '    if (t.done) done += 1;',
            '  }',
            '  return done;',
            '}',
            '',
            'export function clearDone(list) {',
            '  const kept = list.filter((t) => !t.done);',
            '  return kept.length === list.length ? list : kept;',
            '}',
            '',
            'export function toggleTodo(',
          ].join('\n'),
        ),
      expect: 'failed',
    },
    {
      id: 'a11y-index',
      what: 'an a11y violation in the root `index.html` (image without alt)',
      plant: (dir) =>
        replaceIn(
          dir,
          'index.html',
          '<div id="root"></div>',
          '<img src="/favicon.svg" width="16" height="16" />\n    <div id="root"></div>',
        ),
      expect: 'failed',
      rerun: ['build', 'a11y'],
    },
    {
      id: 'index-edit',
      what: 'an edit to the root `index.html` (new title)',
      plant: (dir) => replaceIn(dir, 'index.html', '<title>Todo</title>', '<title>Todos</title>'),
      expect: 'passed',
      rerun: ['build', 'a11y'],
    },
  ],
};

/**
 * pnpm + turbo library workspace whose packages sit at two depths (`packages/**`), linted
 * with Biome, built and tested per package through turbo with `^build` dependencies.
 */
export const turboMonorepo: FixtureSource = {
  name: 'turbo-monorepo',
  source: join(HERE, 'fixtures/turbo-monorepo'),
  init: true,
  own: [{ script: 'pnpm run lint' }, { script: 'pnpm run build' }, { script: 'pnpm test' }],
  image: async () => ensureBaseImage({ pnpm: await hostPnpmDir() }),
  faults: [
    NONE,
    {
      id: 'nested-error',
      what: 'syntax error in a package two levels down (packages/clients/fetch/src)',
      plant: (dir) =>
        replaceIn(
          dir,
          'packages/clients/fetch/src/index.js',
          'export function requestUrl(',
          'export function requestUrl((',
        ),
      expect: 'failed',
    },
    {
      id: 'lint-error',
      what: 'Biome error (`debugger`) in a nested source file',
      plant: (dir) =>
        replaceIn(
          dir,
          'packages/core/src/index.js',
          'export function joinUrl(base, path) {\n',
          'export function joinUrl(base, path) {\n  debugger;\n',
        ),
      expect: 'failed',
    },
    {
      id: 'failing-test',
      what: 'a failing unit test',
      plant: (dir) =>
        replaceIn(
          dir,
          'packages/core/test/index.test.js',
          "'https://api.test/pets')",
          "'https://api.test//pets')",
        ),
      expect: 'failed',
    },
    {
      id: 'sibling-edit',
      what: "an edit in a sibling package that breaks its dependant's test",
      plant: (dir) =>
        replaceIn(dir, 'packages/core/src/index.js', 'DEFAULT_LIMIT = 20;', 'DEFAULT_LIMIT = 25;'),
      expect: 'failed',
      rerun: ['core-build', 'fetch-build', 'fetch-test'],
    },
    commandEdit('pnpm run lint', 'pnpm run lynt'),
  ],
};

/**
 * npm workspaces (root `package.json#workspaces`, `package-lock.json`, no task runner): two libs
 * and an app that depends on both, each linted with ESLint 8, built into the `dist/` its
 * dependants and its own tests import, and tested with `node --test`. Its `gatehouse.yml` is
 * committed as `init` wrote it.
 */
export const npmWorkspaces = npmWorkspaceFixture('npm-workspaces', [
  sourceEdit(
    'failing-test',
    "a bug in a lib's source that only its own test catches (it tests the built dist/)",
    'packages/units/src/index.js',
    ['value /= 1024;', 'value /= 1000;'],
    { rerun: ['units-build', 'units-test'], fails: ['units-test'] },
  ),
  sourceEdit(
    'build-break',
    "a lib's build leaves out a module (its own gates pass; its dependant's build fails)",
    'packages/units/package.json',
    ['build.mjs index.js round.js', 'build.mjs index.js'],
    { rerun: ['units-build', 'format-build'], fails: ['format-build'] },
  ),
  sourceEdit(
    'lint-error',
    'ESLint error (unused variable) in the app (apps/report/src)',
    'apps/report/src/index.js',
    ['export function report(files) {\n', 'export function report(files) {\n  const unused = 1;\n'],
    { rerun: ['shelf-report-lint'], fails: ['shelf-report-lint'] },
  ),
  packageRunTypo('lint', 'lynt', ['units-lint', 'format-lint', 'shelf-report-lint']),
]);

/**
 * Yarn classic workspaces (object-form `package.json#workspaces.packages`: `libs/*`, `apps/*`;
 * `yarn.lock`, no task runner, root scripts `yarn workspaces run …`): two libs and an app that
 * depends on both, each linted with Biome, built into `dist/` with build-time defines, and
 * tested with `node --test`. The Docker columns' image has the host's yarn. Its `gatehouse.yml`
 * is committed as `init` wrote it (with yarn installed: `yarn install --frozen-lockfile`).
 */
export const yarnWorkspaces = npmWorkspaceFixture(
  'yarn-workspaces',
  [
    sourceEdit(
      'failing-test',
      "a bug in the app's source (apps/statement/src) that only its own test catches",
      'apps/statement/src/index.js',
      ['.sort((a, b) => b[1] - a[1])', '.sort((a, b) => a[1] - b[1])'],
      {
        rerun: ['ledger-statement-build', 'ledger-statement-test'],
        fails: ['ledger-statement-test'],
      },
    ),
    sourceEdit(
      'build-break',
      "a lib's build script loses the define its source needs (its own build fails)",
      'libs/decimal/package.json',
      ['"node ../../tools/build.mjs POINT=."', '"node ../../tools/build.mjs"'],
      { rerun: ['decimal-build'], fails: ['decimal-build'] },
    ),
    sourceEdit(
      'sibling-edit',
      "a lib's build define changes (its own and its dependant lib's tests pass; the app's test fails)",
      'libs/decimal/package.json',
      ['POINT=.', 'POINT=,'],
      {
        rerun: ['decimal-build', 'decimal-test', 'tally-test', 'ledger-statement-test'],
        fails: ['ledger-statement-test'],
      },
    ),
    sourceEdit(
      'lint-error',
      'Biome error (`debugger`) in a lib that others import (libs/tally/src)',
      'libs/tally/src/index.js',
      [
        'export function balances(entries) {\n',
        'export function balances(entries) {\n  debugger;\n',
      ],
      { rerun: ['tally-lint'], fails: ['tally-lint'] },
    ),
    packageRunTypo('lint', 'lnit', ['decimal-lint', 'tally-lint', 'ledger-statement-lint'], 'yarn'),
  ],
  async () => ({ yarn: await hostYarnDir() }),
  'yarn',
);

/** nx's native binding for this machine, as the repository installed it (plugins/nx uses nx). */
const NX_NATIVE = join(
  HERE,
  '../../../../node_modules/.pnpm/@nx+nx-linux-x64-gnu@21.6.4/node_modules/@nx/nx-linux-x64-gnu/nx.linux-x64-gnu.node',
);

/**
 * A package-based nx workspace on npm workspaces (`packages/*`, `apps/*`): nx 21 (the version
 * `@gatehouse-ci/nx` is tested with) runs the root scripts with `targetDefaults` that build
 * `^build` first and test after the package's own build; each package lints with Biome,
 * builds into `dist/` and tests it with `node --test`. Its `gatehouse.yml` is committed as
 * `init` wrote it.
 */
export const nxPackages = npmWorkspaceFixture(
  'nx-packages',
  [
    sourceEdit(
      'failing-test',
      "a bug in a lib's source (packages/routes/src) that its own and its dependant's tests catch",
      'packages/routes/src/index.js',
      ['[year, month] =', '[month, year] ='],
      {
        rerun: ['routes-build', 'routes-test', 'atlas-site-test'],
        fails: ['routes-test', 'atlas-site-test'],
      },
    ),
    sourceEdit(
      'build-break',
      "a lib's build leaves out a module its entry point exports (its dependants cannot build)",
      'packages/slug/package.json',
      ['"node ../../tools/build.mjs"', '"node ../../tools/build.mjs slugify.js"'],
      { rerun: ['slug-build'], fails: ['slug-build'] },
    ),
    sourceEdit(
      'lint-error',
      'Biome error (`debugger`) in a lib (packages/routes/src)',
      'packages/routes/src/index.js',
      [
        'export function articlePath({ title, published }) {\n',
        'export function articlePath({ title, published }) {\n  debugger;\n',
      ],
      { rerun: ['routes-lint'], fails: ['routes-lint'] },
    ),
    packageRunTypo('test', 'tset', ['slug-test', 'routes-test', 'atlas-site-test']),
  ],
  // nx's postinstall (run by setup's `npm ci`) loads nx's native binding, which needs libutil.
  { librariesOf: [NX_NATIVE] },
);

/** The storefront example, with its own config (narrow `inputs` declared by hand). */
export const storefront: FixtureSource = {
  name: 'storefront',
  source: STOREFRONT,
  init: false,
  own: [
    { script: 'npm run lint' },
    { script: 'npm test' },
    { script: 'npm run build' },
    { script: 'npm run a11y' },
  ],
  image: () => ensureBrowserImage(),
  faults: [
    NONE,
    {
      id: 'nested-error',
      what: 'ESLint error in a source file (src/cart.js)',
      plant: (dir) =>
        replaceIn(
          dir,
          'src/cart.js',
          'export function formatPrice(',
          'const unusedRate = 1;\n\nexport function formatPrice(',
        ),
      expect: 'failed',
    },
    {
      id: 'failing-test',
      what: 'a failing unit test',
      plant: (dir) => replaceIn(dir, 'test/cart.test.js', 'toBe(2900)', 'toBe(2901)'),
      expect: 'failed',
    },
    {
      id: 'a11y',
      what: 'an a11y violation in a page (product image without alt)',
      plant: (dir) => replaceIn(dir, 'src/pages.js', ' alt="${escapeHtml(p.name)}"', ''),
      expect: 'failed',
      rerun: ['build', 'a11y'],
    },
    commandEdit('npm run build', 'npm run bujld'),
  ],
};
