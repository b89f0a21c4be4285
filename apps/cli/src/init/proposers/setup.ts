/** The `setup` command: the package manager's install, keyed on the manifests and lockfile. */
import type { UserSetup } from '@gatehouse-ci/core';
import { INSTALL_FILES } from '../detect.js';
import { safeRelative, type InitContext } from './context.js';

export function proposeSetup({ f, pm }: InitContext): { setup: UserSetup; comment: string[] } {
  const inputs = ['package.json'];
  if (f.packageManager.lockfile) inputs.push(f.packageManager.lockfile);
  for (const extra of ['pnpm-workspace.yaml', '.npmrc', '.yarnrc.yml', ...INSTALL_FILES])
    if (f.present.has(extra)) inputs.push(extra === 'patches' ? 'patches/**' : extra);
  for (const ws of f.workspaces) {
    const rel = safeRelative(ws);
    if (rel) inputs.push(`${rel}/package.json`);
  }
  const comment = [
    `Installs dependencies once, before any gate (${f.packageManager.reason}).`,
    'Its cache key is the content of `inputs`: the manifest and the lockfile.',
  ];
  if (f.packageManager.name !== 'npm') {
    comment.push(
      `The image must provide ${f.packageManager.name} (for example \`corepack enable\`).`,
    );
  }
  return { setup: { run: pm.install, inputs }, comment };
}
