/** What the in-process CLI tests share. */
import { PassThrough } from 'node:stream';
import { main, type Io } from '../src/index.js';

/** The exit code and everything written to stdout and stderr by one CLI call. */
export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Run `gatehouse <argv>` in this process, in `cwd`, with exactly `env`, capturing its output. */
export async function runCli(
  argv: string[],
  cwd: string,
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io: Io = { stdout, stderr, cwd, env };
  const code = await main(argv, io);
  return { code, out, err };
}
