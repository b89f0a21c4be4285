import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gate } from '@gatehouse-ci/test-utils';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { childRun, cleanup, pipe, project, staleBuild } from './helpers.js';

beforeAll(() => {
  const problem = staleBuild();
  if (problem !== null)
    throw new Error(
      `these tests run the built runner in a child process, but ${problem}: run \`pnpm build\` first`,
    );
});

let dir = '';
afterEach(() => cleanup(dir));

describe('what a gate can read of its ancestors', () => {
  it("a gate without secrets finds no other gate's secret in its parent's or any ancestor's environment", async () => {
    dir = await project();
    const value = `a-token-${randomBytes(12).toString('hex')}`;
    // b walks from itself up to PID 1 through PPid, copying each process's initial environment
    // (what /proc/<pid>/environ shows) to a file outside .gatehouse, and prints it base64-encoded,
    // which log redaction cannot recognise.
    const walk = [
      'p=$$',
      'while [ "$p" -gt 1 ]; do',
      '  echo "== $p"; tr "\\0" "\\n" < /proc/$p/environ; echo',
      "  p=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status)",
      'done > ancestors.txt',
      'base64 ancestors.txt',
    ].join('\n');
    const gates = [
      gate('a', {
        secrets: ['A_TOKEN'],
        run: `printf %s "$A_TOKEN" | od -An -tx1 | tr -d ' \\n' > a.hex`,
      }),
      gate('b', { run: walk }),
    ];
    writeFileSync(join(dir, 'pipeline.json'), JSON.stringify(pipe(dir, gates)));
    // The run gets the environment it was started with, secret included, as the CLI does.
    const child = childRun(join(dir, 'pipeline.json'), {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, A_TOKEN: value },
      inheritEnv: true,
    });
    const { code, out, err } = await child.done;
    expect(code, err).toBe(0);
    const result = JSON.parse(out) as {
      runId: string;
      gates: Array<{ id: string; status: string }>;
    };
    expect(result.gates.map((g) => [g.id, g.status])).toEqual([
      ['a', 'passed'],
      ['b', 'passed'],
    ]);
    // a was given its secret.
    expect(readFileSync(join(dir, 'a.hex'), 'utf8')).toBe(Buffer.from(value).toString('hex'));

    const ancestors = readFileSync(join(dir, 'ancestors.txt'), 'utf8');
    // b itself and at least its parent.
    expect(ancestors.match(/^== \d+$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(ancestors).not.toContain(value);
    const runDir = join(dir, '.gatehouse', 'runs', result.runId);
    const logged = Buffer.from(readFileSync(join(runDir, 'logs', 'b.log'), 'utf8'), 'base64');
    expect(logged.toString('utf8')).toBe(ancestors);
    expect(readFileSync(join(runDir, 'report.json'), 'utf8')).not.toContain(value);
  });
});
