/**
 * The gate wrapper writes `result.json` with a `printf` inside the build; core's
 * `parseExportedResult` says what that file must be (the layout every reader imports). The
 * wrapper runs here under the host's `/bin/sh` (and busybox's, when present) for a gate that
 * passes, one that fails, one whose `when.env` is unmet and one whose need did not pass.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXPORTED_RESULT_KEYS, parseExportedResult } from '@gatehouse-ci/core';
import { OUT_ROOT } from '../src/index.js';
import { gateWrapper } from '../src/wrapper.js';

const work = mkdtempSync(join(tmpdir(), 'gh-result-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SHELLS = [
  ['sh', ['/bin/sh']],
  ['busybox sh', ['busybox', 'sh']],
].filter(
  ([, argv]) => spawnSync(argv![0]!, [...argv!.slice(1), '-c', 'exit 0']).status === 0,
) as Array<[string, string[]]>;

/** Run gate `id`'s wrapper with its out root moved under `root`; the parsed `result.json`. */
function run(
  shell: string[],
  root: string,
  id: string,
  command: string,
  opts: { when?: string[]; needs?: string[] } = {},
) {
  const script = gateWrapper({
    id,
    timeoutSeconds: 30,
    secrets: [],
    ca: false,
    commandFile: null,
    when: opts.when ?? [],
    needs: opts.needs ?? [],
  }).replaceAll(OUT_ROOT, root);
  const r = spawnSync(shell[0]!, [...shell.slice(1), '-c', script, 'gatehouse-gate', command], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  expect(r.status, r.stderr).toBe(0);
  const text = readFileSync(join(root, id, 'result.json'), 'utf8');
  const parsed = parseExportedResult(text);
  if (!parsed.ok) throw new Error(`${text}: ${parsed.problems.join('; ')}`);
  expect(Object.keys(JSON.parse(text))).toEqual([...EXPORTED_RESULT_KEYS]);
  return parsed.value;
}

describe.each(SHELLS)('result.json written by the gate wrapper (%s)', (_name, shell) => {
  it('parses to the exported result type, whatever the gate did', () => {
    const root = mkdtempSync(join(work, 'out-'));
    expect(run(shell, root, 'ok', 'echo hi')).toMatchObject({
      id: 'ok',
      exitCode: 0,
      timedOut: false,
      skipped: null,
      conditionUnmet: false,
    });
    expect(run(shell, root, 'bad', 'exit 3')).toMatchObject({ exitCode: 3, skipped: null });
    expect(run(shell, root, 'cond', 'echo never', { when: ['GH_TEST_UNSET_VAR'] })).toMatchObject({
      exitCode: null,
      conditionUnmet: true,
      skipped: 'not set (when.env): GH_TEST_UNSET_VAR',
    });
    expect(run(shell, root, 'after', 'echo never', { needs: ['bad'] })).toMatchObject({
      exitCode: null,
      conditionUnmet: false,
      skipped: 'needed gate bad did not pass',
    });
  });
});

it('parseExportedResult refuses a file in another layout', () => {
  mkdirSync(join(work, 'x'), { recursive: true });
  writeFileSync(join(work, 'x', 'r.json'), '{"exitCode":0,"id":"a"}');
  const r = parseExportedResult(readFileSync(join(work, 'x', 'r.json'), 'utf8'));
  expect(r.ok).toBe(false);
});
