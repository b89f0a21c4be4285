/** The `setup` command: the package manager's install, keyed on the manifests and lockfile. */
import type { UserSetup } from '@gatehouse-ci/core';
import { INSTALL_FILES, type WorkspaceMember } from '../detect.js';
import { safeRelative, type InitContext } from './context.js';

export function proposeSetup(ctx: InitContext): { setup: UserSetup; comment: string[] } {
  if (ctx.f.memberOf) return memberSetup(ctx, ctx.f.memberOf);
  const { f, pm } = ctx;
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

/**
 * A package of a workspace: the root's install, run from the package directory (pnpm, npm and
 * yarn find the root themselves and install the whole workspace from its lockfile), keyed on
 * the package's manifest and the root's install files, named with `//`.
 */
function memberSetup(
  { f, pm }: InitContext,
  member: WorkspaceMember,
): { setup: UserSetup; comment: string[] } {
  const inputs = ['package.json'];
  for (const extra of ['.npmrc', '.yarnrc.yml', ...INSTALL_FILES])
    if (f.present.has(extra)) inputs.push(extra === 'patches' ? 'patches/**' : extra);
  inputs.push('//package.json');
  for (const extra of [
    'pnpm-lock.yaml',
    'yarn.lock',
    'package-lock.json',
    'npm-shrinkwrap.json',
    'pnpm-workspace.yaml',
    '.npmrc',
    '.yarnrc.yml',
    ...INSTALL_FILES,
  ])
    if (member.rootPresent.has(extra))
      inputs.push(`//${extra === 'patches' ? 'patches/**' : extra}`);
  for (const glob of member.globs) inputs.push(`//${glob}/package.json`);
  const comment = [
    `Installs the workspace at ${member.up} from this package (${f.packageManager.reason}):`,
    `${f.packageManager.name} finds the root itself and installs every package of the workspace.`,
    "Its cache key is the content of `inputs`: this manifest and the root's install files (`//`).",
  ];
  if (f.packageManager.name !== 'npm') {
    comment.push(
      `The image must provide ${f.packageManager.name} (for example \`corepack enable\`).`,
    );
  }
  return { setup: { run: pm.install, inputs }, comment };
}
