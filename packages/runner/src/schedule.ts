/**
 * The order gates run in. A gate starts once the needs it has in this run ended, and is skipped
 * when one of them did not pass (an advisory need never blocks). Only running processes count
 * against `concurrency`, and critical path first: when more gates are ready than there are process slots, the slot goes
 * to the gate with the longest remaining path (its own expected duration plus the longest
 * chain of gates waiting on it). Expected durations come from the last run's report, else
 * from the gate's kind.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GateResult, ResolvedGate } from '@gatehouse-ci/core';
import { EXECUTOR } from './context.js';
import { skippedResult } from './results.js';

/** Expected duration by kind before a gate has run once (ms); other kinds use `custom`'s. */
export const KIND_DURATION_MS: Readonly<Record<string, number>> = {
  build: 30_000,
  lint: 20_000,
  'unit-test': 30_000,
  'a11y-test': 30_000,
  sonarqube: 60_000,
  custom: 10_000,
};

/**
 * Each gate's duration in the latest report under `stateDir` (`report/report.json`), for
 * gates that ran or came from the cache. Only an ordering hint: a missing, damaged or edited
 * report changes which gate starts first, never a result.
 */
export async function lastDurations(stateDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const text = await readFile(join(stateDir, 'report', 'report.json'), 'utf8');
    const report = JSON.parse(text) as { gates?: Array<Record<string, unknown>> };
    for (const g of report.gates ?? []) {
      const ms = g.durationMs;
      if (typeof g.id !== 'string' || g.status === 'skipped') continue;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) out.set(g.id, ms);
    }
  } catch {
    // no report yet, or not one we can read: kinds' defaults
  }
  return out;
}

/**
 * The longest remaining path of every gate of `gates` (ms): its expected duration plus the
 * longest remaining path among the gates of `gates` that need it.
 */
export function remainingPaths(
  gates: readonly ResolvedGate[],
  durations: ReadonlyMap<string, number>,
): Map<string, number> {
  const dependants = new Map<string, string[]>(gates.map((g) => [g.id, []]));
  for (const g of gates) for (const n of g.needs) dependants.get(n)?.push(g.id);
  const byId = new Map(gates.map((g) => [g.id, g]));
  const memo = new Map<string, number>();
  const longest = (id: string): number => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const g = byId.get(id)!;
    const own = durations.get(id) ?? KIND_DURATION_MS[g.kind] ?? KIND_DURATION_MS.custom!;
    let after = 0;
    for (const d of dependants.get(id)!) after = Math.max(after, longest(d));
    memo.set(id, own + after);
    return own + after;
  };
  for (const g of gates) longest(g.id);
  return memo;
}

/**
 * Process slots handed out by priority. A slot is handed out only while no gate is still
 * being prepared (keyed, looked up in the cache): every gate ready at that moment is then
 * waiting, so the choice among them does not depend on which cache lookup finished first.
 * Equal priorities go in the order the gates asked.
 */
export class SlotQueue {
  #free: number;
  #preparing = 0;
  #seq = 0;
  readonly #waiting: Array<{ priority: number; seq: number; grant: () => void }> = [];

  constructor(slots: number) {
    this.#free = slots;
  }

  /** A gate started preparing; {@link prepared} or {@link ready} ends it. */
  preparing(): void {
    this.#preparing++;
  }

  /** A gate finished preparing and needs no slot (a cache hit, or it could not be prepared). */
  prepared(): void {
    this.#preparing--;
    this.#dispatch();
  }

  /**
   * A gate finished preparing and waits for a slot: resolves when it has one. Gates with a
   * higher `priority` get one first.
   */
  ready(priority: number): Promise<void> {
    return new Promise((grant) => {
      this.#preparing--;
      this.#waiting.push({ priority, seq: this.#seq++, grant });
      this.#dispatch();
    });
  }

  /**
   * A gate's process ended. The slot is handed out at the next {@link dispatch}, which the
   * scheduler calls after it has started the gates that this one's end made ready, so they
   * compete for it too.
   */
  release(): void {
    this.#free++;
  }

  /** Hand out free slots (see {@link release}). */
  dispatch(): void {
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#free > 0 && this.#preparing === 0 && this.#waiting.length > 0) {
      let best = 0;
      for (let i = 1; i < this.#waiting.length; i++) {
        const w = this.#waiting[i]!;
        const b = this.#waiting[best]!;
        if (w.priority > b.priority || (w.priority === b.priority && w.seq < b.seq)) best = i;
      }
      const [next] = this.#waiting.splice(best, 1);
      this.#free--;
      next!.grant();
    }
  }
}

/** A need lets its dependants run when it passed (or its cached result passed), or is advisory. */
function needOk(gate: ResolvedGate, r: GateResult): boolean {
  if (gate.mode === 'advisory') return true;
  return r.status === 'passed' || (r.status === 'cached' && r.cached?.status === 'passed');
}

/** A blocking gate whose result stops a fail-fast run. */
export function failsRun(gate: ResolvedGate, r: GateResult): boolean {
  if (gate.mode === 'advisory') return false;
  return !(
    r.status === 'passed' ||
    r.status === 'skipped' ||
    (r.status === 'cached' && r.cached?.status === 'passed')
  );
}

/** A prepared gate: its result already (from the cache), or the process still to run. */
export type Prepared = { result: GateResult } | { run: () => Promise<GateResult> };

export interface Schedule {
  /** The gates of the run, in the order they were selected. */
  gates: readonly ResolvedGate[];
  /** Every gate of the pipeline by id (needs outside the run are not waited for). */
  byId: ReadonlyMap<string, ResolvedGate>;
  /** Processes at most at the same time. */
  concurrency: number;
  /** Each gate's longest remaining path: the higher, the sooner it gets a slot. */
  priority: ReadonlyMap<string, number>;
  /** Why a gate about to start is skipped (setup failed, the run stopped, its `when`), or null. */
  skipReason(gate: ResolvedGate): string | null;
  /** Key a gate and look it up, before it asks for a slot. */
  prepare(gate: ResolvedGate): Promise<Prepared>;
  /** A gate ended (ran, came from the cache or was skipped). */
  ended(gate: ResolvedGate, result: GateResult): void;
  /** A gate that was started ended, after {@link ended}: a fail-fast run stops here. */
  ran?(gate: ResolvedGate, result: GateResult): void;
  /**
   * How many processes may be asked for soon: gates waiting for a slot plus gates not started
   * yet, at most `concurrency`. Called from the first gate that needs a process on (a run
   * whose gates all come from the cache never calls it), so processes can be readied ahead.
   */
  warm?(n: number): void;
}

/** Run every gate of `s.gates` in order, each once; resolves with their results by id. */
export async function runScheduled(s: Schedule): Promise<Map<string, GateResult>> {
  const slots = new SlotQueue(s.concurrency);
  const inRun = new Set(s.gates.map((g) => g.id));
  const pending = [...s.gates];
  // Gates being prepared or waiting for a slot: each may still ask for a process.
  let ahead = 0;
  let warmWanted = false;
  const warm = () => {
    if (warmWanted) s.warm?.(Math.min(s.concurrency, ahead + pending.length));
  };

  const runGate = async (gate: ResolvedGate): Promise<GateResult> => {
    slots.preparing();
    ahead++;
    let prepared: Prepared;
    try {
      prepared = await s.prepare(gate);
    } catch (err) {
      ahead--;
      slots.prepared();
      throw err;
    }
    if ('result' in prepared) {
      ahead--;
      slots.prepared();
      return prepared.result;
    }
    warmWanted = true;
    warm();
    try {
      await slots.ready(s.priority.get(gate.id) ?? 0);
    } finally {
      ahead--;
    }
    try {
      return await prepared.run();
    } finally {
      slots.release();
    }
  };

  const results = new Map<string, GateResult>();
  const finish = (gate: ResolvedGate, r: GateResult) => {
    results.set(gate.id, r);
    s.ended(gate, r);
  };
  let running = 0;
  await new Promise<void>((done) => {
    const pump = () => {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (let i = 0; i < pending.length; i++) {
          const gate = pending[i]!;
          let skip = s.skipReason(gate);
          if (skip === null) {
            const needs = gate.needs.filter((n) => inRun.has(n));
            if (!needs.every((n) => results.has(n))) continue;
            const blocker = needs.find((n) => !needOk(s.byId.get(n)!, results.get(n)!));
            if (blocker !== undefined) {
              const st = results.get(blocker)!.status;
              skip =
                st === 'skipped'
                  ? `needs ${blocker} which was skipped`
                  : `needs ${blocker} which ${st === 'failed' ? 'failed' : `ended ${st}`}`;
            }
          }
          pending.splice(i, 1);
          i--;
          progressed = true;
          if (skip !== null) {
            finish(gate, skippedResult(gate, skip, EXECUTOR));
            continue;
          }
          running++;
          void runGate(gate)
            .catch((err: unknown): GateResult => ({
              ...skippedResult(gate, `internal error: ${(err as Error).message}`, EXECUTOR),
              status: 'error',
            }))
            .then((r) => {
              running--;
              finish(gate, r);
              s.ran?.(gate, r);
              pump();
              warm();
            });
        }
      }
      slots.dispatch();
      if (pending.length === 0 && running === 0) done();
    };
    pump();
  });
  return results;
}
