#!/usr/bin/env node
import { main } from '../dist/index.js';

// The reader went away (`gatehouse run | head`): what is left to print is dropped, and the
// command finishes its work (a run still writes its report) and exits with its own code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err && (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED')) return;
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main() formats every expected error itself; reaching here is a bug.
    process.stderr.write(
      `gatehouse: internal error: ${err && err.stack ? err.stack : String(err)}\n`,
    );
    process.exitCode = 70;
  },
);
