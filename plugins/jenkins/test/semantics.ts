/**
 * Checks a harness recording against the gate pipeline it was emitted from: the
 * meaning of the Jenkinsfile, independently of how the emitter builds its model.
 */
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import { ciHasPackageGates, type ResolvedGate, type ResolvedPipeline } from '@gatehouse-ci/core';
import { defaultCredentialsId, type ResolvedJenkinsOptions } from '../src/index.js';
import type { RecordedPipeline } from './harness.js';

type Rec = Record<string, unknown>;

/** Topological layers by longest path from a root (ids sorted), computed without core. */
export function referenceLayers(gates: readonly ResolvedGate[]): string[][] {
  const byId = new Map(gates.map((g) => [g.id, g]));
  const depth = new Map<string, number>();
  const d = (id: string): number => {
    let v = depth.get(id);
    if (v === undefined) {
      v = Math.max(-1, ...(byId.get(id)?.needs ?? []).map(d)) + 1;
      depth.set(id, v);
    }
    return v;
  };
  const layers: string[][] = [];
  for (const g of gates) (layers[d(g.id)] ??= []).push(g.id);
  return layers.map((l) => [...l].sort());
}

/** Unwraps catchError / withCredentials around a stage's commands. */
function unwrap(steps: Rec[]): {
  advisory: Rec | null;
  credentials: Rec | null;
  scripts: string[];
  others: Rec[];
} {
  let list = steps;
  let advisory: Rec | null = null;
  let credentials: Rec | null = null;
  if (list.length === 1 && list[0]?.step === 'catchError') {
    advisory = list[0];
    list = list[0].steps as Rec[];
  }
  if (list.length === 1 && list[0]?.step === 'withCredentials') {
    credentials = list[0];
    list = list[0].steps as Rec[];
  }
  return {
    advisory,
    credentials,
    scripts: list.filter((s) => s.step === 'sh').map((s) => s.script as string),
    others: list.filter((s) => s.step !== 'sh'),
  };
}

function expectBindings(
  credentials: Rec | null,
  secrets: string[],
  options: ResolvedJenkinsOptions,
): void {
  const names = [...new Set(secrets)].sort();
  if (names.length === 0) {
    expect(credentials).toBeNull();
    return;
  }
  expect(credentials?.bindings).toEqual(
    names.map((n) => ({
      type: 'string',
      credentialsId: options.credentials[n] ?? defaultCredentialsId(n),
      variable: n,
    })),
  );
}

/** Asserts the recorded pipeline runs exactly `pipeline`'s gates, in DAG order, with its commands. */
export function expectJenkinsSemantics(
  recorded: RecordedPipeline | undefined,
  pipeline: ResolvedPipeline,
  options: ResolvedJenkinsOptions,
): void {
  expect(recorded).toBeDefined();
  const rec = recorded as Rec;
  const stages = [...(rec.stages as Rec[])];
  const native = options.mode === 'native';

  // First, the results and report of an earlier build in the same workspace are removed.
  const clean = stages.shift() as Rec;
  expect(clean.name).toBe('Clean results');
  expect(unwrap(clean.steps as Rec[]).scripts).toEqual([
    'rm -rf gatehouse-results gatehouse-report',
  ]);

  if (native && pipeline.setup !== null) {
    const setup = stages.shift() as Rec;
    expect(setup.name).toBe('Setup');
    const u = unwrap(setup.steps as Rec[]);
    expect(u.advisory).toBeNull();
    expect(u.others).toEqual([]);
    expect(u.scripts).toHaveLength(1);
    const script = u.scripts[0]!;
    // the configured command, verbatim, after one `export` per setup env var (values are
    // checked by running the prefix in a real shell below)
    expect(script.endsWith(pipeline.setup.run)).toBe(true);
    const prefix = script.slice(0, script.length - pipeline.setup.run.length);
    const names = Object.keys(pipeline.setup.env).sort();
    if (names.length === 0) expect(prefix).toBe('');
    else expect(prefix).toMatch(new RegExp(`^export ${names[0]}=[^]*\\n$`));
    // a real POSIX shell must see exactly the configured values
    const printed = execFileSync('/bin/sh', [
      '-c',
      `${prefix}printf '%s\\0' ${names.map((n) => `"$${n}"`).join(' ')}`,
    ]);
    const values = names.length === 0 ? [] : printed.toString('utf8').split('\0').slice(0, -1);
    expect(values).toEqual(names.map((n) => pipeline.setup!.env[n]));
    expectBindings(u.credentials, pipeline.setup.secrets, options);
    // Declarative resolves $NAME inside environment values, so none carries user text
    expect(setup.environment).toBeUndefined();
  }

  // A monorepo: a stage marks the gates to run, and each gate stage runs only when marked.
  // Native marks what the selected gates need too; a docker build runs those stages itself.
  const monorepo = ciHasPackageGates(pipeline);
  if (monorepo) {
    const affected = stages.shift() as Rec;
    expect(affected.name).toBe('Affected');
    const script = unwrap(affected.steps as Rec[]).scripts.join('\n');
    expect(script).toContain(
      `${options.cli} affected --base "$BASE" --all-if-no-base --committed ${native ? '--run-list' : '--gates'} > .gatehouse/ci-affected.txt`,
    );
    // Docker mode: exports of an earlier build in the workspace are removed first.
    if (!native) expect(script).toMatch(/^rm -rf .* gatehouse-results\/docker$/m);
    expect(script).toContain(
      'do : > ".gatehouse/ci-affected/$g"; done < .gatehouse/ci-affected.txt',
    );
  }

  const layers: string[][] = [];
  const gateStages = new Map<string, Rec>();
  for (const s of stages) {
    const branches = s.parallel === undefined ? [s] : (s.parallel as Rec[]);
    if (s.parallel !== undefined) expect(s.name).toBe(`Gates ${layers.length + 1}`);
    layers.push(branches.map((b) => b.name as string));
    for (const b of branches) {
      expect(gateStages.has(b.name as string)).toBe(false);
      gateStages.set(b.name as string, b);
    }
  }
  // no stage beyond the gates, each gate exactly once, and the layers are the DAG's
  expect([...gateStages.keys()].sort()).toEqual(pipeline.gates.map((g) => g.id).sort());
  expect(layers).toEqual(referenceLayers(pipeline.gates));
  const layerOf = new Map(layers.flatMap((l, i) => l.map((id) => [id, i] as const)));
  for (const g of pipeline.gates) {
    for (const n of g.needs) expect(layerOf.get(n)!).toBeLessThan(layerOf.get(g.id)!);
  }

  for (const g of pipeline.gates) {
    const s = gateStages.get(g.id) as Rec;
    const timeout = (s.options as Rec[] | undefined)?.find((o) => o.option === 'timeout');
    expect(timeout?.unit).toBe('MINUTES');
    expect(timeout?.time as number).toBeGreaterThanOrEqual(Math.ceil(g.timeoutMs / 60_000));
    expect(s.when).toEqual(monorepo ? { fileExists: `.gatehouse/ci-affected/${g.id}` } : undefined);
    const u = unwrap(s.steps as Rec[]);
    if (g.mode === 'advisory') {
      expect(u.advisory).toMatchObject({ buildResult: 'SUCCESS', stageResult: 'UNSTABLE' });
    } else {
      expect(u.advisory).toBeNull();
    }
    expect(u.others).toEqual([]);
    if (native) {
      const base = `${options.cli} run --only ${g.id} --result-file gatehouse-results/${g.id}.json`;
      // `--only` runs share the workspace: siblings run side by side, nobody waits
      if (pipeline.cache?.remote) {
        // One script: the remote cache's mode line, then the gate, in the same shell.
        expect(u.scripts).toHaveLength(1);
        const [mode, run, ...more] = (u.scripts[0] as string).split('\n');
        expect(more).toEqual([]);
        expect(run).toBe(base);
        expect(mode).toMatch(
          /^if \[ -z "\$\{CHANGE_ID:-\}" \] .*; then GATEHOUSE_REMOTE_CACHE_READ_ONLY=false; else GATEHOUSE_REMOTE_CACHE_READ_ONLY=true; fi; export GATEHOUSE_REMOTE_CACHE_READ_ONLY$/,
        );
      } else expect(u.scripts).toEqual([base]);
      expect(timeout?.time as number).toBeLessThanOrEqual(Math.ceil(g.timeoutMs / 60_000) + 1);
      expectBindings(
        u.credentials,
        pipeline.cache?.remote ? [...g.secrets, 'GATEHOUSE_REMOTE_CACHE_TOKEN'] : g.secrets,
        options,
      );
      expect(s.environment).toBeUndefined();
    } else {
      expect(u.scripts[0]).toContain(`--target result-${g.id} `);
      expect(u.scripts[0]).toContain('-o type=local,dest=gatehouse-results/docker .');
      expect(s.environment).toBeUndefined();
      for (const secret of [...g.secrets, ...(pipeline.setup?.secrets ?? [])]) {
        expect(u.scripts[0]).toContain(`--secret id=${secret},env=${secret} `);
        expect((u.credentials?.bindings as Rec[]).map((b) => b.variable)).toContain(secret);
      }
    }
  }

  const always = (rec.post as Rec).always as Rec[];
  const merge = native
    ? `${options.cli} report merge gatehouse-results -o gatehouse-report/report.json`
    : `${options.cli} report merge --docker gatehouse-results/docker -o gatehouse-report/report.json`;
  expect(always[0]).toMatchObject({ step: 'catchError', buildResult: 'FAILURE' });
  const publish = (always[0]?.steps as Rec[]).map((s) => s.script);
  if (monorepo) {
    // Docker mode: the merge reads the exports directory, made when no build left one.
    if (!native) expect(publish.shift()).toBe('mkdir -p gatehouse-results/docker');
    // Only the gates that were to run are judged; a failed verdict fails the build after rendering.
    expect(publish[0]).toBe(
      `${merge} --gates "$(cat .gatehouse/ci-affected.txt)" --fail-on-verdict || : > .gatehouse/ci-verdict-failed`,
    );
    expect(publish.at(-1)).toBe('test ! -e .gatehouse/ci-verdict-failed');
  } else expect(publish[0]).toBe(merge);
  for (const format of ['md', 'html', 'junit']) {
    expect(
      publish.some(
        (p) =>
          typeof p === 'string' &&
          p.includes(`report render gatehouse-report/report.json --format ${format} -o `),
      ),
    ).toBe(true);
  }
  expect(always.slice(1)).toEqual([
    { step: 'junit', testResults: 'gatehouse-report/junit.xml', allowEmptyResults: true },
    {
      step: 'archiveArtifacts',
      artifacts: 'gatehouse-results/**, gatehouse-report/**',
      allowEmptyArchive: true,
    },
  ]);
}
