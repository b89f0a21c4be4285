// Reading the config file: a size cap and regular files only, so a huge file, a FIFO or a
// device can neither exhaust memory nor hang a command.
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatehouseError, MAX_CONFIG_BYTES, validateBytes, validateConfig } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-read-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error `validateConfig(path)` rejects with, or a failure after `ms` (so a hang cannot stall the suite). */
async function refusal(path: string, ms = 5000): Promise<{ code: string; message: string }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`validateConfig(${path}) still running after ${ms}ms`)),
      ms,
    );
  });
  try {
    await Promise.race([validateConfig(path, { displayPath: path }), hang]);
  } catch (err) {
    if (isGatehouseError(err)) return { code: err.code, message: err.message };
    throw err;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`validateConfig(${path}) accepted the file`);
}

const VALID = 'version: 1\nname: shop\ngates:\n  lint: { run: npm run lint }\n';

describe('reading the config', () => {
  it('caps the size at 1 MiB and says so, naming the file, without parsing it', async () => {
    expect(MAX_CONFIG_BYTES).toBe(1024 * 1024);
    const big = join(dir, 'big.yml');
    // Valid YAML all the way: only the size is wrong.
    await writeFile(
      big,
      VALID + `# ${'x'.repeat(78)}\n`.repeat(Math.ceil((2 * MAX_CONFIG_BYTES) / 80)),
    );
    const started = Date.now();
    const r = await refusal(big);
    expect(r.code).toBe('GH_CONFIG_TOO_LARGE');
    expect(r.message).toContain(big);
    expect(r.message).toMatch(/1 MiB/);
    expect(Date.now() - started).toBeLessThan(2000);
    // Exactly at the cap is fine.
    const edge = join(dir, 'edge.yml');
    await writeFile(edge, VALID + '#'.repeat(MAX_CONFIG_BYTES - VALID.length - 1) + '\n');
    expect((await validateConfig(edge)).pipeline).not.toBeNull();
  });

  it('refuses too many bytes handed to validateBytes too, as a file-level diagnostic', () => {
    const v = validateBytes(Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x23), '/p/gatehouse.yml', {
      displayPath: 'gatehouse.yml',
    });
    expect(v.pipeline).toBeNull();
    expect(v.diagnostics.map((d) => [d.code, d.loc?.file, d.loc?.line])).toEqual([
      ['GH_CONFIG_TOO_LARGE', 'gatehouse.yml', 1],
    ]);
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = join(dir, 'fifo.yml');
    execFileSync('mkfifo', [fifo]);
    try {
      const r = await refusal(fifo);
      expect(r.code).toBe('GH_CONFIG_NOT_FILE');
      expect(r.message).toContain(fifo);
      expect(r.message).toMatch(/FIFO/);
    } finally {
      // Unblock a reader left waiting (the old behaviour) so the worker can exit.
      const w = await open(fifo, 'r+').catch(() => null);
      await w?.close();
    }
  });

  it('refuses a device such as /dev/zero', async () => {
    const r = await refusal('/dev/zero');
    expect(r.code).toBe('GH_CONFIG_NOT_FILE');
    expect(r.message).toContain('/dev/zero');
    expect(r.message).toMatch(/device/);
  });

  it('refuses a directory, and still reads a symlink to a regular file', async () => {
    expect((await refusal(dir)).code).toBe('GH_CONFIG_NOT_FILE');
    const real = join(dir, 'real.yml');
    await writeFile(real, VALID);
    execFileSync('ln', ['-s', real, join(dir, 'link.yml')]);
    expect((await validateConfig(join(dir, 'link.yml'))).pipeline?.name).toBe('shop');
  });
});
