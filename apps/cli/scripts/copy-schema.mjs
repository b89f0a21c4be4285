// Copies the config JSON Schema into the CLI package, so that a project which installs
// only `gatehouse-ci` finds it at node_modules/gatehouse-ci/schema/ (the path `init` writes).
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const core = dirname(require.resolve('@gatehouse-ci/core/package.json'));
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema');
mkdirSync(out, { recursive: true });
copyFileSync(join(core, 'schema', 'gatehouse.schema.json'), join(out, 'gatehouse.schema.json'));
