import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  formatDiagnostic,
  GatehouseError,
  loadPipeline,
  validateBytes,
  validateConfig,
  type Diagnostic,
} from '../src/index.js';

const BASE = `version: 1
name: shop
image: node:22-bookworm-slim
gates:
  build: { kind: build, run: npm run build }
  unit: { kind: unit-test, run: npm test }
`;

function check(text: string | Uint8Array): Diagnostic[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return validateBytes(bytes, '/project/gatehouse.yml', { displayPath: 'gatehouse.yml' })
    .diagnostics;
}

/** `CODE@line:col path` of every diagnostic, for compact assertions. */
function summary(ds: Diagnostic[]): string[] {
  return ds.map((d) => `${d.code}@${d.loc ? `${d.loc.line}:${d.loc.column}` : '-'} ${d.path}`);
}

type Case = { name: string; yaml: string; expect: string[]; hint?: RegExp; message?: RegExp };

const cases: Case[] = [
  {
    name: 'YAML syntax error',
    yaml: 'version: 1\nname: [shop\ngates: {}\n',
    expect: ['GH_YAML_SYNTAX@'],
  },
  {
    name: 'duplicate key',
    yaml: `${BASE}  unit: { run: again }\n`,
    expect: ['GH_DUPLICATE_KEY@7:3 '],
  },
  {
    name: 'unknown top-level key with suggestion',
    yaml: `${BASE}relase: { from: build, copy: [dist], cmd: [node, x.js] }\n`,
    expect: ['GH_UNKNOWN_KEY@7:1 relase'],
    hint: /did you mean `release`\?/,
  },
  {
    name: 'unknown gate key with suggestion',
    yaml: `${BASE}  lint: { run: x, neds: [build] }\n`,
    expect: ['GH_UNKNOWN_KEY@7:19 gates.lint.neds'],
    hint: /did you mean `needs`\?/,
  },
  {
    name: 'wrong type: needs as a string',
    yaml: `${BASE}  lint: { run: x, needs: build }\n`,
    expect: ['GH_WRONG_TYPE@7:26 gates.lint.needs'],
    hint: /write a list/,
  },
  {
    name: 'wrong type: name as a list',
    yaml: BASE.replace('name: shop', 'name: [shop]'),
    expect: ['GH_WRONG_TYPE@2:7 name'],
  },
  {
    name: 'missing version',
    yaml: BASE.replace('version: 1\n', ''),
    expect: ['GH_MISSING_FIELD@1:1 version'],
    hint: /version: 1/,
  },
  {
    name: 'missing name',
    yaml: BASE.replace('name: shop\n', ''),
    expect: ['GH_MISSING_FIELD@1:1 name'],
  },
  {
    name: 'missing gates',
    yaml: 'version: 1\nname: shop\n',
    expect: ['GH_MISSING_FIELD@1:1 gates'],
  },
  {
    name: 'gates empty',
    yaml: 'version: 1\nname: shop\ngates: {}\n',
    expect: ['GH_EMPTY_VALUE@3:1 gates'],
  },
  {
    name: 'missing gate run',
    yaml: `${BASE}  lint: { kind: lint }\n`,
    expect: ['GH_MISSING_FIELD@7:3 gates.lint.run'],
  },
  {
    name: 'empty gate run',
    yaml: `${BASE}  lint: { run: "" }\n`,
    expect: ['GH_EMPTY_VALUE@7:16 gates.lint.run'],
  },
  {
    name: 'unknown version',
    yaml: BASE.replace('version: 1', 'version: 2'),
    expect: ['GH_UNKNOWN_VERSION@1:10 version'],
  },
  {
    name: 'unknown kind',
    yaml: `${BASE}  lint: { kind: lnt, run: x }\n`,
    expect: ['GH_UNKNOWN_KIND@7:17 gates.lint.kind'],
    hint: /did you mean `lint`\?/,
  },
  {
    name: 'unknown evidence format',
    yaml: `${BASE}  lint: { run: x, evidence: [{ format: eslnt }] }\n`,
    expect: ['GH_UNKNOWN_EVIDENCE_FORMAT@7:40 gates.lint.evidence[0].format'],
    hint: /did you mean `eslint`\?/,
  },
  {
    name: 'needs a missing gate',
    yaml: `${BASE}  a11y:\n    run: x\n    needs: [biuld]\n`,
    expect: ['GH_UNKNOWN_GATE@9:13 gates.a11y.needs[0]'],
    hint: /did you mean `build`\?/,
  },
  {
    name: 'cycle prints its path',
    yaml: `${BASE}  a: { run: x, needs: [b] }\n  b: { run: x, needs: [c] }\n  c: { run: x, needs: [a] }\n`,
    expect: ['GH_CYCLE@7:24 gates.a.needs[0]'],
    message: /a -> b -> c -> a/,
  },
  {
    name: 'gate needing itself',
    yaml: `${BASE}  a: { run: x, needs: [a] }\n`,
    expect: ['GH_SELF_NEED@7:24 gates.a.needs[0]'],
  },
  {
    name: 'invalid gate id',
    yaml: `${BASE}  Unit_Tests: { run: x }\n`,
    expect: ['GH_INVALID_ID@7:3 gates.Unit_Tests'],
    hint: /unit-tests/,
  },
  {
    name: 'gate id too long',
    yaml: `${BASE}  ${'a'.repeat(64)}: { run: x }\n`,
    expect: [`GH_INVALID_ID@7:3 gates.${'a'.repeat(64)}`],
  },
  {
    name: 'needs entry not an id',
    yaml: `${BASE}  a: { run: x, needs: [Build] }\n`,
    expect: ['GH_INVALID_ID@7:24 gates.a.needs[0]'],
  },
  {
    name: 'invalid env name',
    yaml: `${BASE}  a: { run: x, env: { node-env: production } }\n`,
    expect: ['GH_INVALID_ENV_NAME@7:23 gates.a.env.node-env'],
  },
  {
    name: 'when.env: invalid name and unknown condition',
    yaml: `${BASE}  a: { run: x, when: { env: [sonar_host], os: linux } }\n`,
    expect: ['GH_INVALID_ENV_NAME@7:30 gates.a.when.env[0]', 'GH_UNKNOWN_KEY@7:43 gates.a.when.os'],
  },
  {
    name: 'reserved env name',
    yaml: `${BASE}  a: { run: x, env: { GITHUB_SHA: x } }\n`,
    expect: ['GH_RESERVED_NAME@7:23 gates.a.env.GITHUB_SHA'],
  },
  {
    name: 'reserved BUILDKITE name',
    yaml: `${BASE}  a: { run: x, secrets: [BUILDKITE_AGENT_TOKEN] }\n`,
    expect: ['GH_RESERVED_NAME@7:26 gates.a.secrets[0]'],
  },
  {
    name: 'reserved BK_ name',
    yaml: `${BASE}  a: { run: x, secrets: [BK_X] }\n`,
    expect: ['GH_RESERVED_NAME@7:26 gates.a.secrets[0]'],
  },
  {
    name: 'invalid secret name',
    yaml: `${BASE}  a: { run: x, secrets: [sonar-token] }\n`,
    expect: ['GH_INVALID_SECRET_NAME@7:26 gates.a.secrets[0]'],
    hint: /SONAR_TOKEN/,
  },
  {
    name: 'env value not a string',
    yaml: `${BASE}  a: { run: x, env: { PORT: 8080 } }\n`,
    expect: ['GH_WRONG_TYPE@7:29 gates.a.env.PORT'],
    hint: /quote/,
  },
  {
    name: 'secret as a mapping',
    yaml: `${BASE}  a: { run: x, secrets: [{SONAR_TOKEN: abc}] }\n`,
    expect: ['GH_SECRET_VALUE@7:26 gates.a.secrets[0]'],
  },
  {
    name: 'secret as NAME=value',
    yaml: `${BASE}  a: { run: x, secrets: ["SONAR_TOKEN=xyz"] }\n`,
    expect: ['GH_SECRET_VALUE@7:26 gates.a.secrets[0]'],
    hint: /`SONAR_TOKEN`/,
  },
  {
    name: 'secret as a token',
    yaml: `${BASE}  a: { run: x, secrets: [abc123def456ghi789jkl] }\n`,
    expect: ['GH_SECRET_VALUE@7:26 gates.a.secrets[0]'],
  },
  {
    name: 'secrets as a string',
    yaml: `${BASE}  a: { run: x, secrets: SONAR_TOKEN=xyz }\n`,
    expect: ['GH_WRONG_TYPE@7:25 gates.a.secrets'],
  },
  {
    name: 'latest image (warning)',
    yaml: BASE.replace('node:22-bookworm-slim', 'node:latest'),
    expect: ['GH_IMAGE_UNPINNED@3:8 image'],
  },
  {
    name: 'untagged image (warning)',
    yaml: `${BASE}  a: { run: x, image: registry.local:5000/team/node }\n`,
    expect: ['GH_IMAGE_UNPINNED@7:23 gates.a.image'],
  },
  {
    name: 'image named like a stage of the generated Dockerfile',
    yaml: BASE.replace('node:22-bookworm-slim', 'base').concat(
      '  a: { run: x, image: gate-build }\n',
      '  b: { run: x, image: Result-unit }\n',
      '  c: { run: x, image: gatehouse-verdict }\n',
      '  d: { run: x, image: gatehouse-judged }\n',
      '  e: { run: x, image: Gatehouse-Deploy }\n',
      'release: { from: build, copy: [dist], cmd: [node, x.js], image: release }\n',
    ),
    expect: [
      'GH_IMAGE_STAGE_NAME@3:8 image',
      'GH_IMAGE_STAGE_NAME@7:23 gates.a.image',
      'GH_IMAGE_STAGE_NAME@8:23 gates.b.image',
      'GH_IMAGE_STAGE_NAME@9:23 gates.c.image',
      'GH_IMAGE_STAGE_NAME@10:23 gates.d.image',
      'GH_IMAGE_STAGE_NAME@11:23 gates.e.image',
      'GH_IMAGE_STAGE_NAME@12:65 release.image',
    ],
    message: /stage/,
    hint: /tag|registry/,
  },
  {
    name: 'stage-like names with a tag or a registry path are images',
    yaml: `${BASE}  a: { run: x, image: "base:1.2" }\n  b: { run: x, image: docker.io/library/setup:3 }\n  c: { run: x, image: "gate-x@sha256:${'a'.repeat(64)}" }\n`,
    expect: [],
  },
  {
    name: 'image with a space',
    yaml: `${BASE}  a: { run: x, image: "node:22 ; rm -rf /" }\n`,
    expect: ['GH_INVALID_VALUE@7:23 gates.a.image'],
  },
  {
    name: 'release.from a missing gate',
    yaml: `${BASE}release: { from: bild, copy: [dist], cmd: [node, x.js] }\n`,
    expect: ['GH_UNKNOWN_GATE@7:18 release.from'],
    hint: /did you mean `build`\?/,
  },
  {
    name: 'release.cmd a string',
    yaml: `${BASE}release: { from: build, copy: [dist], cmd: npm start }\n`,
    expect: ['GH_WRONG_TYPE@7:44 release.cmd'],
    hint: /exec form/,
  },
  {
    name: 'release.cmd empty',
    yaml: `${BASE}release: { from: build, copy: [dist], cmd: [] }\n`,
    expect: ['GH_EMPTY_VALUE@7:44 release.cmd'],
  },
  {
    name: 'release.cmd with a number',
    yaml: `${BASE}release: { from: build, copy: [dist], cmd: [node, 1] }\n`,
    expect: ['GH_WRONG_TYPE@7:51 release.cmd[1]'],
  },
  {
    name: 'release missing cmd',
    yaml: `${BASE}release: { from: build, copy: [dist] }\n`,
    expect: ['GH_MISSING_FIELD@7:1 release.cmd'],
  },
  {
    name: 'invalid timeout text',
    yaml: `${BASE}  a: { run: x, timeout: 10 minutes }\n`,
    expect: ['GH_INVALID_TIMEOUT@7:25 gates.a.timeout'],
  },
  {
    name: 'zero timeout',
    yaml: `${BASE}  a: { run: x, timeout: 0 }\n`,
    expect: ['GH_INVALID_TIMEOUT@7:25 gates.a.timeout'],
  },
  {
    name: 'negative timeout',
    yaml: `${BASE}  a: { run: x, timeout: -5 }\n`,
    expect: ['GH_INVALID_TIMEOUT@7:25 gates.a.timeout'],
  },
  {
    name: 'timeout over 24h',
    yaml: `${BASE}  a: { run: x, timeout: 25h }\n`,
    expect: ['GH_INVALID_TIMEOUT@7:25 gates.a.timeout'],
  },
  {
    name: 'timeout a boolean',
    yaml: `${BASE}  a: { run: x, timeout: true }\n`,
    expect: ['GH_INVALID_TIMEOUT@7:25 gates.a.timeout'],
  },
  {
    name: 'setup timeout invalid',
    yaml: `${BASE}setup: { run: npm ci, timeout: 1d }\n`,
    expect: ['GH_INVALID_TIMEOUT@7:32 setup.timeout'],
  },
  {
    name: 'mode not blocking|advisory',
    yaml: `${BASE}  a: { run: x, mode: blocker }\n`,
    expect: ['GH_INVALID_MODE@7:22 gates.a.mode'],
    hint: /one of: blocking, advisory/,
  },
  {
    name: 'policy key not for the kind (warning)',
    yaml: `${BASE}  lint: { kind: lint, run: x, policy: { max_failed: 0 } }\n`,
    expect: ['GH_POLICY_NOT_FOR_KIND@7:41 gates.lint.policy.max_failed'],
  },
  {
    name: 'unknown cache key with suggestion',
    yaml: `${BASE}cache: { remot: true }\n`,
    expect: ['GH_UNKNOWN_KEY@7:10 cache.remot'],
    hint: /did you mean `remote`\?/,
  },
  {
    name: 'cache.remote that is not a boolean',
    yaml: `${BASE}cache:\n  remote: sometimes\n`,
    expect: ['GH_WRONG_TYPE@8:11 cache.remote'],
  },
  {
    name: 'unknown policy key',
    yaml: `${BASE}  lint: { kind: lint, run: x, policy: { max_error: 0 } }\n`,
    expect: ['GH_UNKNOWN_KEY@7:41 gates.lint.policy.max_error'],
    hint: /max_errors/,
  },
  {
    name: 'coverage over 100',
    yaml: `${BASE}  t: { kind: unit-test, run: x, policy: { min_coverage: { lines: 120 } } }\n`,
    expect: ['GH_INVALID_VALUE@7:66 gates.t.policy.min_coverage.lines'],
  },
  {
    name: 'absolute evidence path',
    yaml: `${BASE}  a: { run: x, evidence: [{ format: junit, path: /tmp/j.xml }] }\n`,
    expect: ['GH_EVIDENCE_PATH@7:50 gates.a.evidence[0].path'],
  },
  {
    name: 'evidence path with ..',
    yaml: `${BASE}  a: { run: x, evidence: [{ format: junit, path: out/../../j.xml }] }\n`,
    expect: ['GH_EVIDENCE_PATH@7:50 gates.a.evidence[0].path'],
  },
  {
    name: 'inputs escaping the root',
    yaml: `${BASE}  a: { run: x, inputs: [src/**, ../secrets/**] }\n`,
    expect: ['GH_PATH_ESCAPES_ROOT@7:33 gates.a.inputs[1]'],
  },
  {
    name: 'absolute outputs',
    yaml: `${BASE}  a: { run: x, outputs: [/etc/passwd] }\n`,
    expect: ['GH_PATH_ESCAPES_ROOT@7:26 gates.a.outputs[0]'],
  },
  {
    name: 'negated glob escaping',
    yaml: `${BASE}  a: { run: x, inputs: ["!../x"] }\n`,
    expect: ['GH_PATH_ESCAPES_ROOT@7:25 gates.a.inputs[0]'],
  },
  {
    name: 'release.copy escaping',
    yaml: `${BASE}release: { from: build, copy: [../dist], cmd: [node] }\n`,
    expect: ['GH_PATH_ESCAPES_ROOT@7:32 release.copy[0]'],
  },
  {
    name: 'workdir relative',
    yaml: `${BASE}workdir: app\n`,
    expect: ['GH_INVALID_VALUE@7:10 workdir'],
  },
  {
    name: 'port out of range',
    yaml: `${BASE}release: { from: build, copy: [dist], cmd: [node], expose: [70000] }\n`,
    expect: ['GH_INVALID_VALUE@7:61 release.expose[0]'],
  },
  {
    name: 'NUL escape in a value',
    yaml: `${BASE}  a: { run: "echo \\0" }\n`,
    expect: ['GH_NUL_BYTE@7:13 '],
  },
  {
    name: 'lone surrogate escape',
    yaml: `${BASE}  a: { run: "echo \\ud800" }\n`,
    expect: ['GH_LONE_SURROGATE@7:13 '],
  },
  {
    name: 'raw NUL in the file',
    yaml: `${BASE}  a: { run: "x\u0000" }\n`,
    expect: ['GH_NUL_BYTE@7:15 '],
  },
  { name: 'empty file', yaml: '', expect: ['GH_EMPTY_CONFIG@1:1 '] },
  { name: 'only comments', yaml: '# nothing here\n\n', expect: ['GH_EMPTY_CONFIG@1:1 '] },
  { name: 'not a mapping', yaml: '- a\n- b\n', expect: ['GH_WRONG_TYPE@1:1 '] },
  {
    name: 'target options not a mapping',
    yaml: `${BASE}targets: { github: [x] }\n`,
    expect: ['GH_WRONG_TYPE@7:20 targets.github'],
  },
  {
    name: 'unknown YAML tag (warning)',
    yaml: `${BASE}  a: { run: !custom x }\n`,
    expect: ['GH_YAML_WARNING@7:13 '],
  },
];

describe('validation (table)', () => {
  it.each(cases)('$name', (c) => {
    const ds = check(c.yaml);
    const got = summary(ds);
    expect(got.length, got.join('\n')).toBe(c.expect.length);
    c.expect.forEach((e, i) =>
      expect(got[i]!.startsWith(e), `${got[i]} should start with ${e}`).toBe(true),
    );
    if (c.hint) expect(ds[0]!.hint).toMatch(c.hint);
    if (c.message) expect(ds[0]!.message).toMatch(c.message);
    // File-level problems (empty file, encoding) have a position but no source to frame.
    for (const d of ds)
      if (d.loc && d.code !== 'GH_EMPTY_CONFIG') expect(d.frame).toContain(`> ${d.loc.line} |`);
  });
});

describe('validation (whole file)', () => {
  it('reports every problem at once, sorted by position', () => {
    const ds = check(`version: 2
name: shop
gates:
  lint: { kind: lnt, run: x }
  unit: { run: x, needs: [biuld], mode: blocker }
  Bad: { run: x }
`);
    expect(summary(ds)).toEqual([
      'GH_UNKNOWN_VERSION@1:10 version',
      'GH_UNKNOWN_KIND@4:17 gates.lint.kind',
      'GH_UNKNOWN_GATE@5:27 gates.unit.needs[0]',
      'GH_INVALID_MODE@5:41 gates.unit.mode',
      'GH_INVALID_ID@6:3 gates.Bad',
    ]);
  });

  it('reports every cycle, not just the first', () => {
    const ds = check(
      `${BASE}  a: { run: x, needs: [b] }\n  b: { run: x, needs: [a] }\n  c: { run: x, needs: [d] }\n  d: { run: x, needs: [c] }\n`,
    );
    expect(ds.map((d) => d.message)).toEqual([
      'the gates form a cycle: a -> b -> a',
      'the gates form a cycle: c -> d -> c',
    ]);
  });

  it('never shows a secret value, not even in frames of other diagnostics on the line', () => {
    const ds = check(
      `${BASE}  a: { run: x, secrets: [{SONAR_TOKEN: s3cr3t-value}, "API_KEY=hunter2hunter2", bad-name] }\n`,
    );
    expect(summary(ds).map((s) => s.split('@')[0])).toEqual([
      'GH_SECRET_VALUE',
      'GH_SECRET_VALUE',
      'GH_INVALID_SECRET_NAME',
    ]);
    const text = ds.map(formatDiagnostic).join('\n');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('hunter2');
    expect(text).toContain('***');
  });

  it('masks a credential-looking env value', () => {
    const ds = check(`${BASE}  a: { run: x, env: { DB_PASSWORD: pa55w0rd-value } }\n`);
    expect(summary(ds)).toEqual(['GH_SECRET_IN_ENV@7:36 gates.a.env.DB_PASSWORD']);
    expect(formatDiagnostic(ds[0]!)).not.toContain('pa55w0rd');
  });

  it('refuses non-UTF-8 bytes with the position of the first bad byte', () => {
    const bytes = Buffer.concat([
      Buffer.from('version: 1\nname: caf'),
      Buffer.from([0xe9]),
      Buffer.from('\ngates: {}\n'),
    ]);
    expect(summary(check(bytes))).toEqual(['GH_NOT_UTF8@2:10 ']);
    // Overlong encoding and a UTF-8-encoded surrogate are not UTF-8 either.
    expect(summary(check(Buffer.from([0x6e, 0x3a, 0x20, 0xc0, 0xaf])))).toEqual([
      'GH_NOT_UTF8@1:4 ',
    ]);
    expect(summary(check(Buffer.from([0x6e, 0x3a, 0x20, 0xed, 0xa0, 0x80])))).toEqual([
      'GH_NOT_UTF8@1:4 ',
    ]);
    // Truncated sequence at the end.
    expect(summary(check(Buffer.from([0x6e, 0x3a, 0x20, 0xe2, 0x82])))).toEqual([
      'GH_NOT_UTF8@1:4 ',
    ]);
  });

  it('accepts a BOM with a warning; positions are unaffected; the hash covers the BOM', () => {
    const plain = Buffer.from(BASE);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), plain]);
    const a = validateBytes(plain, '/p/gatehouse.yml');
    const b = validateBytes(withBom, '/p/gatehouse.yml', { displayPath: 'gatehouse.yml' });
    expect(summary(b.diagnostics)).toEqual(['GH_BOM@1:1 ']);
    expect(b.pipeline).not.toBeNull();
    expect({ ...b.pipeline!, configSha256: '' }).toEqual({ ...a.pipeline!, configSha256: '' });
    expect(b.pipeline!.configSha256).not.toBe(a.pipeline!.configSha256);
    const bad = check(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(BASE.replace('version: 1', 'version: 3')),
      ]),
    );
    expect(summary(bad)).toEqual(['GH_BOM@1:1 ', 'GH_UNKNOWN_VERSION@1:10 version']);
  });

  it('keeps CR, tabs, U+2028, U+FEFF and astral characters in values unchanged', () => {
    const run = 'printf "a\\tb\\r\\n" \u2028 \ufeff 😀';
    const yaml = `${BASE}  a: { run: ${JSON.stringify(run)} }\n`;
    const v = validateBytes(Buffer.from(yaml), '/p/gatehouse.yml');
    expect(v.diagnostics).toEqual([]);
    expect(v.pipeline!.gates.find((g) => g.id === 'a')!.run).toBe(run);
  });

  it('formats a diagnostic as file:line:col severity code path: message, frame, hint', () => {
    const [d] = check(`${BASE}  a11y:\n    run: x\n    needs: [biuld]\n`);
    expect(formatDiagnostic(d!)).toBe(
      [
        'gatehouse.yml:9:13 error GH_UNKNOWN_GATE gates.a11y.needs[0]: unknown gate `biuld`',
        '     7 |   a11y:',
        '     8 |     run: x',
        '  >  9 |     needs: [biuld]',
        '        |             ^^^^^',
        '  hint: did you mean `build`?',
      ]
        .join('\n')
        .replace('     7', '    7')
        .replace('     8', '    8')
        .replace('  >  9', '  > 9')
        .replace('        |', '      |'),
    );
  });
});

describe('resolution', () => {
  it('applies kind defaults, orders gates by layer, sorts needs and secrets', () => {
    const v = validateBytes(
      Buffer.from(`version: 1
name: shop
setup: { run: npm ci, inputs: [package.json] }
gates:
  a11y: { kind: a11y-test, needs: [build, build], run: x, secrets: [Z_TOKEN, A_TOKEN, A_TOKEN] }
  build: { kind: build, run: npm run build, outputs: [dist/**] }
  sonar: { kind: sonarqube, run: scan, timeout: 90 }
  unit: { kind: unit-test, run: npm test, evidence: [{ format: junit }], policy: { min_coverage: { lines: 80 } } }
  misc: { run: x, timeout: 1h, evidence: [{ format: exitcode }] }
release: { from: build, copy: [dist], cmd: [node, dist/server.js], expose: [8080, 80] }
targets: { dockerfile: , github: { mode: docker } }
`),
      '/p/gatehouse.yml',
    );
    expect(v.diagnostics).toEqual([]);
    const p = v.pipeline!;
    expect(p.gates.map((g) => g.id)).toEqual(['build', 'misc', 'sonar', 'unit', 'a11y']);
    const g = Object.fromEntries(p.gates.map((x) => [x.id, x]));
    expect(g.a11y).toMatchObject({
      needs: ['build'],
      secrets: ['A_TOKEN', 'Z_TOKEN'],
      timeoutMs: 15 * 60_000,
      mode: 'blocking',
      image: 'node:20-bookworm-slim',
    });
    expect(g.sonar).toMatchObject({
      mode: 'advisory',
      timeoutMs: 90_000,
      policy: {},
    });
    expect(g.unit).toMatchObject({
      timeoutMs: 20 * 60_000,
      // Kind thresholds (max_failed: 0) are applied by the report, where the evidence measures them.
      policy: { min_coverage: { lines: 80 } },
      evidence: [{ format: 'junit', path: 'junit.xml' }],
    });
    expect(g.misc).toMatchObject({
      kind: 'custom',
      timeoutMs: 3_600_000,
      evidence: [{ format: 'exitcode', path: null }],
      description: null,
    });
    expect(g.build!.evidence).toEqual([{ format: 'exitcode', path: null }]);
    expect(p.setup).toEqual({
      run: 'npm ci',
      inputs: ['package.json'],
      env: {},
      secrets: [],
      timeoutMs: 30 * 60_000,
    });
    expect(p.release).toEqual({
      from: 'build',
      copy: ['dist'],
      cmd: ['node', 'dist/server.js'],
      image: 'node:20-bookworm-slim',
      expose: [80, 8080],
      env: {},
      user: 'node',
      workdir: '/app',
    });
    expect(p.targets).toEqual({ dockerfile: {}, github: { mode: 'docker' } });
    expect(p).toMatchObject({
      rootDir: '/p',
      configPath: '/p/gatehouse.yml',
      workdir: '/app',
      plugins: [],
    });
    expect(p.configSha256).toMatch(/^[0-9a-f]{64}$/);
    // Plain data: survives JSON.
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
  });

  it('is deterministic: same bytes, same pipeline', () => {
    const a = validateBytes(Buffer.from(BASE), '/p/gatehouse.yml').pipeline;
    const b = validateBytes(Buffer.from(BASE), '/p/gatehouse.yml').pipeline;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('takes gate kinds from plugin presets', () => {
    const yaml = `${BASE}  perf: { kind: lighthouse, run: x }\n`;
    expect(summary(check(yaml))).toEqual(['GH_UNKNOWN_KIND@7:17 gates.perf.kind']);
    const v = validateBytes(Buffer.from(yaml), '/p/gatehouse.yml', {
      presets: {
        lighthouse: { description: 'perf', defaults: { timeout: '5m', mode: 'advisory' } },
      },
    });
    expect(v.diagnostics).toEqual([]);
    expect(v.pipeline!.gates.find((g) => g.id === 'perf')).toMatchObject({
      kind: 'lighthouse',
      timeoutMs: 300_000,
      mode: 'advisory',
    });
  });

  it('resolves aliases', () => {
    const v = validateBytes(
      Buffer.from(`${BASE}  a: { run: &cmd npm test }\n  b: { run: *cmd }\n`),
      '/p/gatehouse.yml',
    );
    expect(v.diagnostics).toEqual([]);
    expect(v.pipeline!.gates.find((g) => g.id === 'b')!.run).toBe('npm test');
  });
});

describe('loadPipeline / validateConfig on files', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('loads a valid file, throws GH_CONFIG_INVALID with every diagnostic otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-core-'));
    dirs.push(dir);
    const file = join(dir, 'gatehouse.yml');
    await writeFile(file, BASE);
    const p = await loadPipeline(file);
    expect(p.rootDir).toBe(dir);
    await writeFile(
      file,
      BASE.replace('version: 1', 'version: 9').replace('run: npm test', 'run: npm test, mode: x'),
    );
    const err = await loadPipeline(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatehouseError);
    expect((err as GatehouseError).code).toBe('GH_CONFIG_INVALID');
    expect((err as GatehouseError).diagnostics.map((d) => d.code)).toEqual([
      'GH_UNKNOWN_VERSION',
      'GH_INVALID_MODE',
    ]);
    const v = await validateConfig(file, { displayPath: 'gatehouse.yml' });
    expect(v.pipeline).toBeNull();
    expect(v.locate('gates.unit.mode')).toMatchObject({ file: 'gatehouse.yml', line: 6 });
  });

  it('throws GH_CONFIG_NOT_FOUND for a missing file', async () => {
    await expect(validateConfig('/nonexistent/gatehouse.yml')).rejects.toMatchObject({
      code: 'GH_CONFIG_NOT_FOUND',
    });
  });
});
