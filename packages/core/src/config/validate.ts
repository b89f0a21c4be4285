/**
 * Config validation: bytes -> YAML document -> every problem at once, each located.
 *
 * Three passes, all collecting (never stopping at the first problem):
 * 1. the source (`source.ts`): size, UTF-8, NUL, BOM, empty file, YAML syntax, duplicate keys;
 * 2. the structure (`structure.ts`): a walk of the YAML node tree driven by `configSchema`,
 *    with the string formats as a table (`formats.ts`);
 * 3. the semantics (`rules.ts`): named rules for what a schema cannot say (gate references,
 *    cycles, kinds, policies, credentials in env).
 * A config with `extends:` has its presets read and merged between 2 and 3 (`extends.ts`);
 * pass 3 then checks the merged config, locating each problem in the file that wrote it.
 * `collector.ts` holds what they share: the `yaml` loader and the located-diagnostic collector.
 */
import { basename, dirname, resolve as resolvePath } from 'node:path';
import type { Node as YamlNode } from 'yaml';
import type { GateKindPreset } from '../plugin.js';
import { isPlainObject } from '../object.js';
import type { Workspace, WorkspaceRoot } from '../workspace.js';
import { yamlLoaded, type Collector } from './collector.js';
import { checkMerged, extendingSchema, resolveExtends, usesExtends } from './extends.js';
import { expandPackageGates, hasPackageGates } from './packages.js';
import { checkRootInputs, resolveRootInputs } from './root-inputs.js';
import { checkSemantics } from './rules.js';
import { configSchema } from './schema.js';
import {
  MAX_CONFIG_BYTES,
  parseSource,
  recordRanges,
  type ParsedSource,
  type SourceValidation,
} from './source.js';
import { walk } from './structure.js';

export type { Locate } from '../locator.js';
export { MAX_CONFIG_BYTES, parseSource, yamlLoaded };
export type { ParsedSource, SourceValidation };

/**
 * Validate config bytes. `file` is used in locations only. `presets` are the gate kinds
 * known (built in plus plugins).
 */
export function validateSource(
  bytes: Uint8Array,
  file: string,
  presets: Record<string, GateKindPreset>,
): SourceValidation {
  return checkSource(parseSource(bytes, file), presets);
}

/**
 * The second half of {@link validateSource}: schema walk and semantic checks. Gates of
 * `packages:` expand over `workspace`, else over the workspace discovered in `rootDir`.
 */
export function checkSource(
  parsed: ParsedSource,
  presets: Record<string, GateKindPreset>,
  rootDir?: string,
  configPath?: string,
  workspace?: Workspace,
): SourceValidation {
  if (parsed.done) return parsed.done;
  const { c, text } = parsed.state;
  const doc = parsed.state.doc!;
  const value = parsed.value;
  recordRanges(doc, doc.contents as YamlNode | null, [], null, c);
  for (const report of parsed.state.scalarProblems) report();
  const extending = usesExtends(value);
  walk(
    doc,
    doc.contents as YamlNode | null,
    extending ? extendingSchema : configSchema,
    [],
    null,
    c,
  );
  if (extending) {
    const abs = configPath ?? resolvePath(rootDir ?? '.', basename(c.file));
    return checkExtending(value as Record<string, unknown>, c, text, abs, presets, workspace);
  }
  checkSemantics(value, c, presets);
  const root =
    rootDir !== undefined && isPlainObject(value) ? checkRootInputs(value, rootDir, c) : null;
  // Pass 4: gates of `packages:`, once the config itself holds together.
  if (
    rootDir !== undefined &&
    hasPackageGates(value) &&
    !c.diagnostics.some((d) => d.severity === 'error')
  ) {
    const x = expandPackageGates(value as Record<string, unknown>, rootDir, c, workspace);
    return {
      diagnostics: c.finish(),
      ...rooted(x.value, rootDir, root),
      text,
      locate: c.locate,
      packages: x.packages,
      ...(x.release ? { release: x.release } : {}),
    };
  }
  return {
    diagnostics: c.finish(),
    ...(rootDir !== undefined && isPlainObject(value) ? rooted(value, rootDir, root) : { value }),
    text,
    locate: c.locate,
  };
}

/** The config with its `//` inputs written canonically, and the workspace root they keep naming. */
function rooted(
  value: Record<string, unknown>,
  configDir: string,
  root: WorkspaceRoot | null,
): { value: Record<string, unknown>; workspaceRoot?: string } {
  return root ? resolveRootInputs(value, configDir, root) : { value };
}

/** Passes 2b to 4 of a config with `extends`: merge, then check the merged config. */
function checkExtending(
  value: Record<string, unknown>,
  c: Collector,
  text: string,
  configPath: string,
  presets: Record<string, GateKindPreset>,
  workspace: Workspace | undefined,
): SourceValidation {
  const x = resolveExtends({ c, text, value, configPath });
  const own = { presets: x.presets };
  const clean = (): boolean =>
    !x.c.diagnostics.some((d) => d.severity === 'error') &&
    !c.diagnostics.some((d) => d.severity === 'error');
  if (!x.value || !clean())
    return { diagnostics: x.finish(), value, text, locate: x.c.locate, ...own };
  checkMerged(x.value, x.c);
  if (clean()) checkSemantics(x.value, x.c, presets);
  const root = clean() ? checkRootInputs(x.value, dirname(configPath), x.c) : null;
  let out: Record<string, unknown> = x.value;
  let packages: SourceValidation['packages'];
  let release: SourceValidation['release'];
  if (hasPackageGates(out) && clean()) {
    const e = expandPackageGates(out, dirname(configPath), x.c, workspace);
    out = e.value;
    packages = e.packages;
    release = e.release;
  }
  return {
    diagnostics: x.finish(),
    ...rooted(out, dirname(configPath), root),
    text,
    locate: x.c.locate,
    ...own,
    merged: x.value,
    ...(x.base ? { presetBase: x.base } : {}),
    ...(packages ? { packages } : {}),
    ...(release ? { release } : {}),
  };
}
