/**
 * The turbo plan as files: the owned keys of `turbo.json#tasks` and of each package's
 * `package.json#scripts`, merged by the compile driver into the files the user keeps.
 */
import type { EmittedFile } from '@gatehouse-ci/core';
import type { TurboPlan } from './model.js';

/** Every key the target owns, written or stale: `gatehouse:x`, `web#gatehouse:x`, `//#gatehouse:x`. */
export const OWNED_TASK = /^(?:[^#]+#)?gatehouse:/;
/** Every script the target owns. */
export const OWNED_SCRIPT = /^gatehouse:/;
/** turbo's published schema, written into a `turbo.json` that compile creates. */
export const TURBO_SCHEMA = 'https://turbo.build/schema.json';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** `turbo.json` (created when missing) and each package's `package.json` (which must exist). */
export function printTurboPlan(plan: TurboPlan): EmittedFile[] {
  const files: EmittedFile[] = [
    {
      path: 'turbo.json',
      contents: json({ $schema: TURBO_SCHEMA, tasks: plan.tasks }),
      merge: {
        format: 'json',
        owns: [{ object: ['tasks'], keys: OWNED_TASK }],
        ifMissing: 'create',
      },
    },
  ];
  for (const [dir, scripts] of plan.scripts)
    files.push({
      path: dir === '.' ? 'package.json' : `${dir}/package.json`,
      contents: json({ scripts }),
      merge: {
        format: 'json',
        owns: [{ object: ['scripts'], keys: OWNED_SCRIPT }],
        ifMissing: 'error',
      },
    });
  return files;
}
