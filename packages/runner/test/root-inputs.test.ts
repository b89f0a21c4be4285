import { realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gate, requireBwrap } from '@gatehouse-ci/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { explain, type GateExplanation } from '../src/index.js';
import { gateKeys } from '../src/keys.js';
import { cleanup, pipe, project, run, status } from './helpers.js';

const hasBwrap = requireBwrap('the sandbox test of inputs of the workspace root');

let dir = '';
afterEach(() => cleanup(dir));

/** A pnpm workspace whose package `packages/web` has its own config, naming a root file. */
async function workspace() {
  dir = realpathSync(
    await project({
      'pnpm-workspace.yaml': 'packages: [packages/*]\n',
      'pnpm-lock.yaml': 'lockfileVersion: 9.0\n',
      'tsconfig.base.json': '{"strict":true}\n',
      'eslint.config.js': 'export default []\n',
      'packages/web/package.json': '{"name":"web"}\n',
      'packages/web/src/a.ts': 'export const a = 1\n',
    }),
  );
  const web = join(dir, 'packages/web');
  const p = pipe(
    web,
    [
      gate('lint', {
        inputs: ['src/**', '//tsconfig.base.json'],
        run: 'cat src/a.ts ../../tsconfig.base.json',
      }),
    ],
    { workspaceRoot: dir },
  );
  return { web, p };
}

/** The input paths of the key of gate `lint`. */
async function inputsOf(p: ReturnType<typeof pipe>): Promise<string[]> {
  const { manifest } = await gateKeys(p, null).keyOf('lint');
  return manifest.inputs.map((i) => i.path);
}

async function runExplained(p: ReturnType<typeof pipe>, over = {}) {
  const ex: GateExplanation[] = [];
  const r = await run(p, { onExplain: (e) => ex.push(e), ...over });
  return { ...r, lint: ex.find((e) => e.id === 'lint')! };
}

describe('inputs of the workspace root (//)', () => {
  it('an edit of the named root file reruns the gate, with the file named by its //', async () => {
    const { p } = await workspace();
    const first = await runExplained(p);
    expect(status(first.report)).toEqual({ lint: 'passed' });

    const untouched = await runExplained(p);
    expect(status(untouched.report)).toEqual({ lint: 'cached' });
    // A root file the gate does not name changes nothing.
    writeFileSync(join(dir, 'eslint.config.js'), 'export default [{}]\n');
    expect(status((await run(p)).report)).toEqual({ lint: 'cached' });

    writeFileSync(join(dir, 'tsconfig.base.json'), '{"strict":false}\n');
    const [before] = await explain(p);
    expect(before!.action).toBe('run');
    expect(before!.reasons).toEqual([
      expect.stringMatching(/^input \/\/tsconfig\.base\.json changed \(sha /),
    ]);
    const edited = await runExplained(p);
    expect(status(edited.report)).toEqual({ lint: 'passed' });
    expect(edited.lint.reasons).toEqual(before!.reasons);
    expect(status((await run(p)).report)).toEqual({ lint: 'cached' });
  });

  it('the key lists the root file with its //, next to the package files', async () => {
    const { p } = await workspace();
    expect(await inputsOf(p)).toEqual(['//tsconfig.base.json', 'src/a.ts']);
  });

  it('!// excludes files of the root', async () => {
    const { p } = await workspace();
    const g = { ...p.gates[0]!, inputs: ['//*.json', '!//tsconfig.base.json'] };
    expect(await inputsOf({ ...p, gates: [g] })).toEqual([]);
    const all = { ...p.gates[0]!, inputs: ['//*.{json,js}'] };
    expect(await inputsOf({ ...p, gates: [all] })).toEqual([
      '//eslint.config.js',
      '//tsconfig.base.json',
    ]);
  });

  it.skipIf(!hasBwrap)(
    'a sandboxed gate sees the named root file, read-only, and no other',
    async () => {
      const { p } = await workspace();
      const g = {
        ...p.gates[0]!,
        run: 'cat ../../tsconfig.base.json ../../pnpm-lock.yaml && test ! -e ../../eslint.config.js && ! (echo x >> ../../tsconfig.base.json)',
      };
      const { report } = await run({ ...p, gates: [g] }, { sandbox: true });
      expect(report.gates[0]!.reason ?? null).toBeNull();
      expect(status(report)).toEqual({ lint: 'passed' });
    },
  );
});
