/**
 * Verdict equivalence (one test file per fixture, so they run in parallel): for each planted
 * fault in a fixture project, the project's own
 * scripts and every way Gatehouse runs the gates (cold, warm after the edit, sandboxed,
 * through the Docker executor, by a plain `docker build .`, and as CI jobs merged) must
 * reach the same verdict. The matrix is printed at the end (and written to
 * `<fixture>.md` in the directory named by GATEHOUSE_EQUIVALENCE_MATRIX); docs/equivalence.md
 * publishes it.
 *
 * For quick local work GATEHOUSE_EQUIVALENCE_FIXTURES / _FAULTS / _COLUMNS (comma lists of
 * names, fault ids, column numbers from 1) narrow the run; under CI=true they are refused,
 * so CI always runs the whole matrix.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER_TEST_TIMEOUT_MS, requireDocker } from '@gatehouse-ci/test-utils';
import { gatehouse, show } from '../e2e/helpers.js';
import type { FixtureSource } from './fixtures.js';
import {
  EXECUTORS,
  checkout,
  commit,
  judge,
  matrixMarkdown,
  replaceIn,
  type Executor,
  type Row,
} from './harness.js';

const docker = await requireDocker('the verdict-equivalence suite');

const narrow = (name: string) =>
  process.env[name]
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const onlyFixtures = narrow('GATEHOUSE_EQUIVALENCE_FIXTURES');
const onlyFaults = narrow('GATEHOUSE_EQUIVALENCE_FAULTS');
const onlyColumns = narrow('GATEHOUSE_EQUIVALENCE_COLUMNS');
if (process.env.CI === 'true' && (onlyFixtures || onlyFaults || onlyColumns))
  throw new Error(
    'GATEHOUSE_EQUIVALENCE_FIXTURES/_FAULTS/_COLUMNS narrow the matrix: not under CI=true',
  );

/**
 * The order the columns run in for one fault. The warm run goes first, right after the
 * edit, so its cache holds only results of earlier trees: a hit there is a stale hit.
 */
const RUN_ORDER: Executor[] = [
  'run (warm, after the edit)',
  'own scripts',
  'run (cold)',
  'run --sandbox',
  'run --executor docker',
  'docker build .',
  'CI: run --only + merge',
];
if (RUN_ORDER.length !== EXECUTORS.length || EXECUTORS.some((e) => !RUN_ORDER.includes(e)))
  throw new Error('RUN_ORDER must list every executor once');

/** Defines the equivalence tests of one fixture (call it once, from its own test file). */
export function equivalenceSuite(fixture: FixtureSource): void {
  const rows: Row[] = [];
  afterAll(async () => {
    if (rows.length === 0) return;
    const table = matrixMarkdown(rows);
    process.stdout.write(`\nverdict-equivalence matrix: ${fixture.name}\n${table}\n`);
    const out = process.env.GATEHOUSE_EQUIVALENCE_MATRIX;
    if (out) {
      await mkdir(out, { recursive: true });
      await writeFile(join(out, `${fixture.name}.md`), table);
    }
  });
  if (onlyFixtures && !onlyFixtures.includes(fixture.name)) {
    describe(fixture.name, () => {
      it.skip('not in GATEHOUSE_EQUIVALENCE_FIXTURES', () => undefined);
    });
    return;
  }
  describe.skipIf(!docker)(fixture.name, () => {
    let dir = '';

    beforeAll(async () => {
      dir = await checkout(fixture.source, `gatehouse-eq-${fixture.name}-`);
    }, DOCKER_TEST_TIMEOUT_MS);

    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it(
      fixture.initCommitted
        ? 'init still writes the committed config, which validates clean; the Docker columns use the test image'
        : fixture.init
          ? 'init writes a config that validates clean; the Docker columns use the test image'
          : 'its own config validates clean; the Docker columns use the test image',
      async () => {
        if (fixture.initCommitted) {
          const r = gatehouse(['init', '--dry-run'], { cwd: dir });
          expect(r.status, show(r)).toBe(0);
          expect(
            r.stdout,
            'init writes another config: regenerate it (see the fixture README)',
          ).toBe(await readFile(`${dir}/gatehouse.yml`, 'utf8'));
        } else if (fixture.init) {
          const r = gatehouse(['init'], { cwd: dir });
          expect(r.status, show(r)).toBe(0);
        }
        const v = gatehouse(['validate'], { cwd: dir });
        expect(v.status, show(v)).toBe(0);
        expect(`${v.stdout}${v.stderr}`).toMatch(/\b0 errors, 0 warnings\b/);
        // Only the Docker columns read `image`; the gates are the ones init wrote.
        const image = await fixture.image();
        const config = await readFile(`${dir}/gatehouse.yml`, 'utf8');
        const from = /^image: (.+)$/m.exec(config)?.[1];
        expect(from, 'the config names an image').toBeTruthy();
        await replaceIn(dir, 'gatehouse.yml', `image: ${from}\n`, `image: ${image}\n`);
        commit(dir, 'gatehouse config');
      },
      DOCKER_TEST_TIMEOUT_MS,
    );

    for (const fault of fixture.faults) {
      const wanted = !onlyFaults || onlyFaults.includes(fault.id) || fault.id === 'none';
      it.runIf(wanted)(
        `${fault.id}: every executor says ${fault.expect}`,
        async () => {
          const row: Row = { fixture: fixture.name, fault, cells: {} };
          rows.push(row);
          const undo = await fault.plant(dir);
          try {
            for (const executor of RUN_ORDER) {
              if (onlyColumns && !onlyColumns.includes(String(EXECUTORS.indexOf(executor) + 1)))
                continue;
              row.cells[executor] = await judge(executor, dir, fixture, fault);
            }
          } finally {
            await undo();
          }
          const columns = EXECUTORS.filter((e) => row.cells[e]);
          const cells = Object.fromEntries(columns.map((e) => [e, row.cells[e]!.cell]));
          const want = Object.fromEntries(
            columns.map((e) => [e, e === 'own scripts' && fault.configOnly ? 'n/a' : fault.expect]),
          );
          const wrong = columns.filter((e) => cells[e] !== want[e]);
          expect(
            cells,
            wrong.map((e) => `--- ${e}: ${cells[e]}\n${row.cells[e]!.log.slice(-4000)}`).join('\n'),
          ).toEqual(want);
          // The red comes from the gates the fault breaks, in every column with a report.
          for (const e of columns) {
            const report = row.cells[e]!.report;
            if (!report) continue;
            for (const id of fault.fails ?? []) {
              const g = report.gates.find((x) => x.id === id);
              // A replayed gate (BuildKit's cache) reports the status of the run it replays.
              const status = g?.status === 'cached' ? g.cached?.status : g?.status;
              expect([e, id, status]).toEqual([e, id, 'failed']);
            }
          }
          // The warm run reran what the edit touches (a cache hit there would be stale).
          const warm = row.cells['run (warm, after the edit)']?.report;
          for (const id of row.cells['run (warm, after the edit)'] ? (fault.rerun ?? []) : []) {
            const g = warm?.gates.find((x) => x.id === id);
            expect([id, g?.status]).not.toEqual([id, 'cached']);
            expect(g, `gate ${id} in the warm run's report`).toBeDefined();
          }
        },
        DOCKER_TEST_TIMEOUT_MS,
      );
    }
  });
}
