/**
 * The log redaction the gate wrapper runs inside the build, run here by the host's awk
 * implementations (mawk as in Debian images, busybox as in Alpine-like ones, and any other
 * found) against the model every redactor must agree with. The real build is in
 * build.docker.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactionCase, redactionModel, secretsLeft } from '@gatehouse-ci/test-utils';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { gateWrapper } from '../src/wrapper.js';

const work = mkdtempSync(join(tmpdir(), 'gh-awk-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Each awk found on this machine, as a directory whose `awk` runs it. */
const AWKS = [
  ['mawk', ['mawk']],
  ['gawk', ['gawk']],
  ['original-awk', ['original-awk']],
  ['busybox awk', ['busybox', 'awk']],
]
  .filter(([, argv]) => spawnSync(argv![0]!, [...argv!.slice(1), 'BEGIN { exit 0 }']).status === 0)
  .map(([name, argv]) => {
    const dir = mkdtempSync(join(work, 'bin-'));
    writeFileSync(join(dir, 'awk'), `#!/bin/sh\nexec ${(argv as string[]).join(' ')} "$@"\n`);
    chmodSync(join(dir, 'awk'), 0o755);
    return { name: name as string, dir };
  });

/** The wrapper's redaction step for secrets named S0, S1, …, as emitted. */
function redactionStep(count: number): string {
  const names = Array.from({ length: count }, (_, i) => `S${i}`);
  const wrapper = gateWrapper({
    id: 'g',
    timeoutSeconds: 60,
    secrets: names,
    ca: false,
    commandFile: null,
    when: [],
    needs: [],
  });
  const step = wrapper.split('\n').filter((l) => l.includes(' awk '));
  expect(step).toHaveLength(1);
  return step[0]!;
}

/** Write `log` as a gate's log.txt, run the step with that awk, and return the log after it. */
function redactWith(awkDir: string, log: Buffer, secrets: readonly string[]): Buffer {
  const o = mkdtempSync(join(work, 'out-'));
  writeFileSync(join(o, 'log.txt'), log);
  const env: Record<string, string> = { PATH: `${awkDir}:${process.env.PATH}`, o };
  secrets.forEach((s, i) => (env[`S${i}`] = s));
  // GNU timeout kills the whole process group, awk included, should the step not end.
  const r = spawnSync(
    'timeout',
    ['-s', 'KILL', '5', '/bin/sh', '-c', redactionStep(secrets.length)],
    {
      env,
    },
  );
  expect(r.signal, 'the redaction step did not end within 5 s').toBeNull();
  expect(r.status, r.stderr.toString()).toBe(0);
  const out = readFileSync(join(o, 'log.txt'));
  rmSync(o, { recursive: true, force: true });
  return out;
}

describe('the log redaction step of the gate wrapper', () => {
  it('finds an awk to run it with', () => {
    expect(AWKS.length).toBeGreaterThan(0);
  });

  const pem =
    '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
  const cases: Array<[string, string, string[], string]> = [
    ['a value made of `*`', 'a * b ** c\n', ['*'], 'a *** b ****** c\n'],
    ['the marker itself', 'x***y\n', ['***'], 'x***y\n'],
    ['a multi-line value', `key:\n${pem}\nnext\n`, [pem], 'key:\n***\nnext\n'],
    [
      'a shorter value declared before a longer one that contains it',
      'tok=abc-123-long\n',
      ['abc-123', 'abc-123-long'],
      'tok=***\n',
    ],
    ['overlapping values', 'abcd xbcd\n', ['ab', 'abc', 'bcd'], '***d x***\n'],
    ['no final newline', 'one\ntok=abc', ['abc'], 'one\ntok=***'],
    ['CRLF and an empty line', 'a\r\n\r\nabc\r\n', ['abc'], 'a\r\n\r\n***\r\n'],
    ['an empty log', '', ['abc'], ''],
    ['an empty value', 'abc\n', ['', 'b'], 'a***c\n'],
  ];
  for (const awk of AWKS) {
    for (const [name, log, secrets, expected] of cases) {
      it(`${awk.name}: ${name}`, () => {
        expect(redactWith(awk.dir, Buffer.from(log), secrets).toString()).toBe(expected);
      });
    }

    it(`${awk.name}: agrees with the model for random secrets and logs (property)`, () => {
      fc.assert(
        fc.property(redactionCase, ({ secrets, output }) => {
          const input = Buffer.from(output);
          const out = redactWith(awk.dir, input, secrets);
          const expected = redactionModel(input, secrets);
          expect(out.toString('latin1')).toBe(expected.out.toString('latin1'));
          expect(secretsLeft(out, expected.markers, secrets)).toEqual([]);
        }),
        { numRuns: 150 },
      );
    });
  }
});
