/**
 * Pass 4 of config validation, for monorepos: a gate declared with `packages:` becomes one
 * gate per selected workspace package (see docs/decisions/0008-package-gates.md). Runs only
 * on a config without errors, and only when some gate declares `packages`.
 */
import { CI_REPORT_DIR, CI_RESULTS_DIR } from '../ci.js';
import { findCycle } from '../dag.js';
import { didYouMean, formatPath } from '../diagnostics.js';
import type { GatePackage, ReleasePackage } from '../model.js';
import { isRootGlob } from '../glob.js';
import { isPlainObject } from '../object.js';
import {
  dependenciesOf,
  discoverWorkspace,
  packageScopedSlug,
  packageSlug,
  workspaceGlobsMatch,
  type Workspace,
  type WorkspacePackage,
} from '../workspace.js';
import type { Collector, PathSeg, Range } from './collector.js';
import { GATE_ID_PATTERN } from './schema.js';

const GATE_ID_RE = new RegExp(GATE_ID_PATTERN);
const SAFE_DIR = /^[A-Za-z0-9._/@+-]+$/;

/** What {@link expandPackageGates} returns. */
export interface PackageExpansion {
  /** The config with every gate of `packages` replaced by its per-package gates. */
  value: Record<string, unknown>;
  /** The package of each expanded gate, by gate id. */
  packages: Record<string, GatePackage>;
  /** The workspace package the release image is made of (`release.deploy`), if any. */
  release?: ReleasePackage;
}

/** Whether any gate of a parsed config declares `packages`. */
export function hasPackageGates(value: unknown): boolean {
  return (
    isPlainObject(value) &&
    isPlainObject(value.gates) &&
    Object.values(value.gates).some((g) => isPlainObject(g) && isPlainObject(g.packages))
  );
}

/** The short slug of each package, scoped where two short slugs clash. */
export function packageSlugs(ws: Pick<Workspace, 'packages'>): Map<string, string> {
  const count = new Map<string, number>();
  for (const p of ws.packages) {
    const s = packageSlug(p.name);
    count.set(s, (count.get(s) ?? 0) + 1);
  }
  const out = new Map<string, string>();
  for (const p of ws.packages) {
    const s = packageSlug(p.name);
    out.set(p.name, count.get(s) === 1 ? s : packageScopedSlug(p.name));
  }
  return out;
}

/** `dir` as one shell word. */
function shellWord(dir: string): string {
  return SAFE_DIR.test(dir) ? dir : `'${dir.replace(/'/g, `'\\''`)}'`;
}

/** A glob of the package, relative to the config directory (`!` kept in front). */
function underDir(dir: string, glob: string): string {
  // `//…` is rooted at the workspace root, not at the package.
  if (isRootGlob(glob)) return glob;
  const neg = glob.startsWith('!');
  const g = (neg ? glob.slice(1) : glob).replace(/^(\.\/)+/, '');
  return `${neg ? '!' : ''}${dir}/${g}`;
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

function selects(filter: Record<string, unknown>, p: WorkspacePackage): boolean {
  const script = filter.script;
  if (typeof script === 'string' && !(p.targets ? p.targets.includes(script) : script in p.scripts))
    return false;
  const match = strings(filter.match);
  if (match.length === 0) return true;
  return workspaceGlobsMatch(match, p.name) || workspaceGlobsMatch(match, p.dir);
}

/**
 * The default `run` of a package's gate selected by `script`, and whether it runs in the
 * package directory: `<package manager> run <script>` there, or for an nx project
 * `nx run <project>:<target>` from the workspace root, with nx neither running the target's
 * dependencies (the gates' `needs` do) nor replaying it from nx's cache (Gatehouse's decides).
 */
function defaultRun(ws: Workspace, p: WorkspacePackage, script: string): [string, boolean] {
  if (!p.targets) return [`${ws.packageManager} run ${script}`, true];
  const task = `${shellWord(p.name)}:${shellWord(script)}`;
  return [`npx --no-install nx run ${task} --excludeTaskDependencies --skip-nx-cache`, false];
}

/**
 * Expand the gates of `packages` in a valid parsed config. Problems (no workspace, a filter
 * that selects nothing, an override of an unknown package, an id clash, a cycle through the
 * workspace graph) are reported to `c`, located at the gate that causes them.
 */
export function expandPackageGates(
  value: Record<string, unknown>,
  rootDir: string,
  c: Collector,
  workspace: Workspace = discoverWorkspace(rootDir),
): PackageExpansion {
  const gates = value.gates as Record<string, Record<string, unknown>>;
  const at = (path: PathSeg[], key = false): Range | null => {
    const r = c.ranges.get(formatPath(path));
    return r ? (key ? (r.key ?? r.value) : (r.value ?? r.key)) : null;
  };
  const templates = Object.keys(gates).filter((id) => isPlainObject(gates[id]!.packages));
  const slugs = packageSlugs(workspace);
  const byName = new Map(workspace.packages.map((p) => [p.name, p]));

  // Which packages each template selects, and the id of each (template, package).
  const selected = new Map<string, WorkspacePackage[]>();
  const idOf = new Map<string, string>(); // `${template}\0${package}` -> id
  const taken = new Map<string, string>(); // id -> what took it
  for (const id of Object.keys(gates)) if (!templates.includes(id)) taken.set(id, `gate \`${id}\``);
  for (const t of templates) {
    const filter = gates[t]!.packages as Record<string, unknown>;
    const path = ['gates', t, 'packages'];
    if (workspace.packages.length === 0) {
      c.report(
        'GH_NO_WORKSPACE',
        path,
        at(path, true),
        workspace.source === 'nx'
          ? `\`gates.${t}\` is declared for workspace packages, but nx's project graph of ${rootDir} has no project outside the root`
          : `\`gates.${t}\` is declared for workspace packages, but ${rootDir} has no workspace packages`,
        {
          hint:
            workspace.source === 'nx'
              ? 'add nx projects (a project.json per project), or remove `packages`'
              : 'list the packages in pnpm-workspace.yaml or package.json#workspaces, or remove `packages`',
        },
      );
      continue;
    }
    const list = workspace.packages.filter((p) => selects(filter, p));
    if (list.length === 0)
      c.report(
        'GH_NO_PACKAGES',
        path,
        at(path),
        `\`gates.${t}.packages\` selects no package of the workspace`,
        {
          hint: `packages are: ${workspace.packages.map((p) => p.name).join(', ')}`,
        },
      );
    selected.set(t, list);
    const overrides = isPlainObject(filter.overrides) ? filter.overrides : {};
    for (const name of Object.keys(overrides)) {
      if (byName.has(name)) continue;
      const p = [...path, 'overrides', name];
      c.report('GH_UNKNOWN_PACKAGE', p, at(p, true), `no workspace package is named \`${name}\``, {
        hint:
          didYouMean(
            name,
            workspace.packages.map((x) => x.name),
          ) ?? `packages are: ${workspace.packages.map((x) => x.name).join(', ')}`,
      });
    }
    for (const p of list) {
      const id = `${slugs.get(p.name)}-${t}`;
      const clash = taken.get(id);
      if (clash || !GATE_ID_RE.test(id)) {
        c.report(
          'GH_PACKAGE_GATE_CLASH',
          ['gates', t],
          at(['gates', t], true),
          clash
            ? `gate \`${t}\` of package \`${p.name}\` would be \`${id}\`, which is already ${clash}`
            : `gate \`${t}\` of package \`${p.name}\` would be \`${id}\`, longer than 63 characters`,
          { hint: clash ? 'rename one of the gates' : `use a shorter gate id than \`${t}\`` },
        );
        continue;
      }
      taken.set(id, `gate \`${t}\` of package \`${p.name}\``);
      idOf.set(`${t}\0${p.name}`, id);
    }
  }

  // Every id a template stands for, for gates outside `packages` that need it.
  const allOf = (t: string): string[] =>
    (selected.get(t) ?? []).map((p) => idOf.get(`${t}\0${p.name}`)).filter((x) => x !== undefined);

  const out: Record<string, Record<string, unknown>> = {};
  const packages: Record<string, GatePackage> = {};
  const origin = new Map<string, string>(); // expanded id -> template
  for (const [id, g] of Object.entries(gates)) {
    if (!templates.includes(id)) {
      const needs = strings(g.needs).flatMap((n) => (templates.includes(n) ? allOf(n) : [n]));
      out[id] = g.needs === undefined ? g : { ...g, needs };
      continue;
    }
    const filter = g.packages as Record<string, unknown>;
    const overrides = isPlainObject(filter.overrides) ? filter.overrides : {};
    if (filter.direct === true)
      reportIgnoredDirect(id, g, selected.get(id) ?? [], workspace, c, at);
    for (const p of selected.get(id) ?? []) {
      const gid = idOf.get(`${id}\0${p.name}`);
      if (!gid) continue;
      const { packages: _omit, ...base } = g;
      const o = overrides[p.name];
      const merged: Record<string, unknown> = { ...base, ...(isPlainObject(o) ? o : {}) };
      const deps = dependenciesOf(workspace, p.name);
      const [run, inDir] =
        typeof merged.run === 'string'
          ? [merged.run, true]
          : defaultRun(workspace, p, String(filter.script));
      const needs = new Set<string>();
      for (const raw of strings(merged.needs)) {
        const up = raw.startsWith('^');
        const n = up ? raw.slice(1) : raw;
        if (!templates.includes(n)) {
          needs.add(n);
          continue;
        }
        if (!up && n !== id) {
          const own = idOf.get(`${n}\0${p.name}`);
          if (own) needs.add(own);
        }
        for (const d of deps) {
          const dep = idOf.get(`${n}\0${d}`);
          if (dep) needs.add(dep);
        }
      }
      // Outputs of the package's gates are made, not read: keep them out of the default inputs
      // (a package's own, in `overrides`, too: `//dist/libs/ui` is at the root).
      const madeHere = Object.entries(gates)
        .filter(([t]) => templates.includes(t))
        .flatMap(([, tg]) => {
          const own = (tg.packages as Record<string, unknown>).overrides;
          return [
            ...strings(tg.outputs),
            ...(isPlainObject(own)
              ? Object.values(own).flatMap((o) => (isPlainObject(o) ? strings(o.outputs) : []))
              : []),
          ];
        });
      const inputs = Array.isArray(merged.inputs)
        ? strings(merged.inputs).map((x) => underDir(p.dir, x))
        : defaultInputs(workspace, [p, ...deps.map((d) => byName.get(d)!)], madeHere);
      const description =
        typeof merged.description === 'string'
          ? `${p.name}: ${merged.description}`
          : `${p.name}: ${id}`;
      out[gid] = {
        ...merged,
        run: inDir ? `cd ${shellWord(p.dir)} && ${run}` : run,
        description,
        needs: [...needs].sort(),
        inputs,
        outputs: strings(merged.outputs).map((x) => underDir(p.dir, x)),
      };
      const direct =
        filter.direct === true &&
        typeof merged.run !== 'string' &&
        typeof filter.script === 'string' &&
        !p.targets;
      packages[gid] = {
        name: p.name,
        dir: p.dir,
        gate: id,
        ...(direct
          ? { direct: { script: filter.script as string, manager: workspace.packageManager } }
          : {}),
      };
      origin.set(gid, id);
    }
  }

  const cycle = findCycle(Object.entries(out).map(([id, g]) => ({ id, needs: strings(g.needs) })));
  if (cycle) {
    const t = origin.get(cycle[0]!) ?? cycle[0]!;
    c.report(
      'GH_CYCLE',
      ['gates', t, 'needs'],
      at(['gates', t, 'needs']) ?? at(['gates', t], true),
      `the package gates form a cycle: ${cycle.join(' -> ')}`,
      {
        hint: 'the workspace dependencies of these packages form a cycle: break it, or drop the `^` need',
      },
    );
  }

  const release = value.release;
  if (isPlainObject(release) && typeof release.from === 'string' && !(release.from in out)) {
    const p = ['release', 'from'];
    c.report(
      'GH_UNKNOWN_GATE',
      p,
      at(p),
      `release is built from unknown gate \`${release.from}\``,
      {
        hint:
          didYouMean(release.from, Object.keys(out)) ?? `gates are: ${Object.keys(out).join(', ')}`,
      },
    );
  }
  const deployed = releasePackage(value.release, packages, workspace, c, at);
  return {
    value: {
      ...value,
      gates: out,
      ...(deployed ? { release: deployed.release } : {}),
    },
    packages,
    ...(deployed ? { release: deployed.package } : {}),
  };
}

/**
 * `packages.direct: true` where it cannot apply, as a warning at the `direct` key: the gate then
 * runs its `run` as written, the same gate it was without `direct`, only not started faster.
 */
function reportIgnoredDirect(
  id: string,
  gate: Record<string, unknown>,
  selected: readonly WorkspacePackage[],
  workspace: Workspace,
  c: Collector,
  at: (path: PathSeg[], key?: boolean) => Range | null,
): void {
  const filter = gate.packages as Record<string, unknown>;
  const path = ['gates', id, 'packages', 'direct'];
  const warn = (why: string, hint: string) =>
    c.report(
      'GH_DIRECT_NO_EFFECT',
      path,
      at(path, true),
      `\`gates.${id}.packages.direct\` has no effect: ${why}`,
      { hint },
    );
  if (typeof filter.script !== 'string') {
    warn(
      'the gate has no `packages.script`, and only a package script is started without the package manager',
      'set `packages.script` to the package.json script to run and remove `run`, or remove `direct`',
    );
    return;
  }
  if (typeof gate.run === 'string') {
    warn(
      'the gate has its own `run`, which runs as written',
      `remove \`run\` so that each package's \`${filter.script}\` script is started directly, or remove \`direct\``,
    );
    return;
  }
  if (workspace.source === 'nx' || selected.some((p) => p.targets)) {
    warn(
      `the packages are nx projects, which run through \`nx run <project>:${filter.script}\``,
      'remove `direct`',
    );
    return;
  }
  const overrides = isPlainObject(filter.overrides) ? filter.overrides : {};
  for (const p of selected) {
    const o = overrides[p.name];
    if (isPlainObject(o) && typeof o.run === 'string')
      warn(
        `for package \`${p.name}\`, whose override has its own \`run\`, which runs as written (the other packages' scripts are started directly)`,
        `remove \`run\` from \`overrides[${JSON.stringify(p.name)}]\` to start its \`${filter.script}\` script directly too`,
      );
  }
}

/**
 * The workspace package the release image is made of (`release.deploy`, on by default when
 * `from` is a gate of `packages:`), with `copy` taken under its directory; null when the
 * release copies `copy` as written. pnpm, npm and yarn workspaces installed into `node_modules`
 * are deployed; bun workspaces and yarn's Plug'n'Play installs are not.
 */
function releasePackage(
  release: unknown,
  packages: Record<string, GatePackage>,
  workspace: Workspace,
  c: Collector,
  at: (path: PathSeg[], key?: boolean) => Range | null,
): { release: Record<string, unknown>; package: ReleasePackage } | null {
  if (!isPlainObject(release) || typeof release.from !== 'string') return null;
  const deploy = release.deploy;
  if (deploy === false) return null;
  const pkg = packages[release.from];
  const p = ['release', 'deploy'];
  if (!pkg) {
    if (deploy === true)
      c.report(
        'GH_RELEASE_DEPLOY',
        p,
        at(p),
        `\`release.deploy\` makes the image of a workspace package, but \`${release.from}\` is not a gate of \`packages:\``,
        { hint: 'name an expanded gate in `release.from` (`web-build`), or remove `deploy`' },
      );
    return null;
  }
  const manager = workspace.packageManager;
  if (manager === 'bun' || (manager === 'yarn' && workspace.yarnPnp === true)) {
    const why =
      manager === 'bun'
        ? 'deploying a package with its production dependencies is supported for pnpm, npm and yarn workspaces, and this is a bun workspace'
        : "this yarn workspace is installed with Plug'n'Play (yarn 2+ without `nodeLinker` in `.yarnrc.yml`, `nodeLinker: pnp`, or a `.pnp.cjs`), which has no `node_modules` to deploy the package's production dependencies from";
    const fix =
      manager === 'yarn' ? 'set `nodeLinker: node-modules` in `.yarnrc.yml` to deploy it, or ' : '';
    if (deploy === true)
      c.report('GH_RELEASE_DEPLOY', p, at(p), `\`release.deploy\`: ${why}`, {
        hint: `${fix}remove \`deploy\` and list what the image needs in \`release.copy\``,
      });
    else
      c.report(
        'GH_RELEASE_NOT_DEPLOYED',
        ['release', 'from'],
        at(['release', 'from']),
        `the release image of \`${pkg.name}\` gets \`release.copy\` as written and no production dependencies: ${why}`,
        {
          hint: `${fix}list what the image needs in \`release.copy\` (relative to the config directory), and set \`release.deploy: false\` to say so`,
        },
      );
    return null;
  }
  return {
    release: { ...release, copy: strings(release.copy).map((x) => underDir(pkg.dir, x)) },
    package: { name: pkg.name, dir: pkg.dir, manager },
  };
}

/**
 * The default `inputs` of a package gate: every file of the repository outside the workspace
 * packages (lockfile, root configs, shared directories such as `scripts/`: what a package's
 * scripts may read, and what `affected` counts as a change of every package), plus the files of
 * the package and of its workspace dependencies, without `node_modules/`, the `outputs` of the
 * gates of `packages:`, and the state of turbo and nx. Other packages' files are left out, also
 * when they sit inside an included package's directory.
 */
function defaultInputs(
  workspace: Workspace,
  included: readonly WorkspacePackage[],
  madeHere: readonly string[],
): string[] {
  const inDirs = new Set(included.map((q) => q.dir));
  const others = workspace.packages
    .filter((q) => !inDirs.has(q.dir) && q.dir !== '' && q.dir !== '.')
    .map((q) => q.dir);
  const made = [...new Set(madeHere)].filter((x) => !x.startsWith('!'));
  const nestedOthers = others.filter((o) => included.some((q) => o.startsWith(`${q.dir}/`)));
  return [
    '**',
    ...others.map((o) => `!${o}/**`),
    ...included.map((q) => `${q.dir}/**`),
    ...nestedOthers.map((o) => `!${o}/**`),
    '!**/node_modules/**',
    // Tool state that every turbo or nx run rewrites, and the results and report CI jobs write
    // between gates: derived from the sources, never read by a gate.
    '!**/.turbo/**',
    '!.nx/**',
    `!${CI_RESULTS_DIR}/**`,
    `!${CI_REPORT_DIR}/**`,
    ...included.flatMap((q) => made.map((x) => underDir(q.dir, `!${x}`))),
  ];
}
