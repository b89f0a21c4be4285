/**
 * Pass 2b of config validation, for a config with `extends:`: read each preset (a file, or
 * an npm package's preset file), check it like a config, and merge the chain into one config
 * before the semantic pass. The merge rules are in docs/decisions/0012-presets.md.
 *
 * Diagnostics point into the file that wrote the value: each file keeps its own Collector,
 * and the merged config is checked through a {@link MergedCollector} whose offsets address
 * all files at once (each file at its own base offset), so the semantic rules and the
 * package expansion locate problems without knowing about presets.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Node as YamlNode } from 'yaml';
import { codeFrame, formatPath, type DiagnosticCode } from '../diagnostics.js';
import type { Diagnostic, SourceLocation } from '../errors.js';
import { sha256 } from '../hash.js';
import type { ResolvedPreset } from '../model.js';
import { isPlainObject } from '../object.js';
import { Collector, type PathSeg, type Range } from './collector.js';
import { extendingSchema } from './schema.js';

export { extendingSchema };
import { MAX_CONFIG_BYTES, parseSource, recordRanges } from './source.js';
import { walk } from './structure.js';

/** How deep presets may extend presets. */
export const MAX_PRESET_DEPTH = 16;

/** Keys of a package.json naming its preset file; else `gatehouse.yml` at the package root. */
export const PRESET_PACKAGE_FIELD = 'gatehousePreset';

const NPM_NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** Whether a parsed config extends presets (and is walked with {@link extendingSchema}). */
export function usesExtends(value: unknown): boolean {
  return isPlainObject(value) && 'extends' in value;
}

/** One file of the chain: the config itself or a preset. */
interface Layer {
  c: Collector;
  text: string;
  value: Record<string, unknown>;
  /** Offset of this file's text in the merged collector's address space. */
  base: number;
  /** `via gatehouse.yml:3:5 extends[0], …` for a preset; null for the config itself. */
  via: string | null;
  /** Real path of the file. */
  file: string;
}

/** Where a merged value was written: a file and the path there. */
interface Origin {
  layer: Layer;
  segs: PathSeg[];
}

/** Origins of a merged value, as a tree parallel to it; a node without one inherits. */
interface OriginNode {
  origin: Origin | null;
  kids: Map<PathSeg, OriginNode>;
}

interface Merged {
  value: Record<string, unknown>;
  tree: OriginNode;
}

const node = (origin: Origin | null): OriginNode => ({ origin, kids: new Map() });

/** The origin of `segs`: the nearest recorded one above it, with the rest of the path. */
function effective(tree: OriginNode, segs: readonly PathSeg[]): Origin | null {
  let best: Origin | null = tree.origin;
  let rest = 0;
  let n: OriginNode | undefined = tree;
  for (let i = 0; i < segs.length && n; i++) {
    n = n.kids.get(segs[i]!);
    if (n?.origin) [best, rest] = [n.origin, i + 1];
  }
  return best ? { layer: best.layer, segs: [...best.segs, ...segs.slice(rest)] } : null;
}

function cloneNode(n: OriginNode): OriginNode {
  const out = node(n.origin);
  for (const [k, v] of n.kids) out.kids.set(k, cloneNode(v));
  return out;
}

/** The origins of `segs` and below, detached from `tree`. */
function subtree(tree: OriginNode, segs: readonly PathSeg[]): OriginNode {
  let n: OriginNode | undefined = tree;
  for (const s of segs) n = n?.kids.get(s);
  const out = n ? cloneNode(n) : node(null);
  out.origin = effective(tree, segs);
  return out;
}

function nodeAt(tree: OriginNode, segs: readonly PathSeg[]): OriginNode {
  let n = tree;
  for (const s of segs) {
    let k = n.kids.get(s);
    if (!k) n.kids.set(s, (k = node(null)));
    n = k;
  }
  return n;
}

function graft(tree: OriginNode, segs: readonly PathSeg[], n: OriginNode): void {
  nodeAt(tree, segs.slice(0, -1)).kids.set(segs[segs.length - 1]!, n);
}

function getAt(v: unknown, segs: readonly PathSeg[]): unknown {
  let cur = v;
  for (const s of segs) cur = (cur as Record<PathSeg, unknown> | undefined)?.[s];
  return cur;
}

function setAt(v: Record<string, unknown>, segs: readonly PathSeg[], x: unknown): void {
  const parent = getAt(v, segs.slice(0, -1)) as Record<PathSeg, unknown>;
  parent[segs[segs.length - 1]!] = x;
}

/** Plain keys first, then `<key>+`: `inputs: [a]` with `inputs+: [b]` gives `[a, b]`. */
function orderedKeys(o: Record<string, unknown>): string[] {
  const keys = Object.keys(o);
  return [...keys.filter((k) => !k.endsWith('+')), ...keys.filter((k) => k.endsWith('+'))];
}

/** Reports a problem in the file where `segs` of a merged value was written. */
type Report = (code: DiagnosticCode, at: Origin | null, message: string, hint?: string) => void;

/** Apply `over` (a file, or a resolved preset chain) on `base`. */
function apply(base: Merged, over: Merged, report: Report): void {
  const o = over.value;
  for (const k of orderedKeys(o)) {
    if (k === 'extends') continue;
    if (k.endsWith('+')) appendList(base, over, [], k);
    else if ((k === 'gates' || k === 'setup' || k === 'release') && isPlainObject(o[k])) {
      ensureMapping(base, over, [k]);
      if (k === 'gates') mergeGates(base, over, report);
      else mergeMapping(base, over, [k]);
    } else if (k === 'targets' && isPlainObject(o[k]) && isPlainObject(base.value[k])) {
      for (const name of Object.keys(o[k])) take(base, over, [k, name]);
    } else take(base, over, [k]);
  }
}

function ensureMapping(base: Merged, over: Merged, segs: PathSeg[]): void {
  if (isPlainObject(getAt(base.value, segs))) return;
  setAt(base.value, segs, {});
  graft(base.tree, segs, node(effective(over.tree, segs)));
}

function mergeGates(base: Merged, over: Merged, report: Report): void {
  const gates = base.value.gates as Record<string, unknown>;
  for (const [id, g] of Object.entries(over.value.gates as Record<string, unknown>)) {
    const segs = ['gates', id];
    if (g === null) {
      if (id in gates) {
        delete gates[id];
        nodeAt(base.tree, ['gates']).kids.delete(id);
      } else {
        report(
          'GH_PRESET_UNKNOWN_GATE',
          effective(over.tree, segs),
          `\`${id}: null\` removes an inherited gate, but no preset of this config has a gate \`${id}\``,
          'remove the line, or check the gate id in the preset',
        );
      }
    } else if (isPlainObject(g)) {
      ensureMapping(base, over, segs);
      mergeMapping(base, over, segs);
      // Problems of the gate as a whole point at the last file that wrote to it.
      nodeAt(base.tree, segs).origin = effective(over.tree, segs);
    } else take(base, over, segs);
  }
}

/** Key by key: each key written replaces the inherited one whole; `<key>+` appends. */
function mergeMapping(base: Merged, over: Merged, segs: PathSeg[]): void {
  const o = getAt(over.value, segs) as Record<string, unknown>;
  for (const k of orderedKeys(o)) {
    if (k.endsWith('+')) appendList(base, over, segs, k);
    else take(base, over, [...segs, k]);
  }
}

function take(base: Merged, over: Merged, segs: PathSeg[]): void {
  setAt(base.value, segs, structuredClone(getAt(over.value, segs)));
  graft(base.tree, segs, subtree(over.tree, segs));
}

function appendList(base: Merged, over: Merged, segs: PathSeg[], plusKey: string): void {
  const add = getAt(over.value, [...segs, plusKey]);
  if (!Array.isArray(add)) return; // the structural pass reported it
  const listSegs = [...segs, plusKey.slice(0, -1)];
  const cur = getAt(base.value, listSegs);
  const n = nodeAt(base.tree, listSegs);
  let list: unknown[] = [];
  if (Array.isArray(cur)) {
    list = cur;
    // Inherited items keep their origin once the list itself points at the appending file.
    cur.forEach((_, i) => {
      if (!n.kids.has(i)) n.kids.set(i, node(effective(base.tree, [...listSegs, i])));
    });
  } else n.kids.clear();
  n.origin = effective(over.tree, [...segs, plusKey]);
  add.forEach((_, i) => n.kids.set(list.length + i, subtree(over.tree, [...segs, plusKey, i])));
  setAt(base.value, listSegs, [...list, ...structuredClone(add)]);
}

/**
 * Collects the problems of a merged config: a range is an offset into the address space of
 * all files (each at its layer's `base`), located and framed in the file it falls in.
 */
export class MergedCollector extends Collector {
  constructor(
    private readonly layers: Layer[],
    file: string,
  ) {
    super(file, '');
  }

  private layerAt(offset: number): Layer {
    let found = this.layers[0]!;
    for (const l of this.layers) if (l.base <= offset) found = l;
    return found;
  }

  private local(range: Range): { layer: Layer; range: Range } {
    const layer = this.layerAt(range.start);
    return { layer, range: { start: range.start - layer.base, end: range.end - layer.base } };
  }

  override loc(range: Range | null): SourceLocation | null {
    if (!range) return null;
    const l = this.local(range);
    return l.layer.c.loc(l.range);
  }

  override report(
    code: DiagnosticCode,
    path: readonly PathSeg[] | string,
    range: Range | null,
    message: string,
    extra: { hint?: string | undefined; mask?: boolean } = {},
  ): void {
    const via = range ? this.local(range).layer.via : null;
    super.report(code, path, range, via ? `${message} (${via})` : message, extra);
  }

  override finish(): Diagnostic[] {
    for (const { d, range } of this.pending) {
      if (!d.loc) continue;
      const { layer } = this.local(range);
      const masks = [
        ...layer.c.masks,
        ...this.masks
          .filter((m) => this.layerAt(m.start) === layer)
          .map((m) => ({ start: m.start - layer.base, end: m.end - layer.base })),
      ];
      d.frame = codeFrame(layer.text, d.loc, { masks });
    }
    this.pending.length = 0;
    return this.diagnostics;
  }
}

/** What {@link resolveExtends} returns. */
export interface ExtendsResolution {
  /** The merged config (`extends` removed), or null when a preset could not be used. */
  value: Record<string, unknown> | null;
  /** The presets alone, merged in order, without the config's own keys (for drift). */
  base: Record<string, unknown> | null;
  /** Collects the problems of the merged config, located in the file that wrote each value. */
  c: MergedCollector;
  /** Every preset read, in the order read (each once). */
  presets: ResolvedPreset[];
  /** Every diagnostic of every file, once the passes on the merged config are done. */
  finish(): Diagnostic[];
}

/** Inputs of {@link resolveExtends}: the config, already walked with {@link extendingSchema}. */
export interface ExtendsInput {
  c: Collector;
  text: string;
  value: Record<string, unknown>;
  /** Absolute path of the config (cycles through it are found too). */
  configPath: string;
}

type Target =
  | { file: string; name: string; version?: string; manifest?: string; pkgDir?: string }
  | { error: string; hint: string };

/** Where an `extends` entry points, from the directory of the file that names it. */
function resolveRef(ref: string, fromDir: string, rootDir: string): Target {
  if (ref.startsWith('./') || ref.startsWith('../') || isAbsolute(ref)) {
    const file = resolve(fromDir, ref);
    return { file, name: relative(rootDir, file).split(sep).join('/') };
  }
  if (!NPM_NAME.test(ref)) {
    return {
      error: `\`${ref}\` is neither a relative path nor an npm package name`,
      hint: 'write a file as `./presets/web.yml` (relative to this file), or a package as `@acme/gatehouse-preset-web`',
    };
  }
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', ref);
    const manifest = join(pkgDir, 'package.json');
    let text: string | null = null;
    try {
      text = readFileSync(manifest, 'utf8');
    } catch {
      // not installed at this level
    }
    if (text !== null) {
      let pkg: unknown;
      try {
        pkg = JSON.parse(text);
      } catch {
        return { error: `${manifest} is not valid JSON`, hint: 'reinstall the package' };
      }
      const p = isPlainObject(pkg) ? pkg : {};
      const field = p[PRESET_PACKAGE_FIELD];
      const rel = typeof field === 'string' && field !== '' ? field : 'gatehouse.yml';
      const file = resolve(pkgDir, rel);
      const inside = relative(pkgDir, file);
      if (isAbsolute(rel) || inside.startsWith('..') || isAbsolute(inside)) {
        return {
          error: `package \`${ref}\` names a preset file outside the package (\`${PRESET_PACKAGE_FIELD}: ${rel}\`)`,
          hint: `\`${PRESET_PACKAGE_FIELD}\` is a path inside the package, e.g. \`gatehouse.yml\``,
        };
      }
      return {
        file,
        name: ref,
        ...(typeof p.version === 'string' ? { version: p.version } : {}),
        manifest,
        pkgDir,
      };
    }
    if (dirname(dir) === dir) break;
  }
  return {
    error: `npm package \`${ref}\` is not installed (no node_modules/${ref} above ${fromDir})`,
    hint: `install it (e.g. \`npm install --save-dev ${ref}\`), or check the name`,
  };
}

function readPreset(file: string): Buffer | string {
  try {
    const st = statSync(file);
    if (!st.isFile()) return 'it is not a regular file';
    if (st.size > MAX_CONFIG_BYTES) return `it is ${st.size} bytes; a preset may be at most 1 MiB`;
    return readFileSync(file);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

function realOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/**
 * Read the presets of a config and merge them with it. Problems in a preset are reported in
 * that preset's file, with the chain of `extends` entries that led there.
 */
export function resolveExtends(input: ExtendsInput): ExtendsResolution {
  const rootDir = dirname(input.configPath);
  // Presets are named as the config is (relative to the same directory, or absolute).
  const realRoot = realOr(rootDir);
  const shownPath = (abs: string): string => join(dirname(input.c.file), relative(realRoot, abs));
  const root: Layer = {
    c: input.c,
    text: input.text,
    value: input.value,
    base: 0,
    via: null,
    file: realOr(input.configPath),
  };
  const layers: Layer[] = [root];
  const presets: ResolvedPreset[] = [];
  let next = input.text.length + 1;
  let failed = false;
  let base: Record<string, unknown> | null = null;
  const mc = new MergedCollector(layers, input.c.file);

  const report: Report = (code, at, message, hint) => {
    if (!at) return;
    const r = at.layer.c.ranges.get(formatPath(at.segs));
    const range = r?.key ?? r?.value ?? null;
    at.layer.c.report(code, at.segs, range, message, { hint });
    failed = true;
  };

  const resolveLayer = (layer: Layer, stack: Layer[]): Merged | null => {
    const merged: Merged = { value: {}, tree: node(null) };
    let ok = true;
    const refs = Array.isArray(layer.value.extends) ? layer.value.extends : [];
    refs.forEach((ref: unknown, i) => {
      if (typeof ref !== 'string' || ref === '') return; // the structural pass reported it
      const segs = ['extends', i];
      const r = layer.c.ranges.get(formatPath(segs));
      const range = r?.value ?? r?.key ?? null;
      const fail = (code: DiagnosticCode, message: string, hint?: string): void => {
        layer.c.report(code, segs, range, message, { hint });
        ok = false;
      };
      const target = resolveRef(ref, dirname(layer.file), rootDir);
      if ('error' in target) return fail('GH_PRESET_NOT_FOUND', target.error, target.hint);
      const bytes = readPreset(target.file);
      if (typeof bytes === 'string')
        return fail(
          'GH_PRESET_NOT_FOUND',
          `cannot read preset ${shownPath(target.file)}: ${bytes}`,
          'check the path; a file preset is relative to the file that names it',
        );
      const file = realOr(target.file);
      if (target.pkgDir !== undefined) {
        // A link inside the package may not lead out of it either.
        const inside = relative(realOr(target.pkgDir), file);
        if (inside.startsWith('..') || isAbsolute(inside))
          return fail(
            'GH_PRESET_NOT_FOUND',
            `package \`${ref}\` names a preset file that links outside the package`,
            `\`${PRESET_PACKAGE_FIELD}\` is a path inside the package, e.g. \`gatehouse.yml\``,
          );
      }
      const chain = [...stack, layer];
      const loop = chain.findIndex((l) => l.file === file);
      if (loop >= 0) {
        const names = [...chain.slice(loop).map((l) => shownPath(l.file)), shownPath(file)];
        return fail(
          'GH_PRESET_CYCLE',
          `presets extend each other in a loop: ${names.join(' -> ')}`,
          'remove one of the `extends` entries of the loop',
        );
      }
      if (chain.length > MAX_PRESET_DEPTH)
        return fail(
          'GH_PRESET_TOO_DEEP',
          `presets extend presets more than ${MAX_PRESET_DEPTH} levels deep`,
        );
      const here = layer.c.loc(range);
      const step = `${here ? `${here.file}:${here.line}:${here.column}` : layer.c.file} extends[${i}]`;
      const via = `via ${step}${layer.via ? `, ${layer.via.slice(4)}` : ''}`;
      const parsed = parseSource(bytes, shownPath(file));
      const sha = sha256(bytes);
      if (!presets.some((p) => p.file === file && p.sha256 === sha)) {
        presets.push({
          name: target.name,
          ...(target.version !== undefined ? { version: target.version } : {}),
          sha256: sha,
          file,
          ...(target.manifest
            ? { manifest: { file: target.manifest, sha256: sha256(readFileSync(target.manifest)) } }
            : {}),
        });
      }
      const pc = parsed.state.c;
      const child: Layer = {
        c: pc,
        text: parsed.state.text,
        value: isPlainObject(parsed.value) ? parsed.value : {},
        base: next,
        via,
        file,
      };
      next += child.text.length + 1;
      layers.push(child);
      if (parsed.done) {
        // Unreadable: its diagnostics are final (and may be the collector's own list).
        const final = [...parsed.done.diagnostics];
        pc.diagnostics.length = 0;
        pc.diagnostics.push(...final);
        ok = false;
        return;
      }
      const doc = parsed.state.doc!;
      recordRanges(doc, doc.contents as YamlNode | null, [], null, pc);
      for (const p of parsed.state.scalarProblems) p();
      walk(doc, doc.contents as YamlNode | null, extendingSchema, [], null, pc);
      checkPresetKeys(child, root, report);
      if (pc.diagnostics.some((d) => d.severity === 'error')) ok = false;
      const sub = resolveLayer(child, chain);
      if (!sub || !ok) {
        ok = false;
        return;
      }
      apply(merged, sub, report);
    });
    if (!ok) return null;
    if (layer === root) base = structuredClone(merged.value);
    apply(merged, { value: layer.value, tree: node({ layer, segs: [] }) }, report);
    return merged;
  };

  const merged = resolveLayer(root, []);
  let value: Record<string, unknown> | null = null;
  if (merged && !failed) {
    delete merged.value.extends;
    value = merged.value;
    const ranges = mc.ranges;
    const fill = (v: unknown, segs: PathSeg[], n: OriginNode | undefined, o: Origin | null) => {
      const origin = n?.origin ?? o;
      if (origin) {
        const r = origin.layer.c.ranges.get(formatPath(origin.segs));
        const shift = (x: Range | null): Range | null =>
          x && { start: x.start + origin.layer.base, end: x.end + origin.layer.base };
        if (r) ranges.set(formatPath(segs), { key: shift(r.key), value: shift(r.value) });
      }
      const child = (k: PathSeg): Origin | null =>
        origin && { layer: origin.layer, segs: [...origin.segs, k] };
      if (Array.isArray(v)) v.forEach((x, i) => fill(x, [...segs, i], n?.kids.get(i), child(i)));
      else if (isPlainObject(v))
        for (const [k, x] of Object.entries(v)) fill(x, [...segs, k], n?.kids.get(k), child(k));
    };
    fill(value, [], merged.tree, null);
    const ext = input.c.ranges.get('extends');
    if (ext) ranges.set('extends', ext);
  }
  return {
    value,
    base: value ? base : null,
    c: mc,
    presets,
    finish() {
      const out: Diagnostic[] = [];
      for (const l of layers) {
        const ds = l.c.finish();
        out.push(...(l.via ? ds.map((d) => ({ ...d, message: `${d.message} (${l.via})` })) : ds));
      }
      out.push(...mc.finish());
      return out;
    },
  };
}

/** What a preset may not say: another `version` than the config, or `plugins`. */
function checkPresetKeys(preset: Layer, root: Layer, report: Report): void {
  const v = preset.value.version;
  if (typeof v === 'number' && typeof root.value.version === 'number' && v !== root.value.version) {
    report(
      'GH_PRESET_VERSION',
      { layer: preset, segs: ['version'] },
      `the preset is \`version: ${v}\`, the config that extends it \`version: ${String(root.value.version)}\``,
      'use a release of the preset written for this config version',
    );
  }
  for (const k of ['plugins', 'plugins+']) {
    if (k in preset.value)
      report(
        'GH_PRESET_PLUGINS',
        { layer: preset, segs: [k] },
        'a preset cannot load plugins: they are loaded before presets are read',
        'list the plugins in the config that extends the preset',
      );
  }
}

/**
 * Checks a merged config for what the structural pass could not require of each file alone:
 * `name` and `gates` (and the required keys of `setup` and `release`) somewhere in the chain.
 */
export function checkMerged(value: Record<string, unknown>, c: Collector): void {
  const at = (path: string): Range | null => {
    const r = c.ranges.get(path);
    return r?.key ?? r?.value ?? null;
  };
  const root = at('extends') ?? { start: 0, end: 0 };
  for (const k of ['name', 'gates']) {
    if (!(k in value))
      c.report(
        'GH_MISSING_FIELD',
        [k],
        root,
        `missing required field \`${k}\`: neither the config nor its presets set it`,
      );
  }
  if (isPlainObject(value.gates) && Object.keys(value.gates).length === 0)
    c.report(
      'GH_EMPTY_VALUE',
      ['gates'],
      at('gates') ?? root,
      'no gate is left once the removed ones are taken out',
    );
  const required: Array<[string, string[]]> = [
    ['setup', ['run']],
    ['release', ['from', 'copy', 'cmd']],
  ];
  for (const [k, keys] of required) {
    const m = value[k];
    if (!isPlainObject(m)) continue;
    for (const r of keys)
      if (!(r in m))
        c.report(
          'GH_MISSING_FIELD',
          [k, r],
          at(k) ?? root,
          `missing required field \`${r}\`: neither the config nor its presets set \`${k}.${r}\``,
        );
  }
}
