// Property-based round trips through the real Groovy parser and the recording harness.
// Cases are sampled up front (fixed seed, override with GATEHOUSE_FC_SEED) so one JVM
// judges them all; a failure names the seed and case index to replay.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedPipeline } from '@gatehouse-ci/core';
import { gate, hostileString, pipeline } from '@gatehouse-ci/test-utils';
import {
  buildJenkinsPipeline,
  printJenkinsfile,
  type DeclarativePipeline,
  type ResolvedJenkinsOptions,
  type Stage,
  type Step,
} from '../src/index.js';
import { expectedRecording, groovyAvailable, runHarness, type HarnessResult } from './harness.js';
import { expectJenkinsSemantics } from './semantics.js';

const SEED = Number(process.env.GATEHOUSE_FC_SEED ?? 20_251_128);

/** Fragments that matter to Groovy in particular, on top of the shared hostile corpus. */
const GROOVY_FRAGMENTS = [
  '\\u0027',
  '\\u000a',
  '\\\\u005c',
  '\\u005c',
  "\\'",
  '"""',
  "'''",
  '${',
  '$/',
  '/$',
  '*/',
  '//',
  '\\n',
  '\\',
];
const hostile = fc
  .oneof(
    { weight: 4, arbitrary: hostileString({ maxLength: 10 }) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.oneof(fc.constantFrom(...GROOVY_FRAGMENTS), hostileString({ maxLength: 2 })), {
          maxLength: 6,
        })
        .map((p) => p.join('')),
    },
  )
  .map((s) => s.replace(/\uffff/g, ''));

// a fixed first letter keeps clear of names the shell itself treats specially (PATH, IFS, PS4…)
const ENV_NAME = fc.stringMatching(/^X[A-Z0-9_]{0,8}$/);
const SECRET = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/);

/** A random gate DAG with hostile env values, setup text, credentials ids and agent strings. */
const caseArb = fc
  .record({
    count: fc.integer({ min: 1, max: 9 }),
    needs: fc.array(fc.array(fc.nat(), { maxLength: 3 }), { minLength: 9, maxLength: 9 }),
    advisory: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
    timeouts: fc.array(fc.integer({ min: 1_000, max: 7_200_000 }), { minLength: 9, maxLength: 9 }),
    envs: fc.array(fc.dictionary(ENV_NAME, hostile, { maxKeys: 3 }), {
      minLength: 9,
      maxLength: 9,
    }),
    secrets: fc.array(fc.uniqueArray(SECRET, { maxLength: 2 }), { minLength: 9, maxLength: 9 }),
    setup: fc.option(
      fc.record({
        run: hostile,
        env: fc.dictionary(ENV_NAME, hostile, { maxKeys: 2 }),
        secrets: fc.uniqueArray(SECRET, { maxLength: 2 }),
      }),
      { nil: null },
    ),
    mode: fc.constantFrom('native' as const, 'docker' as const),
    agent: fc.record(
      {
        label: fc.option(hostile, { nil: undefined }),
        docker: fc.option(hostile, { nil: undefined }),
      },
      { requiredKeys: [] },
    ),
    credentials: fc.dictionary(SECRET, hostile, { maxKeys: 3 }),
  })
  .map((c): { pipeline: ResolvedPipeline; options: ResolvedJenkinsOptions } => {
    const ids = Array.from({ length: c.count }, (_, i) => `g${i}`);
    const gates = ids.map((id, i) =>
      gate(id, {
        needs: i === 0 ? [] : [...new Set((c.needs[i] ?? []).map((n) => ids[n % i]!))].sort(),
        mode: c.advisory[i] ? 'advisory' : 'blocking',
        timeoutMs: c.timeouts[i]!,
        env: c.envs[i]!,
        secrets: [...c.secrets[i]!].sort(),
      }),
    );
    const agent: ResolvedJenkinsOptions['agent'] = {};
    if (c.agent.label !== undefined) agent.label = c.agent.label;
    if (c.agent.docker !== undefined) agent.docker = c.agent.docker;
    return {
      pipeline: pipeline(gates, {
        setup:
          c.setup === null
            ? null
            : {
                run: c.setup.run,
                inputs: [],
                env: c.setup.env,
                secrets: [...c.setup.secrets].sort(),
                timeoutMs: 600_000,
              },
      }),
      options: {
        path: 'Jenkinsfile',
        mode: c.mode,
        cli: 'npx --no-install gatehouse',
        agent,
        credentials: c.credentials,
      },
    };
  });

/** Arbitrary models: hostile text in every string slot the printer has, stage names included. */
const stepArb: fc.Arbitrary<Step> = fc.letrec<{ step: Step }>((tie) => ({
  step: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('sh' as const), script: hostile }),
    fc.record({ kind: fc.constant('sh' as const), script: hostile, label: hostile }),
    fc.record({ kind: fc.constant('echo' as const), message: hostile }),
    fc.record({
      kind: fc.constant('archiveArtifacts' as const),
      artifacts: hostile,
      allowEmptyArchive: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('junit' as const), testResults: hostile }),
    fc.record({ kind: fc.constant('stash' as const), name: hostile, includes: hostile }),
    fc.record({ kind: fc.constant('unstash' as const), name: hostile }),
    fc.record({
      kind: fc.constant('dir' as const),
      path: hostile,
      steps: fc.array(tie('step'), { minLength: 1, maxLength: 2 }),
    }),
    fc.record({
      kind: fc.constant('withCredentials' as const),
      bindings: fc.array(
        fc.record({
          kind: fc.constant('string' as const),
          credentialsId: hostile,
          variable: SECRET,
        }),
        { minLength: 1, maxLength: 2 },
      ),
      steps: fc.array(tie('step'), { minLength: 1, maxLength: 2 }),
    }),
    fc.record({
      kind: fc.constant('catchError' as const),
      buildResult: fc.constantFrom('SUCCESS' as const, 'FAILURE' as const),
      message: hostile,
      steps: fc.array(tie('step'), { minLength: 1, maxLength: 2 }),
    }),
  ),
})).step;

const modelArb = fc
  .record({
    names: fc.uniqueArray(
      hostile.filter((s) => s !== ''),
      { minLength: 3, maxLength: 8 },
    ),
    steps: fc.array(fc.array(stepArb, { minLength: 1, maxLength: 3 }), {
      minLength: 8,
      maxLength: 8,
    }),
    env: fc.array(fc.record({ name: ENV_NAME, value: hostile }), { maxLength: 3 }),
  })
  .map((m): DeclarativePipeline => {
    const stages: Stage[] = m.names.map((name, i) => ({
      name,
      body: { kind: 'steps', steps: m.steps[i % 8]! },
    }));
    const [first, ...rest] = stages;
    const env = [...new Map(m.env.map((e) => [e.name, e])).values()].map((e) => ({
      name: e.name,
      kind: 'literal' as const,
      value: e.value,
    }));
    return {
      agent: { kind: 'any' },
      options: [],
      environment: env,
      // the first stage alone, the rest fanned out: names round-trip at both levels
      stages: [first!, { name: 'Parallel \u2028 layer', body: { kind: 'parallel', stages: rest } }],
    };
  });

/** Every UTF-16 code unit except NUL and surrogates, plus astral characters, in sh steps. */
function everyCharacter(): DeclarativePipeline {
  const units: string[] = [];
  // U+FFFF is refused by groovyString (Groovy's lexer reads it as end of input)
  for (let c = 1; c < 0xffff; c++) if (c < 0xd800 || c > 0xdfff) units.push(String.fromCharCode(c));
  const chunks: string[] = [];
  for (let i = 0; i < units.length; i += 2048) chunks.push(units.slice(i, i + 2048).join(''));
  chunks.push('😀\u{10000}\u{1f9ea}\u{10ffff}\u{e0001}');
  // a backslash in front of every character that gets escaped, and escape-lookalike text
  chunks.push(
    units
      .slice(0, 300)
      .map((u) => `\\${u}`)
      .join(''),
  );
  chunks.push('\\u0027 \\\\u0027 \\u000a \\\\\\u000a \\${x} \\$1 \\');
  return {
    agent: { kind: 'any' },
    options: [],
    environment: [{ name: 'ALL', kind: 'literal', value: chunks[0]! }],
    stages: [
      {
        name: chunks[1]!.slice(0, 200),
        body: { kind: 'steps', steps: chunks.map((script) => ({ kind: 'sh', script })) },
      },
    ],
  };
}

describe.runIf(groovyAvailable())('round trips through Groovy', () => {
  const cases = fc.sample(caseArb, { seed: SEED, numRuns: 60 });
  const models = [everyCharacter(), ...fc.sample(modelArb, { seed: SEED + 1, numRuns: 40 })];
  const texts = [
    ...cases.map((c) =>
      printJenkinsfile(buildJenkinsPipeline(c.pipeline, c.options), { comments: ['case'] }),
    ),
    ...models.map((m) => printJenkinsfile(m)),
  ];
  let results: HarnessResult[];

  beforeAll(async () => {
    results = await runHarness(texts);
  }, 300_000);

  it(`emitted pipelines keep every string, stage and DAG edge (seed ${SEED})`, () => {
    cases.forEach((c, i) => {
      const r = results[i]!;
      expect(r.error, `case ${i}`).toBeUndefined();
      expect(r.pipeline, `case ${i}`).toEqual(
        expectedRecording(buildJenkinsPipeline(c.pipeline, c.options)),
      );
      expectJenkinsSemantics(r.pipeline, c.pipeline, c.options);
    });
  });

  it('every character survives a single-quoted literal unchanged', () => {
    const r = results[cases.length]!;
    expect(r.error).toBeUndefined();
    expect(r.pipeline).toEqual(expectedRecording(models[0]!));
  });

  it(`hostile stage names, step arguments and env values round-trip (seed ${SEED + 1})`, () => {
    models.slice(1).forEach((m, i) => {
      const r = results[cases.length + 1 + i]!;
      expect(r.error, `model ${i}`).toBeUndefined();
      expect(r.pipeline, `model ${i}`).toEqual(expectedRecording(m));
    });
  });
});
