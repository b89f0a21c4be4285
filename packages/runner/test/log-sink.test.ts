import { mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogSink } from '../src/log-sink.js';
import { REDACTED } from '../src/redact.js';

let dir = '';
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Feed the writes in order, close, and return what the sink handed on and what it wrote. */
async function sinkOf(
  writes: Array<['stdout' | 'stderr', string]>,
  secrets: string[],
): Promise<{ file: string; passed: string; bytes: number }> {
  dir = mkdtempSync(join(tmpdir(), 'gh-sink-'));
  const path = join(dir, 'gate.log');
  const sink = new LogSink(path, 1 << 20, secrets);
  const passed: Buffer[] = [];
  for (const [stream, text] of writes) passed.push(sink.write(stream, Buffer.from(text)).redacted);
  passed.push(sink.end().redacted);
  const summary = await sink.close();
  return {
    file: readFileSync(path, 'utf8'),
    passed: Buffer.concat(passed).toString(),
    bytes: summary.bytes,
  };
}

describe('LogSink', () => {
  it('redacts a secret split between stdout and stderr, as the merged log holds it', async () => {
    const secret = 'canary-1234567';
    const { file, passed, bytes } = await sinkOf(
      [
        ['stdout', 'token=canary-'],
        ['stderr', '1234'],
        ['stdout', '567 done\n'],
      ],
      [secret, 'zzz-unrelated-99'],
    );
    expect(file).toBe(`token=${REDACTED} done\n`);
    expect(passed).toBe(file);
    expect(bytes).toBe(Buffer.byteLength(file));
  });
});
