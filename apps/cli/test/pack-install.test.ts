/**
 * Packs every publishable package of this repository the way it would be published (`pnpm
 * pack` turns `workspace:*` into versions and applies `publishConfig`), installs the
 * tarballs into fresh projects outside the repository with npm, pnpm and yarn classic
 * (third-party dependencies come from the registry), and uses the installed CLI there as a
 * new user would: `--version`, `init`, `validate`, `compile`, `run`, and the Docker
 * executor before and after its optional package is added.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DOCKER_TEST_TIMEOUT_MS, ensureBaseImage, requireDocker } from '@gatehouse-ci/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const INSTALL_TIMEOUT_MS = 10 * 60_000;
/** yarn classic, fetched through npx like a user without a global yarn would. */
const YARN = ['--yes', 'yarn@1.22.22'];

interface Packed {
  name: string;
  version: string;
  dir: string;
  tarball: string;
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A directory put first on PATH (holds a `yarn` that runs yarn classic through npx). */
let shims = '';

async function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<Result> {
  try {
    const { stdout, stderr } = await run(cmd, args, {
      cwd,
      timeout,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        NO_COLOR: '1',
        npm_config_yes: 'true',
        PATH: `${shims}:${process.env.PATH ?? ''}`,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : -1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(err),
    };
  }
}

function ok(r: Result, what: string): Result {
  if (r.code !== 0) {
    throw new Error(`${what} exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

/** The workspace packages that are published: every one not marked private. */
async function publishable(): Promise<{ name: string; version: string; dir: string }[]> {
  const out: { name: string; version: string; dir: string }[] = [];
  for (const group of ['packages', 'plugins', 'apps']) {
    for (const entry of await readdir(join(ROOT, group))) {
      const dir = join(ROOT, group, entry);
      const file = join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(await readFile(file, 'utf8')) as {
        name: string;
        version: string;
        private?: boolean;
      };
      if (pkg.private !== true) out.push({ name: pkg.name, version: pkg.version, dir });
    }
  }
  return out;
}

type Manager = 'npm' | 'pnpm' | 'yarn';

/** package.json of a fresh project that installs the CLI (and maybe more) from the tarballs. */
function projectManifest(pm: Manager, packed: Packed[], direct: string[]): Record<string, unknown> {
  const spec = (p: Packed) => `file:${p.tarball}`;
  const byName = new Map(packed.map((p) => [p.name, p]));
  const devDependencies = Object.fromEntries(direct.map((n) => [n, spec(byName.get(n)!)]));
  // The tarballs depend on each other by version; point those versions at the tarballs.
  // Only the CLI's own dependencies: yarn classic installs whatever `resolutions` names.
  const optional = ['@gatehouse-ci/plugin-docker', '@gatehouse-ci/nx'];
  const pinned = Object.fromEntries(
    packed
      .filter((p) => !direct.includes(p.name) && !optional.includes(p.name))
      .map((p) => [p.name, spec(p)]),
  );
  return {
    name: `probe-${pm}`,
    version: '1.0.0',
    private: true,
    type: 'module',
    scripts: { test: 'node --test test/' },
    devDependencies,
    ...(pm === 'npm' ? { overrides: pinned } : {}),
    ...(pm === 'pnpm' ? { pnpm: { overrides: pinned } } : {}),
    ...(pm === 'yarn' ? { resolutions: pinned } : {}),
  };
}

async function install(pm: Manager, dir: string): Promise<Result> {
  if (pm === 'npm')
    return sh('npm', ['install', '--no-audit', '--no-fund'], dir, INSTALL_TIMEOUT_MS);
  if (pm === 'pnpm') return sh('pnpm', ['install'], dir, INSTALL_TIMEOUT_MS);
  return sh('yarn', ['install', '--non-interactive'], dir, INSTALL_TIMEOUT_MS);
}

describe('published packages install and work outside the repository', () => {
  let work: string;
  let packed: Packed[];
  let registry: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'gatehouse-pack-'));
    const packs = join(work, 'packs');
    await mkdir(packs);
    packed = [];
    for (const p of await publishable()) {
      const r = ok(
        await sh('pnpm', ['pack', '--pack-destination', packs], p.dir),
        `pnpm pack in ${p.dir}`,
      );
      const tarball = r.stdout.trim().split('\n').pop()!.trim();
      expect(existsSync(tarball), `pnpm pack printed ${tarball}`).toBe(true);
      packed.push({ ...p, tarball });
    }
    registry = (await sh('npm', ['config', 'get', 'registry'], work)).stdout.trim();
    // A yarn user has `yarn` on PATH, and the setup `init` writes for a yarn project calls it.
    shims = join(work, 'bin');
    await mkdir(shims);
    await writeFile(
      join(shims, 'yarn'),
      `#!/bin/sh\nexec npx ${YARN.join(' ')} --registry ${registry} "$@"\n`,
      { mode: 0o755 },
    );
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('every tarball has the metadata a registry user needs and nothing that points into src/', async () => {
    expect(packed.map((p) => p.name).sort()).toEqual(
      expect.arrayContaining(['gatehouse-ci', '@gatehouse-ci/core', '@gatehouse-ci/plugin-docker']),
    );
    for (const p of packed) {
      const dir = join(work, 'inspect', p.name);
      await mkdir(dir, { recursive: true });
      ok(await sh('tar', ['xzf', p.tarball, '-C', dir], dir), `tar of ${p.name}`);
      const pkg = JSON.parse(await readFile(join(dir, 'package', 'package.json'), 'utf8'));
      expect(pkg.license, p.name).toBe('MIT');
      expect(pkg.engines?.node, p.name).toBe('>=20.19');
      expect(pkg.repository?.url, p.name).toMatch(/^git\+https:\/\//);
      expect(existsSync(join(dir, 'package', 'README.md')), `${p.name} README`).toBe(true);
      const text = JSON.stringify(pkg.exports);
      expect(text, `${p.name} exports`).not.toContain('src/');
      expect(text, `${p.name} exports`).not.toContain('gatehouse-source');
      for (const section of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
        expect(JSON.stringify(pkg[section] ?? {}), `${p.name} ${section}`).not.toContain(
          'workspace:',
        );
      }
      // Every file an export names is in the tarball.
      const targets = JSON.stringify(pkg.exports).match(/"\.\/[^"]+"/g) ?? [];
      for (const t of targets) {
        const rel = JSON.parse(t) as string;
        if (rel.includes('*')) continue;
        expect(existsSync(join(dir, 'package', rel)), `${p.name} exports ${rel}`).toBe(true);
      }
    }
    const cli = JSON.parse(
      await readFile(join(work, 'inspect', 'gatehouse-ci', 'package', 'package.json'), 'utf8'),
    );
    expect(cli.bin).toEqual({ gatehouse: './bin/gatehouse.js' });
    // The Docker executor's native add-ons install only for projects that ask for them.
    expect(Object.keys(cli.dependencies)).not.toContain('@gatehouse-ci/plugin-docker');
    expect(cli.peerDependenciesMeta['@gatehouse-ci/plugin-docker']).toEqual({ optional: true });
  });

  for (const pm of ['npm', 'pnpm', 'yarn'] as const) {
    it(
      `${pm}: installs the CLI from its tarball and runs init, validate, compile and run`,
      async () => {
        const dir = join(work, pm);
        await mkdir(join(dir, 'test'), { recursive: true });
        await writeFile(
          join(dir, 'package.json'),
          JSON.stringify(projectManifest(pm, packed, ['gatehouse-ci']), null, 2),
        );
        await writeFile(
          join(dir, 'test', 'probe.test.js'),
          "import test from 'node:test';\ntest('adds', () => { if (1 + 1 !== 2) throw new Error('math'); });\n",
        );
        ok(await install(pm, dir), `${pm} install`);
        // No Docker executor dependencies unless asked for.
        expect(existsSync(join(dir, 'node_modules', 'dockerode'))).toBe(false);

        const gh = (...args: string[]) => sh('npx', ['--no-install', 'gatehouse', ...args], dir);
        const version = ok(await gh('--version'), 'gatehouse --version');
        expect(version.stdout.trim()).toBe(packed.find((p) => p.name === 'gatehouse-ci')!.version);

        const init = ok(await gh('init'), 'gatehouse init');
        expect(init.stdout).toContain('Wrote gatehouse.yml');
        // gatehouse-ci is already a devDependency: no install advice.
        expect(init.stdout).not.toContain('Add Gatehouse to the project');
        const config = await readFile(join(dir, 'gatehouse.yml'), 'utf8');
        const schemaPath = /\$schema=(\S+)/.exec(config.split('\n')[0]!)?.[1];
        expect(schemaPath, 'the schema comment').toBeDefined();
        const schema = JSON.parse(await readFile(join(dir, schemaPath!), 'utf8'));
        expect(schema.title).toBe('gatehouse.yml');

        ok(await gh('validate'), 'gatehouse validate');
        ok(
          await gh('compile', '--target', 'github', '--target', 'dockerfile'),
          'gatehouse compile',
        );
        expect(existsSync(join(dir, '.github', 'workflows', 'gatehouse.yml'))).toBe(true);
        expect(existsSync(join(dir, 'Dockerfile'))).toBe(true);

        const local = ok(await gh('run'), 'gatehouse run');
        expect(local.stdout).toContain('PASSED');
        const report = JSON.parse(
          await readFile(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'),
        );
        expect(report.verdict.status).toBe('passed');
        expect(report.gates.length).toBeGreaterThan(0);
        ok(await gh('report', 'verify', join('.gatehouse', 'report', 'report.json')), 'verify');

        const noDocker = await gh('run', '--executor', 'docker');
        expect(noDocker.code).not.toBe(0);
        expect(noDocker.stderr).toContain('GH_PLUGIN_NOT_FOUND');
        expect(noDocker.stderr).toContain('@gatehouse-ci/plugin-docker');
      },
      INSTALL_TIMEOUT_MS,
    );
  }

  it(
    'npm: with @gatehouse-ci/plugin-docker added, run --executor docker runs the gates in BuildKit',
    async () => {
      if (!(await requireDocker('the Docker executor from the packed plugin'))) return;
      const image = await ensureBaseImage();
      const dir = join(work, 'npm-docker');
      await mkdir(join(dir, 'test'), { recursive: true });
      await writeFile(
        join(dir, 'package.json'),
        JSON.stringify(
          projectManifest('npm', packed, ['gatehouse-ci', '@gatehouse-ci/plugin-docker']),
          null,
          2,
        ),
      );
      await writeFile(
        join(dir, 'test', 'probe.test.js'),
        "import test from 'node:test';\ntest('adds', () => { if (1 + 1 !== 2) throw new Error('math'); });\n",
      );
      // The base image has node but no registry access: the gate needs no install.
      await writeFile(
        join(dir, 'gatehouse.yml'),
        `version: 1\nname: probe\nimage: ${image}\ngates:\n  unit:\n    kind: custom\n    run: node --test test/\n`,
      );
      ok(await install('npm', dir), 'npm install with the Docker plugin');
      expect(existsSync(join(dir, 'node_modules', 'dockerode'))).toBe(true);
      const r = ok(
        await sh('npx', ['--no-install', 'gatehouse', 'run', '--executor', 'docker'], dir),
        'gatehouse run --executor docker',
      );
      expect(r.stdout).toContain('PASSED');
      const report = JSON.parse(
        await readFile(join(dir, '.gatehouse', 'report', 'report.json'), 'utf8'),
      );
      expect(report.executor).toBe('docker');
      expect(report.gates.map((g: { id: string; status: string }) => [g.id, g.status])).toEqual([
        ['unit', 'passed'],
      ]);
      // A failing gate fails the run: the executor is judging, not just building.
      await writeFile(
        join(dir, 'test', 'probe.test.js'),
        "import test from 'node:test';\ntest('adds', () => { throw new Error('planted'); });\n",
      );
      const failed = await sh(
        'npx',
        ['--no-install', 'gatehouse', 'run', '--executor', 'docker'],
        dir,
      );
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain('FAILED');
    },
    DOCKER_TEST_TIMEOUT_MS + INSTALL_TIMEOUT_MS,
  );
});
