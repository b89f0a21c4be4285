import { readFileSync } from 'node:fs';

/** The CLI's version (from its package.json), for generated-file headers and reports. */
export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
