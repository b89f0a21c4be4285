import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  criticalPath,
  findCycle,
  selectGates,
  topologicalLayers,
  type GateNode,
  type ResolvedGate,
  type ResolvedPipeline,
} from '../src/index.js';

// @gatehouse-ci/test-utils depends on core, so core's own tests build pipelines here.
function gate(id: string, over: Partial<ResolvedGate> = {}): ResolvedGate {
  return {
    id,
    kind: 'custom',
    run: 'true',
    description: null,
    needs: [],
    image: 'x:1',
    env: {},
    secrets: [],
    inputs: [],
    outputs: [],
    timeoutMs: 1000,
    mode: 'blocking',
    evidence: [{ format: 'exitcode', path: null }],
    policy: {},
    tools: {},
    ...over,
  };
}
function pipeline(gates: ResolvedGate[], over: Partial<ResolvedPipeline> = {}): ResolvedPipeline {
  return {
    version: 1,
    name: 't',
    configPath: '/t/gatehouse.yml',
    rootDir: '/t',
    configSha256: '0'.repeat(64),
    image: 'x:1',
    workdir: '/app',
    setup: null,
    gates,
    release: null,
    targets: {},
    plugins: [],
    ...over,
  };
}

/** A random DAG: gate i may only need gates with a smaller index (then ids are shuffled). */
const dagArb = fc
  .integer({ min: 1, max: 30 })
  .chain((n) =>
    fc.tuple(
      fc.array(fc.array(fc.nat({ max: 1000 }), { maxLength: 4 }), { minLength: n, maxLength: n }),
      fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => `g${i}`),
        { minLength: n, maxLength: n },
      ),
    ),
  )
  .map(([needIdx, names]) =>
    needIdx.map((ns, i): GateNode => ({
      id: names[i]!,
      needs: i === 0 ? [] : [...new Set(ns.map((k) => names[k % i]!))],
    })),
  );

describe('topologicalLayers', () => {
  it('respects every edge, places every gate once, sorts ids in a layer', () => {
    fc.assert(
      fc.property(dagArb, (gates) => {
        const layers = topologicalLayers(gates);
        const layerOf = new Map(layers.flatMap((l, i) => l.map((id) => [id, i] as const)));
        expect(layerOf.size).toBe(gates.length);
        expect(layers.flat().length).toBe(gates.length);
        for (const g of gates)
          for (const n of g.needs) expect(layerOf.get(n)!).toBeLessThan(layerOf.get(g.id)!);
        for (const l of layers) expect([...l].sort()).toEqual(l);
      }),
    );
  });

  it('layers are maximal: each gate is in the earliest layer its needs allow', () => {
    fc.assert(
      fc.property(dagArb, (gates) => {
        const layers = topologicalLayers(gates);
        const layerOf = new Map(layers.flatMap((l, i) => l.map((id) => [id, i] as const)));
        for (const g of gates) {
          const earliest =
            g.needs.length === 0 ? 0 : Math.max(...g.needs.map((n) => layerOf.get(n)!)) + 1;
          expect(layerOf.get(g.id)).toBe(earliest);
        }
      }),
    );
  });

  it('throws GH_CYCLE with the path on a cyclic graph', () => {
    expect(() =>
      topologicalLayers([
        { id: 'a', needs: ['b'] },
        { id: 'b', needs: ['a'] },
      ]),
    ).toThrow(/a -> b -> a/);
  });
});

describe('findCycle', () => {
  it('is null for every DAG', () => {
    fc.assert(
      fc.property(dagArb, (gates) => {
        expect(findCycle(gates)).toBeNull();
      }),
    );
  });

  it('finds a planted cycle, and the path it returns is a real cycle', () => {
    fc.assert(
      fc.property(dagArb, fc.nat(), fc.nat(), (gates, x, y) => {
        // Plant a back edge: from an earlier gate to a gate that (transitively) needs it, or a self-loop.
        const i = x % gates.length;
        const j = i + (y % (gates.length - i));
        const from = gates[i]!;
        const to = gates[j]!;
        const planted = gates.map((g) =>
          g.id === from.id ? { ...g, needs: [...g.needs, to.id] } : g,
        );
        // Make sure `to` reaches `from`: chain j -> i via a direct need when needed.
        const withPath = planted.map((g) =>
          g.id === to.id && i !== j ? { ...g, needs: [...g.needs, from.id] } : g,
        );
        const cycle = findCycle(withPath);
        expect(cycle).not.toBeNull();
        expect(cycle![0]).toBe(cycle![cycle!.length - 1]);
        const byId = new Map(withPath.map((g) => [g.id, g]));
        for (let k = 0; k + 1 < cycle!.length; k++)
          expect(byId.get(cycle![k]!)!.needs).toContain(cycle![k + 1]);
      }),
    );
  });

  it('reports a self-need as a one-gate cycle', () => {
    expect(findCycle([{ id: 'a', needs: ['a'] }])).toEqual(['a', 'a']);
  });

  it('handles a 5000-gate chain without recursion limits', () => {
    const gates = Array.from({ length: 5000 }, (_, i) => ({
      id: `g${i}`,
      needs: i ? [`g${i - 1}`] : [`g4999`],
    }));
    expect(findCycle(gates)!.length).toBe(5001);
  });
});

describe('selectGates', () => {
  const p = pipeline(
    [
      gate('build'),
      gate('lint'),
      gate('a11y', { needs: ['build'] }),
      gate('e2e', { needs: ['a11y'] }),
    ],
    {
      release: {
        from: 'build',
        copy: ['dist'],
        cmd: ['node'],
        image: 'x:1',
        expose: [],
        env: {},
        user: 'node',
        workdir: '/app',
      },
    },
  );

  it('keeps the selection plus transitive needs, in pipeline order', () => {
    const s = selectGates(p, ['e2e']);
    expect(s.gates.map((g) => g.id)).toEqual(['build', 'a11y', 'e2e']);
    expect(s.release?.from).toBe('build');
    expect(selectGates(p, ['lint']).release).toBeNull();
    expect(selectGates(p, [])).toBe(p);
  });

  it('throws GH_UNKNOWN_GATE with a suggestion', () => {
    expect(() => selectGates(p, ['biuld'])).toThrow(
      expect.objectContaining({ code: 'GH_UNKNOWN_GATE', hint: 'did you mean `build`?' }),
    );
  });

  it('is closed under needs for random graphs', () => {
    fc.assert(
      fc.property(dagArb, fc.nat(), (nodes, k) => {
        const pl = pipeline(nodes.map((n) => gate(n.id, { needs: n.needs })));
        const pick = nodes[k % nodes.length]!.id;
        const ids = new Set(selectGates(pl, [pick]).gates.map((g) => g.id));
        expect(ids.has(pick)).toBe(true);
        for (const g of nodes)
          if (ids.has(g.id)) for (const n of g.needs) expect(ids.has(n)).toBe(true);
      }),
    );
  });
});

describe('criticalPath', () => {
  it('finds the longest weighted chain', () => {
    const gates = [
      { id: 'build', needs: [] },
      { id: 'lint', needs: [] },
      { id: 'a11y', needs: ['build'] },
      { id: 'e2e', needs: ['build', 'lint'] },
    ];
    expect(criticalPath(gates, { build: 60, lint: 85, a11y: 30, e2e: 10 })).toEqual({
      path: ['lint', 'e2e'],
      totalMs: 95,
    });
    expect(criticalPath(gates, { build: 60, lint: 10, a11y: 30, e2e: 10 })).toEqual({
      path: ['build', 'a11y'],
      totalMs: 90,
    });
    expect(criticalPath([], {})).toEqual({ path: [], totalMs: 0 });
  });

  it('equals a brute-force longest path on random graphs, and is a chain of needs', () => {
    fc.assert(
      fc.property(
        dagArb,
        fc.array(fc.nat({ max: 10_000 }), { minLength: 30, maxLength: 30 }),
        (gates, ws) => {
          const d = Object.fromEntries(gates.map((g, i) => [g.id, ws[i]!]));
          const byId = new Map(gates.map((g) => [g.id, g]));
          const memo = new Map<string, number>();
          const longest = (id: string): number => {
            if (!memo.has(id))
              memo.set(id, d[id]! + Math.max(0, ...byId.get(id)!.needs.map(longest)));
            return memo.get(id)!;
          };
          const best = Math.max(...gates.map((g) => longest(g.id)));
          const cp = criticalPath(gates, d);
          expect(cp.totalMs).toBe(best);
          expect(cp.path.reduce((s, id) => s + d[id]!, 0)).toBe(best);
          for (let k = 1; k < cp.path.length; k++)
            expect(byId.get(cp.path[k]!)!.needs).toContain(cp.path[k - 1]);
        },
      ),
    );
  });
});
