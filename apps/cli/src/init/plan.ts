/**
 * Turns project facts into the starter config: the `UserConfig` init intends to write,
 * the comment above each part, and the lines printed to explain what was detected.
 */
import type { UserConfig, UserGate, UserRelease, UserSetup } from '@gatehouse-ci/core';
import {
  ESLINT_FILES,
  INSTALL_FILES,
  JEST_FILES,
  PA11Y_FILES,
  VITEST_FILES,
  type MonorepoFacts,
  type ProjectFacts,
} from './detect.js';
import { applyWorkspaceProposal, proposeWorkspaceGates } from './monorepo.js';

/** What `gatehouse init` will write, before it becomes text. */
export interface InitPlan {
  /** The config the written file must parse back to, key order included. */
  config: UserConfig;
  /** Comment lines (without `# `) above each part of the file. */
  comments: {
    image: string[];
    setup: string[];
    gates: Record<string, string[]>;
    release: string[];
    targets: string[];
  };
  /** One line per finding, printed by the command ("lint: ESLint (eslint.config.js)"). */
  detected: string[];
}

/** The placeholder `npm init` writes: it fails on purpose and tests nothing. */
const NPM_PLACEHOLDER_TEST = /^echo "Error: no test specified" && exit 1$/;

/** Longest pipeline name the config accepts. */
const NAME_MAX = 100;

/** Longest script body quoted in a comment. */
const QUOTE_MAX = 60;

function quoteScript(body: string): string {
  const one = body.replace(/\s+/g, ' ').trim();
  return one.length > QUOTE_MAX ? `${one.slice(0, QUOTE_MAX - 1)}…` : one;
}

/** How the project's package manager runs things. */
function pmCommands(f: ProjectFacts) {
  const pm = f.packageManager;
  const exec = pm.name === 'npm' ? 'npx' : pm.name === 'pnpm' ? 'pnpm exec' : 'yarn';
  // npm passes what follows `--` to the script; pnpm and yarn pass what follows the name
  // (pnpm would pass a `--` on too, and ESLint would then read the flags as file names).
  const runScript = (name: string, args = '') =>
    `${pm.name} run ${name}${args ? (pm.name === 'npm' ? ` -- ${args}` : ` ${args}`) : ''}`;
  let install: string;
  if (pm.name === 'npm') install = pm.lockfile ? 'npm ci' : 'npm install';
  else if (pm.name === 'pnpm')
    install = pm.lockfile ? 'pnpm install --frozen-lockfile' : 'pnpm install';
  else if (!pm.lockfile) install = 'yarn install';
  else install = pm.yarnBerry ? 'yarn install --immutable' : 'yarn install --frozen-lockfile';
  return { exec, runScript, install, test: `${pm.name} test` };
}

/** Shell syntax after which appended flags would not reach the tool the script starts. */
const COMPOUND_SCRIPT = /&&|\|\||[;|<>`&]|\$\(|\n/;

/**
 * Whether a script body is one call of `tool` (`eslint --ext js,jsx src --max-warnings 0`),
 * so flags appended through the package manager reach that tool, and none of `taken` is set
 * already.
 */
function scriptCallsTool(body: string | undefined, tool: string, taken: RegExp): boolean {
  if (body === undefined) return false;
  const text = body.trim();
  return (
    new RegExp(`^${tool}(\\s|$)`).test(text) && !COMPOUND_SCRIPT.test(text) && !taken.test(text)
  );
}

function firstPresent(f: ProjectFacts, files: readonly string[]): string | undefined {
  return files.find((p) => f.present.has(p));
}

function monorepoCommand(m: MonorepoFacts, exec: string, task: string): string {
  return m.tool === 'turbo' ? `${exec} turbo run ${task}` : `${exec} nx run-many -t ${task}`;
}

function monorepoComment(m: MonorepoFacts, task: string): string {
  return `Runs the \`${task}\` task of every package through ${m.tool === 'turbo' ? 'Turborepo' : 'Nx'} (found ${m.file}).`;
}

/** A relative path that stays inside the project, or null. */
function safeRelative(p: string): string | null {
  const clean = p.replace(/^\.\//, '').replace(/\/+$/, '');
  if (clean === '' || clean.startsWith('/') || clean.split('/').includes('..')) return null;
  return clean;
}

/** The directory a single-package build most likely writes, and why. */
function buildOutDir(f: ProjectFacts): { dir: string; why: string } {
  const build = f.scripts.build ?? '';
  if (f.deps.has('next')) return { dir: '.next', why: 'Next.js builds into .next/' };
  if (f.deps.has('react-scripts')) return { dir: 'build', why: 'react-scripts builds into build/' };
  const outDir = f.tsOutDir === null ? null : safeRelative(f.tsOutDir);
  if (/\btsc\b/.test(build) && outDir)
    return { dir: outDir, why: `tsconfig.json compilerOptions.outDir is ${outDir}` };
  if (f.present.has('build') && !f.present.has('dist'))
    return { dir: 'build', why: 'a build/ directory exists' };
  return { dir: 'dist', why: 'the usual output directory; adjust if your build writes elsewhere' };
}

/** Most the gate waits for the app's server to answer, in seconds. */
const SERVE_WAIT_SECONDS = 60;

/**
 * How an a11y gate serves the built app for URLs on localhost: the project's own `preview`
 * script (Vite, Astro and others serve the build with it), started in the background; the
 * gate waits until the first URL answers. Null when the URLs are not all on one local
 * origin or there is no such script. The server is a child of the gate: every executor
 * ends a gate's leftover processes with the gate.
 */
function servedBy(
  f: ProjectFacts,
  urls: string[],
  runScript: (name: string) => string,
): { prefix: string; script: string; origin: string } | null {
  if (urls.length === 0 || !f.scripts.preview) return null;
  let origin: string | null = null;
  for (const u of urls) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      return null;
    }
    if (url.protocol !== 'http:' || !['localhost', '127.0.0.1'].includes(url.hostname)) return null;
    if (origin !== null && url.origin !== origin) return null;
    origin = url.origin;
  }
  const first = urls[0]!;
  // Shell-safe: a URL here is an http origin on localhost plus a path; quote it anyway.
  const quoted = `'${first.replace(/'/g, `'\\''`)}'`;
  const wait =
    `node -e "const u=process.argv[1],t=Date.now()+${SERVE_WAIT_SECONDS * 1000};` +
    `(function p(){fetch(u).then(()=>{},()=>Date.now()<t?setTimeout(p,250):process.exit(1))})()" ${quoted}`;
  return {
    prefix: `${runScript('preview')} > "$GATEHOUSE_OUT/preview.log" 2>&1 & ${wait} && `,
    script: 'preview',
    origin: origin!,
  };
}

/** The package name, cut to what the config accepts without splitting a character. */
function pipelineName(name: string): string {
  let out = '';
  for (const ch of name) {
    if (out.length + ch.length > NAME_MAX) break;
    out += ch;
  }
  return out;
}

/** Builds the plan from the facts. Pure: same facts, same plan. */
export function planInit(f: ProjectFacts): InitPlan {
  const pm = pmCommands(f);
  const mono = f.monorepo;
  const monoHas = (task: string) => mono !== null && mono.tasks.has(task);
  const detected: string[] = [];
  const gates: Record<string, UserGate> = {};
  const gateComments: Record<string, string[]> = {};

  detected.push(`package manager: ${f.packageManager.name} (${f.packageManager.reason})`);
  for (const w of f.warnings) detected.push(`warning: ${w}`);
  const image = `node:${f.node.major}-bookworm-slim`;
  detected.push(`image: ${image} (Node ${f.node.major} from ${f.node.source})`);
  if (mono)
    detected.push(
      `monorepo: ${mono.tool} (${mono.file}; tasks: ${[...mono.tasks].sort().join(', ') || 'none found'})`,
    );

  // setup
  const setupInputs = ['package.json'];
  if (f.packageManager.lockfile) setupInputs.push(f.packageManager.lockfile);
  for (const extra of ['pnpm-workspace.yaml', '.npmrc', '.yarnrc.yml', ...INSTALL_FILES])
    if (f.present.has(extra)) setupInputs.push(extra === 'patches' ? 'patches/**' : extra);
  for (const ws of f.workspaces) {
    const rel = safeRelative(ws);
    if (rel) setupInputs.push(`${rel}/package.json`);
  }
  const setup: UserSetup = { run: pm.install, inputs: setupInputs };
  const setupComment = [
    `Installs dependencies once, before any gate (${f.packageManager.reason}).`,
    'Its cache key is the content of `inputs`: the manifest and the lockfile.',
  ];
  if (f.packageManager.name !== 'npm') {
    setupComment.push(
      `The image must provide ${f.packageManager.name} (for example \`corepack enable\`).`,
    );
  }

  const monoBuildOutputs = monoHas('build')
    ? (mono!.outputs.get('build') ?? [])
        .map((o) => safeRelative(o))
        .filter((o): o is string => o !== null)
    : [];
  const singleBuildOut = !monoHas('build') && f.scripts.build ? buildOutDir(f) : null;

  // lint
  const eslintFile = firstPresent(f, ESLINT_FILES);
  const eslintWhy =
    eslintFile ??
    (f.eslintInPackageJson ? 'eslintConfig in package.json' : undefined) ??
    (f.deps.has('eslint') ? 'eslint in devDependencies' : undefined) ??
    (/\beslint\b/.test(f.scripts.lint ?? '')
      ? `the lint script (${quoteScript(f.scripts.lint!)})`
      : undefined);
  if (monoHas('lint')) {
    gates.lint = {
      kind: 'lint',
      run: monorepoCommand(mono!, pm.exec, 'lint'),
      evidence: [{ format: 'exitcode' }],
    };
    gateComments.lint = [
      `lint — ${monorepoComment(mono!, 'lint')}`,
      'Each package writes its own report, so the exit code is the evidence here; to get',
      'findings in the report, run ESLint once at the root with `-f json -o "$GATEHOUSE_OUT/eslint.json"`.',
    ];
    detected.push(`lint: ${mono!.tool} task \`lint\``);
  } else if (
    f.scripts.lint &&
    scriptCallsTool(f.scripts.lint, 'eslint', /(^|\s)(-f|--format|-o|--output-file)(\s|=|$)/)
  ) {
    gates.lint = {
      kind: 'lint',
      run: pm.runScript('lint', '-f json -o "$GATEHOUSE_OUT/eslint.json"'),
      evidence: [{ format: 'eslint', path: 'eslint.json' }],
      policy: { max_errors: 0 },
    };
    gateComments.lint = [
      `lint — your \`lint\` script (${quoteScript(f.scripts.lint)}), as you run it, with ESLint's`,
      'JSON report added as evidence. Its exit code counts (--max-warnings too), and any error fails.',
    ];
    detected.push(
      `lint: the lint script, ESLint (${eslintWhy ?? 'called by the script'}), JSON findings added through it`,
    );
  } else if (f.scripts.lint) {
    gates.lint = {
      kind: 'lint',
      run: pm.runScript('lint'),
      evidence: [{ format: 'exitcode' }],
    };
    gateComments.lint = [
      `lint — your \`lint\` script (${quoteScript(f.scripts.lint)}), as you run it; its exit code decides.`,
    ];
    detected.push(
      `lint: the lint script${eslintWhy ? ' (not a single ESLint call, so exit code only)' : ' (exit code only)'}`,
    );
  } else if (eslintWhy) {
    gates.lint = {
      kind: 'lint',
      run: `${pm.exec} eslint . -f json -o "$GATEHOUSE_OUT/eslint.json"`,
      evidence: [{ format: 'eslint', path: 'eslint.json' }],
      policy: { max_errors: 0 },
    };
    gateComments.lint = [
      `lint — ESLint (found ${eslintWhy}).`,
      'Writes its findings as JSON evidence; any error fails the gate (policy.max_errors: 0).',
    ];
    detected.push(`lint: ESLint (${eslintWhy})`);
  } else {
    detected.push('lint: nothing found (no ESLint config, dependency or lint script)');
  }

  // unit tests
  const testScript =
    f.scripts.test && !NPM_PLACEHOLDER_TEST.test(f.scripts.test.trim())
      ? f.scripts.test
      : undefined;
  const vitestWhy =
    firstPresent(f, VITEST_FILES) ??
    (f.deps.has('vitest') ? 'vitest in devDependencies' : undefined) ??
    (testScript && /\bvitest\b/.test(testScript) ? 'the test script' : undefined);
  const jestWhy =
    firstPresent(f, JEST_FILES) ??
    (f.jestInPackageJson ? 'jest in package.json' : undefined) ??
    (f.deps.has('jest') ? 'jest in devDependencies' : undefined) ??
    (testScript && /\bjest\b/.test(testScript) ? 'the test script' : undefined);
  if (monoHas('test')) {
    gates.unit = {
      kind: 'unit-test',
      run: monorepoCommand(mono!, pm.exec, 'test'),
      evidence: [{ format: 'exitcode' }],
    };
    gateComments.unit = [
      `unit — ${monorepoComment(mono!, 'test')}`,
      "The exit code is the evidence; point each package's test runner at a JUnit file to get per-test results.",
    ];
    detected.push(`unit: ${mono!.tool} task \`test\``);
  } else if (
    vitestWhy &&
    (testScript === undefined ||
      scriptCallsTool(testScript, 'vitest', /(^|\s)(--reporter|--outputFile|--coverage)\b/))
  ) {
    const coverage = ['@vitest/coverage-v8', '@vitest/coverage-istanbul'].find((d) =>
      f.deps.has(d),
    );
    let flags = `--reporter=default --reporter=junit --outputFile.junit="$GATEHOUSE_OUT/junit.xml"`;
    const evidence: UserGate['evidence'] = [{ format: 'junit', path: 'junit.xml' }];
    if (coverage) {
      // Without reportOnFailure Vitest writes no coverage when a test fails, and the gate would lose its evidence.
      flags +=
        ' --coverage.enabled --coverage.reportOnFailure --coverage.reporter=json-summary --coverage.reportsDirectory="$GATEHOUSE_OUT/coverage"';
      evidence.push({ format: 'istanbul', path: 'coverage/coverage-summary.json' });
    }
    // The project's own test script when it is one Vitest call (`vitest` alone watches: --run).
    const run = testScript
      ? pm.runScript(
          'test',
          /^vitest\s+run\b|(^|\s)--run\b/.test(testScript.trim()) ? flags : `--run ${flags}`,
        )
      : `${pm.exec} vitest run ${flags}`;
    gates.unit = { kind: 'unit-test', run, evidence };
    gateComments.unit = [
      `unit — ${testScript ? `your \`test\` script (${quoteScript(testScript)}), Vitest` : 'Vitest'} (found ${vitestWhy}), with a JUnit report as evidence${coverage ? ` and coverage from ${coverage}` : ''}.`,
      'A failed test fails the gate.' +
        (coverage ? ' Add policy.min_coverage to enforce a floor.' : ''),
    ];
    detected.push(
      `unit: Vitest (${vitestWhy})${coverage ? `, coverage via ${coverage}` : ''}${jestWhy ? '; Jest also found, Vitest preferred' : ''}`,
    );
  } else if (
    jestWhy &&
    (testScript === undefined || scriptCallsTool(testScript, 'jest', /(^|\s)--reporters\b/))
  ) {
    const junit = f.deps.has('jest-junit');
    const jest = (args: string) =>
      testScript ? pm.runScript('test', args) : `${pm.exec} jest ${args}`;
    gates.unit = junit
      ? {
          kind: 'unit-test',
          run: `JEST_JUNIT_OUTPUT_DIR="$GATEHOUSE_OUT" JEST_JUNIT_OUTPUT_NAME=junit.xml ${jest('--ci --reporters=default --reporters=jest-junit')}`,
          evidence: [{ format: 'junit', path: 'junit.xml' }],
        }
      : {
          kind: 'unit-test',
          run: jest('--ci'),
          evidence: [{ format: 'exitcode' }],
        };
    gateComments.unit = junit
      ? [`unit — Jest (found ${jestWhy}), with jest-junit writing the JUnit evidence.`]
      : [
          `unit — Jest (found ${jestWhy}). Only the exit code is evidence:`,
          'add jest-junit as a dev dependency and rerun `gatehouse init --force` for per-test results.',
        ];
    detected.push(
      `unit: Jest (${jestWhy})${junit ? ', JUnit via jest-junit' : ', no jest-junit so exit code only'}`,
    );
  } else if (testScript) {
    gates.unit = {
      kind: 'unit-test',
      run: pm.test,
      evidence: [{ format: 'exitcode' }],
    };
    gateComments.unit = [
      `unit — your \`test\` script (${quoteScript(testScript)}); its exit code decides.`,
    ];
    detected.push(
      `unit: the test script (${vitestWhy || jestWhy ? 'not a single Vitest or Jest call' : 'no known runner'}, so exit code only)`,
    );
  } else {
    detected.push('unit: nothing found (no Vitest, Jest or test script)');
  }

  // build
  let buildOut: string | null = null;
  if (monoHas('build')) {
    const perPackage = monoBuildOutputs;
    const globs = perPackage.length ? perPackage : ['dist/**'];
    const outputs: string[] = [];
    for (const ws of f.workspaces.map(safeRelative).filter((w): w is string => w !== null)) {
      for (const g of globs) outputs.push(`${ws}/${g}`);
    }
    if (!outputs.length) outputs.push(...globs);
    gates.build = {
      kind: 'build',
      run: monorepoCommand(mono!, pm.exec, 'build'),
      outputs,
    };
    gateComments.build = [
      `build — ${monorepoComment(mono!, 'build')}`,
      `outputs are a guess (${perPackage.length ? `${mono!.file} build outputs` : 'dist/'} in each workspace package); gates that need build see them.`,
    ];
    detected.push(`build: ${mono!.tool} task \`build\`, outputs guessed: ${outputs.join(', ')}`);
  } else if (f.scripts.build) {
    const out = singleBuildOut!;
    buildOut = out.dir;
    gates.build = {
      kind: 'build',
      run: pm.runScript('build'),
      outputs: [`${out.dir}/**`],
    };
    gateComments.build = [
      `build — your \`build\` script (${quoteScript(f.scripts.build)}).`,
      `outputs: ${out.dir}/** (${out.why}); gates that need build, and the release, see them.`,
    ];
    detected.push(`build: the build script, outputs guessed: ${out.dir}/** (${out.why})`);
  } else {
    detected.push('build: no build script');
  }

  // accessibility
  const pa11yWhy =
    firstPresent(f, PA11Y_FILES) ??
    (f.deps.has('pa11y-ci') ? 'pa11y-ci in devDependencies' : undefined);
  const needsBuild = gates.build ? { needs: ['build'] } : {};
  if (pa11yWhy) {
    const served = gates.build ? servedBy(f, f.pa11yUrls, pm.runScript) : null;
    gates.a11y = {
      kind: 'a11y-test',
      ...needsBuild,
      run: `${served ? served.prefix : ''}${pm.exec} pa11y-ci --json > "$GATEHOUSE_OUT/pa11y.json"`,
      evidence: [{ format: 'pa11y', path: 'pa11y.json' }],
      policy: { max_violations: 0 },
    };
    gateComments.a11y = [
      `a11y — pa11y-ci (found ${pa11yWhy}) checks the URLs of your pa11y-ci config.`,
      ...(served
        ? [
            `It needs build and checks the built app served by your \`${served.script}\` script at ${served.origin}:`,
            'the gate starts it, waits until it answers, and stops it when the scan ends.',
          ]
        : gates.build
          ? ['It needs build, so it runs on the built site; serve it if your URLs are http://.']
          : []),
      'Any accessibility violation fails the gate (policy.max_violations: 0).',
    ];
    detected.push(
      `a11y: pa11y-ci (${pa11yWhy})${served ? `, the build served by the ${served.script} script` : ''}`,
    );
  } else if (f.deps.has('@axe-core/cli')) {
    const url = buildOut ? `file://$PWD/${buildOut}/index.html` : 'http://localhost:3000';
    gates.a11y = {
      kind: 'a11y-test',
      ...needsBuild,
      run: `${pm.exec} axe "${url}" --dir "$GATEHOUSE_OUT" --save axe.json`,
      evidence: [{ format: 'axe', path: 'axe.json' }],
      policy: { max_violations: 0 },
    };
    gateComments.a11y = [
      'a11y — axe (found @axe-core/cli in devDependencies). The page is a guess: list your pages.',
      'Any accessibility violation fails the gate (policy.max_violations: 0).',
    ];
    detected.push(`a11y: @axe-core/cli, page guessed: ${url}`);
  }

  // SonarQube
  if (f.present.has('sonar-project.properties')) {
    gates.sonar = {
      kind: 'sonarqube',
      run: 'npx @sonar/scan',
      secrets: ['SONAR_TOKEN'],
      mode: 'advisory',
    };
    gateComments.sonar = [
      'sonar — SonarQube scan (found sonar-project.properties), using its settings.',
      'SONAR_TOKEN is a secret name: its value comes from the environment at run time.',
      'Advisory: reported, never fails the run. Make it blocking once the quality gate is green.',
    ];
    detected.push('sonar: sonar-project.properties');
  }

  // release
  let release: UserRelease | undefined;
  const releaseComment: string[] = [];
  if (gates.build && buildOut !== null && f.scripts.start) {
    const start = f.scripts.start.trim();
    const file = /^node\s+([A-Za-z0-9_./@-]+)$/.exec(start)?.[1];
    const rel = file ? safeRelative(file) : null;
    const cmd = rel ? ['node', rel] : ['npm', 'start'];
    const copy = [`${buildOut}/`, 'package.json'];
    if (rel && !rel.startsWith(`${buildOut}/`)) copy.push(rel);
    release = { from: 'build', copy, cmd };
    releaseComment.push(
      'The image to ship, built from the build gate once every blocking gate passed.',
      rel
        ? `cmd comes from your start script (${quoteScript(start)}), in exec form.`
        : `Your start script (${quoteScript(start)}) is not \`node <file>\`, so the image runs \`npm start\`.`,
      'Add to copy whatever else the app needs at run time (node_modules, public assets).',
    );
    detected.push(`release: from build, cmd ${JSON.stringify(cmd)}`);
  } else if (gates.build && mono) {
    detected.push(
      'release: none (a monorepo ships several apps: add a release for the one you deploy)',
    );
  } else if (gates.build) {
    detected.push('release: none (no start script)');
  }

  // targets
  const targets: Record<string, Record<string, unknown>> = { dockerfile: {} };
  const found: Array<[target: string, why: string]> = [];
  if (f.present.has('.github')) found.push(['github', '.github/workflows']);
  if (f.present.has('Jenkinsfile')) found.push(['jenkins', 'Jenkinsfile']);
  if (f.present.has('.buildkite')) found.push(['buildkite', '.buildkite/']);
  if (f.present.has('.gitlab-ci.yml')) found.push(['gitlab', '.gitlab-ci.yml']);
  for (const [t] of found) targets[t] = {};
  if (!found.length) targets.github = {};
  const targetsComment = [
    '`gatehouse compile` writes one file per target: a multi-stage Dockerfile whose stages are',
    found.length
      ? `the gates, and the CI config of ${found.map(([t, why]) => `${t} (found ${why})`).join(', ')}.`
      : 'the gates, and a GitHub Actions workflow (no CI config found, GitHub is the default).',
  ];
  detected.push(
    `targets: ${Object.keys(targets).join(', ')}${found.length ? '' : ' (no CI config found; github by default)'}`,
  );

  if (f.workspace) {
    const proposal = proposeWorkspaceGates(
      f.workspace,
      (mono?.outputs.get('build') ?? []).filter((o) => !o.startsWith('!') && safeRelative(o)),
    );
    // The whole-repository gates the proposal replaces: those run through turbo or nx.
    const viaTool = (id: string, g: UserGate) => {
      const task = ({ lint: 'lint', unit: 'test', build: 'build' } as Record<string, string>)[id];
      return mono !== null && task !== undefined && g.run === monorepoCommand(mono, pm.exec, task);
    };
    if (proposal)
      applyWorkspaceProposal(f.scripts, gates, gateComments, detected, proposal, viaTool);
  }

  if (Object.values(gates).some((g) => g.packages)) {
    detected.push(
      "cache: a package's gates are keyed on its files, its workspace dependencies' files and the files at the root (lockfile, root configs); other gates on every file git knows",
    );
  } else if (Object.keys(gates).length) {
    detected.push(
      'cache: gates declare no inputs, so each is keyed on every file git knows in the project (add inputs only to narrow it, listing every file the gate reads)',
    );
  }

  if (!Object.keys(gates).length) {
    // A config needs at least one gate; a placeholder that passes would claim checks that do not exist.
    gates.todo = {
      kind: 'custom',
      run: "echo 'gatehouse: no checks configured yet; replace the todo gate in gatehouse.yml' >&2; exit 1",
    };
    gateComments.todo = [
      'todo — nothing to check was found (no lint, test, build, accessibility or Sonar setup).',
      'This gate fails on purpose until you replace it with your own checks.',
    ];
    detected.push('gates: nothing to check was found; wrote a failing `todo` gate to replace');
  }

  const config: UserConfig = {
    version: 1,
    name: pipelineName(f.name),
    image,
    setup,
    gates,
    ...(release ? { release } : {}),
    targets,
  };
  return {
    config,
    comments: {
      image: [
        `Runtime image for gates in containers: Node ${f.node.major}, from ${f.node.source}.`,
      ],
      setup: setupComment,
      gates: gateComments,
      release: releaseComment,
      targets: targetsComment,
    },
    detected,
  };
}
