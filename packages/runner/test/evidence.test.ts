import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, pipe, project, run } from './helpers.js';

let dir = '';
afterEach(() => cleanup(dir));

const JUNIT = `<?xml version="1.0"?>
<testsuites><testsuite name="s" tests="2" failures="1">
<testcase name="ok" classname="s"/>
<testcase name="bad" classname="s"><failure message="expected 1 to be 2"/></testcase>
</testsuite></testsuites>`;

describe('evidence', () => {
  it('judges the evidence a gate writes to $GATEHOUSE_OUT, and replays it from the cache', async () => {
    dir = await project({ 'test/a.test.js': 'x', 'junit.xml': JUNIT });
    const unit = (maxFailed: number) =>
      gate('unit', {
        kind: 'unit-test',
        inputs: ['test/**', 'junit.xml'],
        run: 'cp junit.xml "$GATEHOUSE_OUT/junit.xml"',
        evidence: [{ format: 'junit', path: 'junit.xml' }],
        policy: { max_failed: maxFailed },
      });
    const first = await run(pipe(dir, [unit(0)]));
    const r = first.report.gates[0]!;
    expect(r.status).toBe('failed');
    expect(r.exitCode).toBe(0);
    expect(r.evidence.tests).toMatchObject({ total: 2, passed: 1, failed: 1 });
    expect(r.thresholds.find((t) => t.name === 'max_failed')).toMatchObject({
      limit: 0,
      measured: 1,
      ok: false,
    });
    // A failure is judged again on the next run, never replayed.
    expect((await run(pipe(dir, [unit(0)]))).report.gates[0]!.status).toBe('failed');

    // A pass (one failed test allowed) is replayed from the cache with its evidence.
    const passed = (await run(pipe(dir, [unit(1)]))).report.gates[0]!;
    expect(passed.status).toBe('passed');
    const second = await run(pipe(dir, [unit(1)]));
    const c = second.report.gates[0]!;
    expect(c).toMatchObject({ status: 'cached', cached: { status: 'passed' } });
    expect(c.evidence.tests).toEqual(r.evidence.tests);
    expect(c.thresholds).toEqual(passed.thresholds);
  });

  it('a gate that does not write its evidence file is an error', async () => {
    dir = await project();
    const g = gate('lint', {
      kind: 'lint',
      run: 'true',
      evidence: [{ format: 'eslint', path: 'eslint.json' }],
    });
    const { report } = await run(pipe(dir, [g]));
    expect(report.gates[0]!.status).toBe('error');
    expect(report.gates[0]!.reason).toMatch(/eslint\.json.*missing/);
  });
});
