/** The `release` image: from the build gate, started as the project's start script says. */
import type { UserRelease } from '@gatehouse-ci/core';
import type { BuildProposal } from './build.js';
import { quoteScript, safeRelative, type InitContext } from './context.js';

export function proposeRelease(
  { f, mono }: InitContext,
  build: BuildProposal,
): { release: UserRelease | undefined; comment: string[]; detected: string[] } {
  if (build.gate === null) return { release: undefined, comment: [], detected: [] };
  if (build.outDir !== null && f.scripts.start) {
    const start = f.scripts.start.trim();
    const file = /^node\s+([A-Za-z0-9_./@-]+)$/.exec(start)?.[1];
    const rel = file ? safeRelative(file) : null;
    const cmd = rel ? ['node', rel] : ['npm', 'start'];
    const copy = [`${build.outDir}/`, 'package.json'];
    if (rel && !rel.startsWith(`${build.outDir}/`)) copy.push(rel);
    return {
      release: { from: 'build', copy, cmd },
      comment: [
        'The image to ship, built from the build gate once every blocking gate passed.',
        rel
          ? `cmd comes from your start script (${quoteScript(start)}), in exec form.`
          : `Your start script (${quoteScript(start)}) is not \`node <file>\`, so the image runs \`npm start\`.`,
        'Add to copy whatever else the app needs at run time (node_modules, public assets).',
      ],
      detected: [`release: from build, cmd ${JSON.stringify(cmd)}`],
    };
  }
  return {
    release: undefined,
    comment: [],
    detected: [
      mono
        ? 'release: none (a monorepo ships several apps: add a release for the one you deploy)'
        : 'release: none (no start script)',
    ],
  };
}
