// The catalogue in diagnostics.ts claims to list every code Gatehouse reports: this test reads
// the sources of every package, plugin and app and fails on a code the catalogue lacks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DIAGNOSTIC_CODES } from '../src/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** `GH_` names in the sources that are not diagnostic codes, and what they are. */
const NOT_CODES: Record<string, string> = {
  GH_SECRET_NAMES: "the variable the Dockerfile gate wrapper hands the secrets' names to awk in",
};
// A code as a string literal: 'GH_X', "GH_X" or `GH_X`.
const LITERAL = /['"`](GH_[A-Z0-9_]+)['"`]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function raisedCodes(): Map<string, string> {
  const found = new Map<string, string>();
  for (const group of ['packages', 'plugins', 'apps']) {
    for (const pkg of readdirSync(join(ROOT, group))) {
      let files: string[];
      try {
        files = sources(join(ROOT, group, pkg, 'src'));
      } catch {
        continue;
      }
      for (const file of files)
        for (const m of readFileSync(file, 'utf8').matchAll(LITERAL))
          if (!found.has(m[1]!)) found.set(m[1]!, file.slice(ROOT.length));
    }
  }
  return found;
}

describe('the diagnostic catalogue', () => {
  const raised = raisedCodes();

  it('reads the sources (the scan itself works)', () => {
    expect(raised.get('GH_UNKNOWN_GATE')).toBeDefined();
    expect(raised.get('GH_DOCKERFILE_TEXT')).toMatch(/^plugins\/dockerfile\/src\//);
  });

  it('lists every code raised in packages/, plugins/ and apps/', () => {
    const missing = [...raised]
      .filter(([code]) => !(code in DIAGNOSTIC_CODES) && !(code in NOT_CODES))
      .map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });
});
