#!/usr/bin/env node
// Writes schema/gatehouse.schema.json and docs/config-reference.md from the built package
// (run `pnpm --filter @gatehouse-ci/core build` first; the gen:schema script does).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderConfigReference, renderSchemaFile } from '../dist/index.js';

const schemaPath = fileURLToPath(new URL('../schema/gatehouse.schema.json', import.meta.url));
const docPath = fileURLToPath(new URL('../../../docs/config-reference.md', import.meta.url));
writeFileSync(schemaPath, renderSchemaFile());
writeFileSync(docPath, renderConfigReference());
console.log(`wrote ${schemaPath}\nwrote ${docPath}`);
