/**
 * A generated pnpm workspace for monorepo tests: packages with scripts and workspace
 * dependencies, optionally a git repository with one commit on `main`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One package of {@link makeWorkspace}. */
export interface WorkspacePackageSpec {
  /** Directory relative to the root, e.g. `packages/core`. */
  dir: string;
  name: string;
  /** Names of workspace packages it depends on. */
  deps?: string[];
  /** Names of workspace packages it depends on for development only. */
  devDeps?: string[];
  /** @default each of lint, test, build as `node -e 0` */
  scripts?: Record<string, string>;
}

/** Options of {@link makeWorkspace}. */
export interface WorkspaceOptions {
  /** `pnpm-workspace.yaml` globs, or `package.json#workspaces` with `npm`. @default ['packages/*'] */
  globs?: string[];
  manager?: 'pnpm' | 'npm';
  /** Extra files, by path. */
  files?: Record<string, string>;
  /** Make a git repository with one commit on `main`. */
  git?: boolean;
}

/** Write a workspace of `packages` into `root` (which exists). */
export function makeWorkspace(
  root: string,
  packages: readonly WorkspacePackageSpec[],
  opts: WorkspaceOptions = {},
): void {
  const globs = opts.globs ?? ['packages/*'];
  const manager = opts.manager ?? 'pnpm';
  const rootPkg: Record<string, unknown> = { name: 'ws-root', private: true, version: '0.0.0' };
  if (manager === 'npm') rootPkg.workspaces = globs;
  else {
    rootPkg.packageManager = 'pnpm@10.34.8';
    writeFileSync(
      join(root, 'pnpm-workspace.yaml'),
      `packages:\n${globs.map((g) => `  - '${g}'\n`).join('')}`,
    );
  }
  writeFileSync(join(root, 'package.json'), `${JSON.stringify(rootPkg, null, 2)}\n`);
  const version = (deps: string[] | undefined) =>
    Object.fromEntries((deps ?? []).map((d) => [d, manager === 'pnpm' ? 'workspace:*' : '*']));
  for (const p of packages) {
    mkdirSync(join(root, p.dir, 'src'), { recursive: true });
    const json = {
      name: p.name,
      version: '1.0.0',
      private: true,
      scripts: p.scripts ?? { lint: 'node -e 0', test: 'node -e 0', build: 'node -e 0' },
      dependencies: version(p.deps),
      devDependencies: version(p.devDeps),
    };
    writeFileSync(join(root, p.dir, 'package.json'), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(
      join(root, p.dir, 'src', 'index.js'),
      `export const name = ${JSON.stringify(p.name)};\n`,
    );
  }
  for (const [path, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  if (opts.git) {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'test@example.com');
    git('config', 'user.name', 'Test');
    git('config', 'commit.gpgsign', 'false');
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n.gatehouse/\n.turbo/\n.nx/\ndist/\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'initial');
  }
}
