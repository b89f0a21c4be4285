/**
 * @gatehouse/core — public API. Everything not exported here is internal.
 */
export * from './model.js';
export * from './errors.js';
export * from './plugin.js';
export { sha256, canonicalJson } from './hash.js';
export { stringifyYaml, quoteYamlString, yamlCommented, YamlCommented } from './yaml-emit.js';
export type { YamlValue, StringifyYamlOptions } from './yaml-emit.js';
