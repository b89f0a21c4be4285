#!/usr/bin/env node
import { main } from '../dist/index.js';

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
