/**
 * Side table from a resolved pipeline to "where is this config path written", so
 * `ResolvedPipeline` stays plain JSON data while diagnostics can still be located.
 */
import type { SourceLocation } from './errors.js';
import type { ResolvedPipeline } from './model.js';

/**
 * Finds where a config path (`gates.unit.needs[0]`) is written; falls back to its parent.
 * `at: 'key'` points at the mapping key instead of the value (for unknown names).
 */
export type Locate = (path: string, at?: 'key' | 'value') => SourceLocation | null;

const locators = new WeakMap<ResolvedPipeline, Locate>();

/** Remember where a pipeline's config paths are. */
export function setLocator(pipeline: ResolvedPipeline, locate: Locate): void {
  locators.set(pipeline, locate);
}

/**
 * The source location of a config path in the file a pipeline was loaded from, or null
 * (for pipelines not made by `loadPipeline`/`validateConfig`, e.g. built in tests, or
 * copied with spread/JSON).
 */
export function locateInConfig(
  pipeline: ResolvedPipeline,
  path: string,
  at: 'key' | 'value' = 'value',
): SourceLocation | null {
  return locators.get(pipeline)?.(path, at) ?? null;
}

/** Give a derived pipeline (a filtered copy) the locator of its source. */
export function inheritLocator<T extends ResolvedPipeline>(derived: T, from: ResolvedPipeline): T {
  const l = locators.get(from);
  if (l) locators.set(derived, l);
  return derived;
}
