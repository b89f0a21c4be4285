/**
 * The config language, as one JSON Schema object. It is the single source of truth for:
 * the validator's structural checks (`validate.ts` walks it), the published
 * `schema/gatehouse.schema.json` (editors) and `docs/config-reference.md`.
 *
 * Keys starting with `x-gatehouse-` are ours: they pick the diagnostic code or a custom
 * check, and are stripped from the published schema.
 */
import type { DiagnosticCode } from '../diagnostics.js';
import { DURATION_PATTERN } from '../duration.js';
import { EVIDENCE_FORMATS, GATE_KINDS } from '../model.js';

/** JSON types as the validator distinguishes them. */
export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** Custom checks the validator runs instead of (or besides) the generic ones. */
export type GatehouseFormat =
  | 'gate-id'
  | 'need'
  | 'env-name'
  | 'secret-name'
  | 'duration'
  | 'image'
  | 'relative-glob'
  | 'input-glob'
  | 'output-glob'
  | 'evidence-path'
  | 'absolute-path';

/** The subset of JSON Schema (2020-12) the config language uses, plus our annotations. */
export interface SchemaNode {
  $schema?: string;
  $id?: string;
  title?: string;
  type?: JsonType | JsonType[];
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: readonly unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  additionalProperties?: boolean | SchemaNode;
  propertyNames?: SchemaNode;
  minProperties?: number;
  items?: SchemaNode;
  minItems?: number;
  anyOf?: SchemaNode[];
  /**
   * Conditional requirements, for the published schema only: the walker ignores them, and a
   * semantic rule (`rules.ts`) checks the same thing with a located diagnostic.
   */
  if?: SchemaNode;
  else?: SchemaNode;
  /** For the published schema only, like `if`/`else`: the walker ignores it. */
  not?: SchemaNode;
  /** Diagnostic code for enum/pattern/range failures of this node. */
  'x-gatehouse-code'?: DiagnosticCode;
  /** A custom check (see `validate.ts`). */
  'x-gatehouse-format'?: GatehouseFormat;
}

/** Gate ids: lowercase, digits and hyphens; they become stage, job and step names. */
export const GATE_ID_PATTERN = '^[a-z][a-z0-9-]{0,62}$';
/** Env and secret names. */
export const ENV_NAME_PATTERN = '^[A-Z_][A-Z0-9_]*$';
/** Prefixes CI systems own; a config may not set or read these names. */
export const RESERVED_NAME_PREFIXES = ['GITHUB_', 'BUILDKITE', 'BK_'] as const;

const envName: SchemaNode = {
  type: 'string',
  pattern: '^(?!GITHUB_|BUILDKITE|BK_)[A-Z_][A-Z0-9_]*$',
  'x-gatehouse-format': 'env-name',
};

const envMap = (what: string): SchemaNode => ({
  type: 'object',
  description: `${what} Values are plain text (quote numbers: \`"1"\`); never put secrets here.`,
  propertyNames: envName,
  additionalProperties: { type: 'string' },
  default: {},
});

const secretList = (what: string): SchemaNode => ({
  type: 'array',
  description: `${what} Names only (\`SONAR_TOKEN\`); the values are read from the environment at run time and never written to generated files, images, logs or reports.`,
  items: {
    type: 'string',
    pattern: '^(?!GITHUB_|BUILDKITE|BK_)[A-Z_][A-Z0-9_]*$',
    'x-gatehouse-format': 'secret-name',
  },
  default: [],
});

const globList = (what: string): SchemaNode => ({
  type: 'array',
  description: `${what} Relative to the config directory; \`!\` negates; may not be absolute or leave the directory.`,
  items: { type: 'string', minLength: 1, 'x-gatehouse-format': 'relative-glob' },
  default: [],
});

/**
 * `outputs`: globs of the config directory; `//` names the workspace root, which only a config
 * at that root may (where it is the config directory: in a gate of `packages`, the root's
 * rather than the package's).
 */
const outputList = (what: string): SchemaNode => ({
  type: 'array',
  description: `${what} Relative to the config directory; \`!\` negates; may not be absolute or leave the directory. In a config at the workspace root, a leading \`//\` names that root, so a gate of \`packages\` can name what a package's build writes there (\`//dist/libs/ui/**\`, see [Monorepos](#monorepos)).`,
  items: { type: 'string', minLength: 1, 'x-gatehouse-format': 'output-glob' },
  default: [],
});

/** `inputs`: globs of the config directory, or of the workspace root with a leading `//`. */
const inputList = (what: string): SchemaNode => ({
  type: 'array',
  description: `${what} Relative to the config directory, or to the workspace root with a leading \`//\` (\`//tsconfig.base.json\`, see [Monorepos](#monorepos)); \`!\` negates; may not be absolute or leave the directory (or the workspace root).`,
  items: { type: 'string', minLength: 1, 'x-gatehouse-format': 'input-glob' },
  default: [],
});

const timeout = (description: string, def?: string): SchemaNode => ({
  description: `${description} \`500ms\`, \`90s\`, \`10m\`, \`1h\` or a number of seconds; at most 24h.`,
  anyOf: [
    { type: 'string', pattern: DURATION_PATTERN, 'x-gatehouse-format': 'duration' },
    { type: 'number', exclusiveMinimum: 0, 'x-gatehouse-format': 'duration' },
  ],
  ...(def === undefined ? {} : { default: def }),
  'x-gatehouse-code': 'GH_INVALID_TIMEOUT',
});

const image = (description: string): SchemaNode => ({
  type: 'string',
  description: `${description} Pin a tag or a digest: \`latest\` or no tag is a warning. A bare stage name of the generated Dockerfile (\`base\`, \`setup\`, \`gate-*\`, \`result-*\`, \`gatehouse-results\`, \`gatehouse-verdict\`, \`gatehouse-judged\`, \`gatehouse-deploy\`, \`release\`) is refused.`,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._/:@-]*$',
  'x-gatehouse-format': 'image',
});

const nonNegInt = (description: string): SchemaNode => ({
  type: 'integer',
  minimum: 0,
  description,
});
const percent = (description: string): SchemaNode => ({
  type: 'number',
  minimum: 0,
  maximum: 100,
  description,
});

const policy: SchemaNode = {
  type: 'object',
  description:
    'Thresholds the gate evidence is measured against. Absent keys are not checked. Keys that a gate of this kind never measures are a warning.',
  additionalProperties: false,
  properties: {
    max_errors: nonNegInt('Lint: maximum number of errors.'),
    max_warnings: nonNegInt('Lint: maximum number of warnings.'),
    max_failed: nonNegInt('Tests: maximum number of failed tests (`unit-test` default: 0).'),
    min_coverage: {
      type: 'object',
      description: 'Tests: minimum coverage percentages (0-100).',
      additionalProperties: false,
      properties: {
        lines: percent('Minimum line coverage.'),
        branches: percent('Minimum branch coverage.'),
        functions: percent('Minimum function coverage.'),
        statements: percent('Minimum statement coverage.'),
      },
    },
    max_violations: {
      description:
        "Accessibility: maximum violations, in total (a number) or per impact (a map). A violation whose tool gave no impact (pa11y's default runner) counts against every impact limit.",
      anyOf: [
        { type: 'integer', minimum: 0 },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            critical: nonNegInt('Maximum critical violations.'),
            serious: nonNegInt('Maximum serious violations.'),
            moderate: nonNegInt('Maximum moderate violations.'),
            minor: nonNegInt('Maximum minor violations.'),
          },
        },
      ],
    },
    sonar_quality_gate: {
      type: 'boolean',
      description: 'SonarQube: the server quality gate must be OK (`sonarqube` default: true).',
    },
    baseline: {
      type: 'string',
      minLength: 1,
      description:
        'Path (relative to the config) of an earlier `report.json`: only findings new since then count.',
      'x-gatehouse-format': 'relative-glob',
    },
  },
};

const evidence: SchemaNode = {
  type: 'array',
  description:
    'Evidence files the gate writes into `$GATEHOUSE_OUT`. Default: `[{ format: exitcode }]` (the exit code is the only evidence).',
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['format'],
    properties: {
      format: {
        type: 'string',
        enum: EVIDENCE_FORMATS,
        description: 'Parser for the file; `exitcode` means no file.',
        'x-gatehouse-code': 'GH_UNKNOWN_EVIDENCE_FORMAT',
      },
      path: {
        type: 'string',
        minLength: 1,
        description:
          'Path relative to `$GATEHOUSE_OUT`; no `..`, not absolute. Default per format: eslint `eslint.json`, sarif `results.sarif`, junit `junit.xml`, istanbul `coverage-summary.json`, lcov `lcov.info`, pa11y `pa11y.json`, axe `axe.json`, sonarqube `sonarqube.json`, ctrf `ctrf.json`, cobertura `cobertura-coverage.xml`.',
        'x-gatehouse-format': 'evidence-path',
      },
    },
  },
};

const gateProperties: Record<string, SchemaNode> = {
  kind: {
    type: 'string',
    description: `Gate kind; picks defaults (timeout, mode, policy). Built in: ${GATE_KINDS.map((k) => `\`${k}\``).join(', ')}; plugins may add more.`,
    pattern: '^[a-z][a-z0-9-]*$',
    examples: [...GATE_KINDS],
    default: 'custom',
    'x-gatehouse-code': 'GH_UNKNOWN_KIND',
  },
  run: {
    type: 'string',
    minLength: 1,
    description:
      'Shell command (POSIX `sh`). Required, except in a gate with `packages.script`, where it defaults to `<package manager> run <script>`. A gate of `packages` runs it in the package directory.',
  },
  description: { type: 'string', description: 'One line shown in reports.' },
  needs: {
    type: 'array',
    description:
      'Gates that must finish first; their `outputs` are visible to this gate. In a gate of `packages`, `build` means the `build` of the same package and of every workspace package it depends on (transitively), and `^build` only the latter (see [Monorepos](#monorepos)).',
    items: { type: 'string', 'x-gatehouse-format': 'need' },
    default: [],
  },
  image: image('Runtime image when the gate runs in a container. Default: the top-level `image`.'),
  env: envMap('Plain environment variables for this gate.'),
  secrets: secretList('Secrets this gate reads.'),
  inputs: inputList('Files whose content is part of the cache key.'),
  outputs: outputList('Files the gate produces, visible to gates that need it and to `release`.'),
  timeout: timeout('Kill the gate after this long. Default per kind (see below).'),
  mode: {
    type: 'string',
    enum: ['blocking', 'advisory'],
    description:
      '`blocking` gates decide the verdict; `advisory` gates are reported only. Default per kind.',
    'x-gatehouse-code': 'GH_INVALID_MODE',
  },
  evidence,
  policy,
  tools: {
    type: 'object',
    description:
      'Tool versions that belong to the cache key and the report, e.g. `{ eslint: "9.39.0" }`.',
    additionalProperties: { type: 'string' },
    default: {},
  },
  when: {
    type: 'object',
    description:
      'Run the gate only when these conditions hold; otherwise it is reported `skipped` with the reason, and its secrets are not required.',
    additionalProperties: false,
    properties: {
      env: {
        type: 'array',
        description:
          'Environment variables that must be set and non-empty at run time, e.g. `[SONAR_HOST_URL]`. Names only.',
        items: envName,
        default: [],
      },
    },
  },
};

const gateOverride: SchemaNode = {
  type: 'object',
  description:
    "Keys of the gate that differ for this package; they replace the gate's own (a mapping such as `env` or `policy` replaces it whole).",
  additionalProperties: false,
  properties: gateProperties,
};

const packages: SchemaNode = {
  type: 'object',
  description:
    "Declare the gate once for many workspace packages (from `pnpm-workspace.yaml` or `package.json#workspaces`; in an nx workspace of `project.json` projects, nx's project graph): it becomes one gate per selected package, with the id `<package>-<gate>` (`core-lint` for `@acme/core`), run in the package directory. `{}` selects every package.",
  additionalProperties: false,
  properties: {
    script: {
      type: 'string',
      minLength: 1,
      description:
        'Only packages whose `package.json` has this script (nx projects: this target); `run` defaults to `<package manager> run <script>` (nx projects: `nx run <project>:<script>`).',
    },
    match: {
      type: 'array',
      minItems: 1,
      description:
        'Only packages whose name or directory matches one of these globs (`@acme/*`, `packages/**`); `!` excludes; the last match wins.',
      items: { type: 'string', minLength: 1 },
    },
    direct: {
      type: 'boolean',
      default: false,
      description:
        "With `script` and the default `run`: `gatehouse run` (locally and in CI's native jobs; not the Docker executor or the Dockerfile) starts the script's command itself, in the package directory with every `node_modules/.bin` from there up on `PATH` and npm's `npm_package_*`/`npm_lifecycle_*` variables, instead of starting the package manager for each package. A package whose script has `pre`/`post` scripts, or whose `.npmrc` changes how scripts run, runs through the package manager, and so does every package of a yarn 2+ workspace. Where it cannot apply (no `script`, a `run` of the gate or of a package's override, nx projects) it is a warning, `GH_DIRECT_NO_EFFECT` (see [Monorepos](#monorepos)).",
    },
    overrides: {
      type: 'object',
      description: 'Per package, by package name: gate keys that differ for that package.',
      additionalProperties: gateOverride,
      default: {},
    },
  },
};

const gate: SchemaNode = {
  type: 'object',
  description:
    'A gate: one check, run as `/bin/sh -c <run>` with `$GATEHOUSE_OUT` set to its evidence directory.',
  additionalProperties: false,
  properties: { ...gateProperties, packages },
  // `run` is required unless `packages.script` gives it (rule `gateHasRun`).
  if: {
    type: 'object',
    required: ['packages'],
    properties: {
      packages: {
        type: 'object',
        required: ['script'],
        properties: { script: { type: 'string' } },
      },
    },
  },
  else: { required: ['run'], properties: { run: { type: 'string' } } },
};

/** The JSON Schema of `gatehouse.yml`. */
export const configSchema: SchemaNode = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://cdn.jsdelivr.net/npm/gatehouse-ci/schema/gatehouse.schema.json',
  title: 'gatehouse.yml',
  description:
    'Quality gates declared once: compiled to a Dockerfile and CI configs, run anywhere, reported once.',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'name', 'gates'],
  properties: {
    version: {
      type: 'integer',
      enum: [1],
      description: 'Config language version. Only `1` exists.',
      'x-gatehouse-code': 'GH_UNKNOWN_VERSION',
    },
    extends: {
      type: 'array',
      description:
        'Presets this config builds on, applied in order: a file (`./presets/web.yml`, relative to this file) or an npm package resolved from this directory (`@acme/gatehouse-preset-webapp`). With `extends`, `name` and `gates` may come from a preset, `gates.<id>: null` removes an inherited gate, and a list key written `<key>+` appends to the inherited list. See [Presets](presets.md).',
      items: { type: 'string', minLength: 1 },
      default: [],
    },
    name: {
      type: 'string',
      minLength: 1,
      maxLength: 100,
      description: 'Pipeline name, shown in reports and CI.',
    },
    image: image(
      'Default runtime image for gates and the release. Default: `node:20-bookworm-slim`.',
    ),
    workdir: {
      type: 'string',
      description: 'Working directory inside containers (absolute). Default: `/app`.',
      default: '/app',
      'x-gatehouse-format': 'absolute-path',
    },
    setup: {
      type: 'object',
      description: 'The shared install step, run once before any gate (the "builder" stage).',
      additionalProperties: false,
      required: ['run'],
      properties: {
        run: { type: 'string', minLength: 1, description: 'Shell command, e.g. `npm ci`.' },
        inputs: inputList(
          'Files the setup reads (copied into the setup stage; part of its cache key).',
        ),
        env: envMap('Plain environment variables for the setup.'),
        secrets: secretList('Secrets the setup reads (e.g. a registry token).'),
        timeout: timeout('Kill the setup after this long.', '30m'),
      },
    },
    gates: {
      type: 'object',
      description: 'The gates, by id. Ids match `^[a-z][a-z0-9-]{0,62}$`.',
      minProperties: 1,
      propertyNames: { type: 'string', pattern: GATE_ID_PATTERN, 'x-gatehouse-format': 'gate-id' },
      additionalProperties: gate,
    },
    release: {
      type: 'object',
      description: 'The release image, built from a gate once every blocking gate passed.',
      additionalProperties: false,
      required: ['from', 'copy', 'cmd'],
      properties: {
        from: {
          type: 'string',
          description: 'Gate whose outputs the image is made from (usually `build`).',
          'x-gatehouse-format': 'gate-id',
        },
        copy: {
          ...globList('Files and directories copied into the image.'),
          description:
            'Files and directories copied into the image. Relative to the config directory, or to the package directory when the image is made of a workspace package (`deploy`); `!` negates; may not be absolute or leave the directory.',
        },
        cmd: {
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          description: 'Exec-form start command, e.g. `[node, dist/server.js]`.',
        },
        image: image('Runtime image. Default: the top-level `image`.'),
        expose: {
          type: 'array',
          items: { type: 'integer', minimum: 1, maximum: 65535 },
          description: 'Ports documented with `EXPOSE`.',
          default: [],
        },
        env: envMap('Environment of the release image.'),
        user: {
          type: 'string',
          pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$',
          description: 'User the image runs as.',
          default: 'node',
        },
        workdir: {
          type: 'string',
          description: 'Working directory of the image. Default: the top-level `workdir`.',
          'x-gatehouse-format': 'absolute-path',
        },
        deploy: {
          type: 'boolean',
          description:
            "Make the image of the workspace package that `from` (a gate of `packages:`) is expanded for: its `copy` files, its package.json and its production dependencies, workspace packages included with their build outputs (`pnpm deploy --prod`; in an npm workspace, the packages its lockfile installs for it; in a yarn workspace installed into `node_modules`, the packages installed there for it). Default: true when `from` is a gate of `packages:` in a pnpm, npm or yarn workspace (not with yarn's Plug'n'Play). `false` copies `copy` from the gate as written.",
        },
      },
    },
    targets: {
      type: 'object',
      description:
        'Targets to compile, by name, with their options (`{}` or empty for defaults). Each target plugin documents and validates its options.',
      propertyNames: { type: 'string', pattern: '^[a-z][a-z0-9-]*$' },
      additionalProperties: { type: ['object', 'null'] },
      default: {},
    },
    plugins: {
      type: 'array',
      description: 'npm packages of third-party plugins, resolved from the config directory.',
      items: { type: 'string', minLength: 1 },
      default: [],
    },
    cache: {
      type: 'object',
      description: 'How the emitted CI configs use the cache.',
      additionalProperties: false,
      properties: {
        remote: {
          type: 'boolean',
          default: false,
          description:
            'Native CI gate jobs use the remote cache: they pass `GATEHOUSE_REMOTE_CACHE_URL`, `_TEAM`, `_TOKEN` and `_SIGNATURE_KEY` from CI variables and secrets by name, read-write on pushes to the default branch and read-only elsewhere. See docs/remote-cache.md.',
        },
      },
    },
  },
};

/** `<key>+` for every list property of `node`: appended to the inherited list. */
function withAppendKeys(node: SchemaNode, required: string[] = []): SchemaNode {
  const properties: Record<string, SchemaNode> = { ...node.properties };
  for (const [k, v] of Object.entries(node.properties ?? {})) {
    if (v.type === 'array')
      properties[`${k}+`] = { ...v, description: `Appended to the inherited \`${k}\`.` };
  }
  // A part of a preset or of a config extending one may leave out what the merged config must
  // have: no requirement, conditional ones included.
  const { if: _if, else: _else, ...rest } = node;
  return { ...rest, properties, required };
}

const top = configSchema.properties!;
const gatesNode = top.gates!;

/**
 * The schema a config with `extends` and every preset is walked with: only `version` is
 * required (the rest may come from a preset, and is checked once merged), a gate may be
 * `null` (removed), and lists of the top level, `setup`, `release` and gates may be
 * written `<key>+` (appended).
 */
export const extendingSchema: SchemaNode = withAppendKeys(
  {
    ...configSchema,
    properties: {
      ...top,
      setup: withAppendKeys(top.setup!),
      release: withAppendKeys(top.release!),
      gates: {
        ...gatesNode,
        additionalProperties: {
          anyOf: [withAppendKeys(gatesNode.additionalProperties as SchemaNode), { type: 'null' }],
        },
      },
    },
  },
  ['version'],
);

/** What a node requires, conditional requirements included. */
function requirementsOf(node: SchemaNode): SchemaNode {
  return {
    ...(node.required
      ? {
          required: node.required,
          properties: Object.fromEntries(node.required.map((k) => [k, {}])),
        }
      : {}),
    ...(node.if ? { if: node.if } : {}),
    ...(node.else ? { else: node.else } : {}),
  };
}

/** Not a `<key>+`: for the parts of a config that extends nothing. */
const NO_APPEND_KEY = { not: { pattern: '\\+$' } };

/**
 * The config schema for editors, which must accept what the validator accepts: with `extends`,
 * `name` and `gates` may come from a preset (only `version` is always required), a gate may be
 * `null` (removed) and lists may be written `<key>+` (appended); without `extends`, none of that.
 */
const editorSchema: SchemaNode = {
  ...extendingSchema,
  required: ['version'],
  if: { type: 'object', required: ['extends'], properties: { extends: { type: 'array' } } },
  else: {
    required: ['name', 'gates'],
    propertyNames: NO_APPEND_KEY,
    properties: {
      name: { type: 'string' },
      gates: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          propertyNames: NO_APPEND_KEY,
          ...requirementsOf(gatesNode.additionalProperties as SchemaNode),
        },
      },
      setup: { type: 'object', propertyNames: NO_APPEND_KEY, ...requirementsOf(top.setup!) },
      release: { type: 'object', propertyNames: NO_APPEND_KEY, ...requirementsOf(top.release!) },
    },
  },
};

/** The schema as published for editors: our `x-gatehouse-*` annotations removed. */
export function publishedSchema(node: SchemaNode = editorSchema): Record<string, unknown> {
  return strip(node) as Record<string, unknown>;
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      if (!k.startsWith('x-gatehouse-')) out[k] = strip(v);
    return out;
  }
  return value;
}
