import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { validate } from 'dockerfile-utils';
import { gate, hostileString, pipeline } from '@gatehouse-ci/test-utils';
import type { ResolvedPipeline } from '@gatehouse-ci/core';
import plugin, {
  INLINE_COMMAND_LIMIT,
  RESULTS_STAGE,
  VERDICT_STAGE,
  buildSecretArgs,
  caSecretSource,
  emitDockerfile,
  resolveCaSource,
  SYSTEM_CA_BUNDLES,
  resolveDockerfileOptions,
} from '../src/index.js';

const validateDockerfileOptions = (o: Record<string, unknown>) =>
  resolveDockerfileOptions(o).diagnostics;
import { NPM_DEPLOY_SCRIPT } from '../src/npm-deploy.js';
import { parseBack } from './parse-back.js';

const release = {
  from: 'build',
  copy: ['dist/', 'package.json'],
  cmd: ['node', 'dist/server.js'],
  image: 'node:22-bookworm-slim',
  expose: [8080],
  env: { NODE_ENV: 'production' },
  user: 'node',
  workdir: '/srv/app',
};

const IMG = 'node:22-bookworm-slim';
const g = (id: string, over: Parameters<typeof gate>[1] = {}) => gate(id, { image: IMG, ...over });

function sample(over: Partial<ResolvedPipeline> = {}): ResolvedPipeline {
  return pipeline(
    [
      g('build', { run: 'npm run build', outputs: ['dist/**'] }),
      g('lint', { run: 'npx eslint .', env: { ESLINT_USE_FLAT_CONFIG: 'true' } }),
      g('sonar', { run: 'npx @sonar/scan', secrets: ['SONAR_TOKEN'], mode: 'advisory' }),
      g('a11y', { run: 'npx pa11y-ci', needs: ['build'] }),
      g('e2e', { run: 'npm run e2e', needs: ['build', 'lint'] }),
    ],
    {
      image: IMG,
      setup: {
        run: 'npm ci',
        inputs: ['package.json', 'package-lock.json'],
        env: {},
        secrets: [],
        timeoutMs: 1_800_000,
      },
      release: structuredClone(release),
      ...over,
    },
  );
}

function errorOf(fn: () => unknown): {
  code: string;
  diagnostics: Array<{ code: string; path: string; message: string }>;
} {
  try {
    fn();
  } catch (err) {
    return err as never;
  }
  throw new Error('expected a GatehouseError');
}

describe('emitDockerfile', () => {
  test('stage layout follows the shared contract and the release is the last stage', () => {
    const { dockerfile } = emitDockerfile(sample());
    const { stages } = parseBack(dockerfile);
    expect(stages).toEqual([
      'base',
      'setup',
      'gate-build',
      'gate-lint',
      'gate-sonar',
      'gate-a11y',
      'gate-e2e',
      'result-build',
      'result-lint',
      'result-sonar',
      'result-a11y',
      'result-e2e',
      RESULTS_STAGE,
      VERDICT_STAGE,
      'gatehouse-judged',
      'release',
    ]);
    expect(dockerfile).toContain('FROM gate-build AS gate-a11y');
    expect(dockerfile).toContain('FROM setup AS gate-e2e');
    expect(dockerfile).toContain('COPY --from=gate-build ["/app/dis[t]", "/app/dist"]');
    expect(dockerfile).toContain(
      'COPY --from=gatehouse-verdict ["/gatehouse/verdict.txt", "/usr/share/gatehouse/verdict.txt"]',
    );
    // The release copies from the built gate only through the verdict.
    expect(dockerfile).toContain('FROM gate-build AS gatehouse-judged');
    expect(dockerfile).toContain(
      'COPY --from=gatehouse-verdict ["/gatehouse/verdict.txt", "/gatehouse/judged.txt"]',
    );
    expect(dockerfile).toContain(
      'COPY --from=gatehouse-judged --chown=node ["/app/dist", "/srv/app/dist"]',
    );
    expect(dockerfile).toContain('CMD ["node", "dist/server.js"]');
    expect(dockerfile).not.toMatch(/npm start/);
  });

  test('without a release the verdict is the last (default) stage', () => {
    const { stages } = parseBack(emitDockerfile(sample({ release: null })).dockerfile);
    expect(stages.at(-1)).toBe(VERDICT_STAGE);
  });

  test('a release made of a workspace package deploys it with its production dependencies', () => {
    const pkg = (dir: string, gateId: string) => ({
      name: `@acme/${dir}`,
      dir: `packages/${dir}`,
      gate: gateId,
    });
    const p = pipeline(
      [
        g('utils-build', { outputs: ['packages/utils/dist/**'], package: pkg('utils', 'build') }),
        g('web-build', {
          needs: ['utils-build'],
          outputs: ['packages/web/dist/**'],
          package: pkg('web', 'build'),
        }),
      ],
      {
        image: IMG,
        setup: {
          run: 'pnpm install',
          inputs: [],
          env: {},
          secrets: ['NPM_TOKEN'],
          timeoutMs: 60_000,
        },
        release: {
          ...structuredClone(release),
          from: 'web-build',
          copy: ['packages/web/dist/', 'packages/web/public/*.html'],
          package: { name: '@acme/web', dir: 'packages/web', manager: 'pnpm' },
        },
      },
    );
    const { dockerfile } = emitDockerfile(p);
    const { stages, instructions } = parseBack(dockerfile);
    expect(stages.slice(-3)).toEqual(['gatehouse-judged', 'gatehouse-deploy', 'release']);
    expect(dockerfile).toContain('FROM gatehouse-judged AS gatehouse-deploy');
    // The package name and the directory are arguments, never part of the script.
    const deploy = instructions.find(
      (i) => i.keyword === 'RUN' && i.json?.[3] === 'gatehouse-deploy',
    );
    expect(deploy?.json?.slice(3)).toEqual(['gatehouse-deploy', '@acme/web', '/gatehouse/deploy']);
    expect(deploy?.json?.[2]).toContain(
      'pnpm --filter "$1" --prod --prefer-offline deploy $gh_legacy "$2"',
    );
    expect(deploy?.json?.[2]).not.toContain('@acme');
    // Setup's secrets and the CA reach the deploy, in case a package is not in the store.
    expect(dockerfile).toMatch(
      /RUN --mount=type=secret,id=NPM_TOKEN --mount=type=secret,id=gatehouse_ca \["\/bin\/sh", "-c", "[^\n]*", "gatehouse-deploy"/,
    );
    const stage = dockerfile.slice(dockerfile.indexOf(' AS release'));
    // The package's own files land at the top of the release workdir, from the judged gate;
    // package.json and node_modules come from the deploy, last.
    expect(stage).toContain(
      'COPY --from=gatehouse-judged --chown=node ["/app/packages/web/dist", "/srv/app/dist"]',
    );
    expect(stage).toContain(
      'COPY --from=gatehouse-judged --chown=node ["/app/packages/web/public/*.html", "/srv/app/public/"]',
    );
    expect(stage).toContain(
      'COPY --from=gatehouse-deploy --chown=node ["/gatehouse/deploy/package.json", "/srv/app/package.json"]',
    );
    expect(stage).toContain(
      'COPY --from=gatehouse-deploy --chown=node ["/gatehouse/deploy/node_module[s]", "/srv/app/node_modules"]',
    );
    expect(stage.indexOf('node_module[s]')).toBeGreaterThan(stage.indexOf('packages/web/dist'));
    expect(stage).not.toMatch(/packages\/utils|"\/app\/node_modules/);
    expect(validate(dockerfile).filter((d) => d.severity === 1)).toEqual([]);

    // A name no argument can carry is refused, located at `release.from`.
    const odd = structuredClone(p);
    odd.release!.package!.name = '@acme/\ud800web';
    expect(errorOf(() => emitDockerfile(odd)).diagnostics).toEqual([
      expect.objectContaining({ code: 'GH_DOCKERFILE_TEXT', path: 'release.from' }),
    ]);

    // Without a package, the release copies `copy` as written, and there is no deploy stage.
    const plain = emitDockerfile({
      ...p,
      release: { ...p.release!, package: undefined },
    }).dockerfile;
    expect(parseBack(plain).stages).not.toContain('gatehouse-deploy');
    expect(plain).toContain(
      'COPY --from=gatehouse-judged --chown=node ["/app/packages/web/dist", "/srv/app/packages/web/dist"]',
    );
  });

  test('a release made of a package of an npm workspace is deployed by node, offline', () => {
    const p = pipeline(
      [
        g('web-build', {
          outputs: ['packages/web/dist/**'],
          package: { name: '@acme/web', dir: 'packages/web', gate: 'build' },
        }),
      ],
      {
        image: IMG,
        setup: { run: 'npm ci', inputs: [], env: {}, secrets: ['NPM_TOKEN'], timeoutMs: 60_000 },
        release: {
          ...structuredClone(release),
          from: 'web-build',
          copy: ['packages/web/dist/'],
          package: { name: '@acme/web', dir: 'packages/web', manager: 'npm' },
        },
      },
    );
    const { dockerfile } = emitDockerfile(p);
    const { stages, instructions } = parseBack(dockerfile);
    expect(stages.slice(-3)).toEqual(['gatehouse-judged', 'gatehouse-deploy', 'release']);
    const deploy = instructions.find(
      (i) => i.keyword === 'RUN' && i.json?.[3] === 'gatehouse-deploy',
    );
    // Name, directories and Gatehouse's program are arguments; the script names none of them.
    expect(deploy?.json?.slice(3)).toEqual([
      'gatehouse-deploy',
      'npm',
      '@acme/web',
      'packages/web',
      '/gatehouse/deploy',
      NPM_DEPLOY_SCRIPT,
    ]);
    expect(deploy?.json?.[2]).toContain('exec node -e "$5" -- "$1" "$2" "$3" "$4"');
    expect(deploy?.json?.[2]).not.toMatch(/@acme|packages\/web/);
    // It copies from the installed workspace: no registry, so no secret and no CA.
    expect(dockerfile).toMatch(/\nRUN \["\/bin\/sh", "-c", "[^\n]*", "gatehouse-deploy"/);
    const stage = dockerfile.slice(dockerfile.indexOf(' AS release'));
    expect(stage).toContain(
      'COPY --from=gatehouse-deploy --chown=node ["/gatehouse/deploy/node_module[s]", "/srv/app/node_modules"]',
    );
    expect(validate(dockerfile).filter((d) => d.severity === 1)).toEqual([]);

    // A directory no argument can carry is refused, located at `release.from`.
    const odd = structuredClone(p);
    odd.release!.package!.dir = 'packages/\ud800web';
    expect(errorOf(() => emitDockerfile(odd)).diagnostics).toEqual([
      expect.objectContaining({ code: 'GH_DOCKERFILE_TEXT', path: 'release.from' }),
    ]);

    // A package of a yarn workspace: the same step and program, told the manager.
    const yarn = structuredClone(p);
    yarn.release!.package!.manager = 'yarn';
    const yarnFile = emitDockerfile(yarn).dockerfile;
    const yarnDeploy = parseBack(yarnFile).instructions.find(
      (i) => i.keyword === 'RUN' && i.json?.[3] === 'gatehouse-deploy',
    );
    expect(yarnDeploy?.json?.slice(2)).toEqual([
      deploy?.json?.[2],
      'gatehouse-deploy',
      'yarn',
      '@acme/web',
      'packages/web',
      '/gatehouse/deploy',
      NPM_DEPLOY_SCRIPT,
    ]);
    expect(yarnFile).toMatch(/\nRUN \["\/bin\/sh", "-c", "[^\n]*", "gatehouse-deploy"/);
    const oddYarn = structuredClone(yarn);
    oddYarn.release!.package!.dir = 'packages/\ud800web';
    expect(errorOf(() => emitDockerfile(oddYarn)).diagnostics).toEqual([
      expect.objectContaining({ code: 'GH_DOCKERFILE_TEXT', path: 'release.from' }),
    ]);
  });

  test('line 1 is the generated header and comments hold no user text', () => {
    const evil = 'x\n# syntax=evil/frontend\nRUN touch /pwned';
    const p = sample({ name: evil });
    p.gates[0]!.description = evil;
    const { dockerfile } = emitDockerfile(p, {}, { configFile: 'gatehouse.yml' });
    expect(dockerfile.split('\n')[0]).toBe(
      '# generated by gatehouse from gatehouse.yml — do not edit; run `gatehouse compile`',
    );
    expect(dockerfile).not.toContain('evil');
    // An odd config file name cannot reach the header either.
    const odd = emitDockerfile(p, {}, { configFile: 'a\nRUN x.yml' }).dockerfile;
    expect(odd.split('\n')[0]).toBe(
      '# generated by gatehouse from a_RUN_x.yml — do not edit; run `gatehouse compile`',
    );
    expect(parseBack(odd).stages).toEqual(parseBack(emitDockerfile(p).dockerfile).stages);
  });

  test('is deterministic and accepted by dockerfile-utils without any diagnostic', () => {
    const a = emitDockerfile(sample());
    const b = emitDockerfile(sample());
    expect(a.dockerfile).toBe(b.dockerfile);
    expect(a.dockerignore).toBe(b.dockerignore);
    expect(validate(a.dockerfile)).toEqual([]);
  });

  test('secrets are mounted per RUN and never written to ARG or ENV', () => {
    const { dockerfile } = emitDockerfile(sample());
    const sonar = dockerfile
      .split('\n')
      .find((l) => l.startsWith('RUN') && l.includes('/gatehouse/out/sonar'));
    expect(sonar).toMatch(
      /^RUN --mount=type=secret,id=SONAR_TOKEN --mount=type=secret,id=gatehouse_ca \[/,
    );
    expect(dockerfile).not.toMatch(/^(ARG|ENV) .*SONAR_TOKEN/m);
  });

  test('ca: none drops the CA secret; npmCache: false drops the cache mount', () => {
    const on = emitDockerfile(sample()).dockerfile;
    expect(on).toContain('--mount=type=cache,id=gatehouse-npm,target=/root/.npm,sharing=locked');
    const off = emitDockerfile(sample(), { ca: 'none', npmCache: false }).dockerfile;
    expect(off).not.toContain('gatehouse_ca');
    expect(off).not.toContain('type=cache');
  });

  test('option checks', () => {
    expect(validateDockerfileOptions({})).toEqual([]);
    expect(validateDockerfileOptions({ ca: 'certs/corp.pem', npmCache: false })).toEqual([]);
    const d = validateDockerfileOptions({ ca: 3, npmCache: 'yes', mode: 'x' });
    expect(d.map((x) => x.path).sort()).toEqual(['ca', 'mode', 'npmCache']);
    expect(d.map((x) => x.code).sort()).toEqual([
      'GH_TARGET_OPTIONS',
      'GH_TARGET_OPTIONS',
      'GH_UNKNOWN_KEY',
    ]);
    expect(resolveDockerfileOptions({ npmCache: false }).value).toEqual({
      ca: 'auto',
      npmCache: false,
      path: 'Dockerfile',
    });
  });

  test('`ca` stays inside the project or names a system CA bundle', () => {
    expect(SYSTEM_CA_BUNDLES).toEqual(
      expect.arrayContaining([
        '/etc/ssl/certs/ca-certificates.crt',
        '/etc/pki/tls/certs/ca-bundle.crt',
        '/etc/ssl/cert.pem',
      ]),
    );
    for (const ok of ['auto', 'none', 'certs/corp.pem', './ca.pem', ...SYSTEM_CA_BUNDLES])
      expect(validateDockerfileOptions({ ca: ok }), ok).toEqual([]);
    for (const bad of [
      '../corp.pem',
      'certs/../../corp.pem',
      '/home/me/.ssh/id_ed25519',
      '/etc/ssl/certs/../private/server.key',
      '/etc/passwd',
      'C:\\corp.pem',
      '~/corp.pem',
    ]) {
      expect(validateDockerfileOptions({ ca: bad }), bad).toEqual([
        expect.objectContaining({ code: 'GH_CA_PATH', path: 'ca', severity: 'error' }),
      ]);
      expect(() => caSecretSource({ ca: bad }, {}, '/r'), bad).toThrow(/ca/);
    }
  });

  test('resolveCaSource follows links, and refuses a file outside the project or not a file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gatehouse-ca-'));
    const outside = await mkdtemp(join(tmpdir(), 'gatehouse-ca-out-'));
    try {
      await mkdir(join(root, 'certs'));
      await writeFile(join(root, 'certs', 'corp.pem'), '-----BEGIN CERTIFICATE-----\n');
      await writeFile(join(outside, 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\n');
      await symlink(join(outside, 'id_ed25519'), join(root, 'certs', 'leak.pem'));
      await symlink(outside, join(root, 'out'));
      await symlink(join(root, 'certs', 'corp.pem'), join(root, 'alias.pem'));
      execFileSync('mkfifo', [join(root, 'certs', 'fifo.pem')]);

      expect(await resolveCaSource({ ca: 'certs/corp.pem' }, {}, root)).toBe(
        join(root, 'certs', 'corp.pem'),
      );
      expect(await resolveCaSource({ ca: 'alias.pem' }, {}, root)).toBe(
        join(root, 'certs', 'corp.pem'),
      );
      expect(await resolveCaSource({ ca: 'certs/missing.pem' }, {}, root)).toBeNull();
      expect(await resolveCaSource({ ca: 'none' }, { NODE_EXTRA_CA_CERTS: '/x' }, root)).toBeNull();
      expect(await resolveCaSource({}, {}, root)).toBeNull();
      // `auto`: the file the environment names, wherever it is (the person running chose it).
      expect(
        await resolveCaSource({}, { NODE_EXTRA_CA_CERTS: join(outside, 'id_ed25519') }, root),
      ).toBe(join(outside, 'id_ed25519'));

      for (const [ca, env, says] of [
        ['certs/leak.pem', {}, /outside the project/],
        ['out/id_ed25519', {}, /outside the project/],
        ['certs', {}, /not a regular file/],
        ['certs/fifo.pem', {}, /not a regular file/],
        ['../x.pem', {}, /inside the project/],
        ['auto', { SSL_CERT_FILE: join(root, 'certs', 'fifo.pem') }, /SSL_CERT_FILE/],
      ] as const) {
        const err = await resolveCaSource({ ca }, env, root).then(
          () => null,
          (e: unknown) => e as { code: string; message: string; diagnostics: unknown[] },
        );
        expect(err, ca).toMatchObject({
          code: 'GH_CA_PATH',
          message: expect.stringMatching(says),
          diagnostics: [
            expect.objectContaining({ code: 'GH_CA_PATH', path: 'targets.dockerfile.ca' }),
          ],
        });
      }
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });

  test('caSecretSource and buildSecretArgs', () => {
    expect(caSecretSource({}, { NODE_EXTRA_CA_CERTS: '/etc/corp.pem' }, '/r')).toBe(
      '/etc/corp.pem',
    );
    expect(caSecretSource({}, { SSL_CERT_FILE: '/etc/b.pem' }, '/r')).toBe('/etc/b.pem');
    expect(caSecretSource({}, {}, '/r')).toBeNull();
    expect(caSecretSource({ ca: 'none' }, { NODE_EXTRA_CA_CERTS: '/x' }, '/r')).toBeNull();
    expect(caSecretSource({ ca: 'certs/c.pem' }, {}, '/r')).toBe('/r/certs/c.pem');
    expect(buildSecretArgs(sample(), {}, { NODE_EXTRA_CA_CERTS: '/c.pem' })).toEqual([
      'id=SONAR_TOKEN,env=SONAR_TOKEN',
      'id=gatehouse_ca,src=/c.pem',
    ]);
  });

  test('a line break in an ENV value is refused with its config path', () => {
    const p = sample();
    p.gates[1]!.env = { OK: 'fine', BAD: 'two\nlines' };
    p.release!.env = { CR: 'a\rb' };
    const err = errorOf(() => emitDockerfile(p));
    expect(err.code).toBe('GH_DOCKERFILE_UNREPRESENTABLE');
    expect(err.diagnostics.map((d) => [d.code, d.path])).toEqual([
      ['GH_DOCKERFILE_ENV_VALUE', 'gates.lint.env.BAD'],
      ['GH_DOCKERFILE_ENV_VALUE', 'release.env.CR'],
    ]);
  });

  test('paths the builder would expand, or COPY cannot express, are refused with their config path', () => {
    const p = sample();
    p.release!.copy = ['$HOME/x', 'src/**/*.js', '../up', 'ok/'];
    p.gates[0]!.outputs = ['dist/**', 'a\nb'];
    const err = errorOf(() => emitDockerfile(p));
    expect(err.diagnostics.map((d) => d.path).sort()).toEqual(
      ['gates.build.outputs[1]', 'release.copy[0]', 'release.copy[1]', 'release.copy[2]'].sort(),
    );
  });

  test('inputs of a workspace root above the config directory (//) are refused: the build context cannot hold them', () => {
    const p = sample({ workspaceRoot: '/repo' });
    p.setup = { ...p.setup!, inputs: ['package.json', '//pnpm-lock.yaml'] };
    p.gates[1]!.inputs = ['src/**', '//tsconfig.base.json', '!//configs/old/**'];
    const err = errorOf(() => emitDockerfile(p));
    expect(err.code).toBe('GH_DOCKERFILE_UNREPRESENTABLE');
    expect(err.diagnostics.map((d) => [d.code, d.path])).toEqual([
      ['GH_DOCKERFILE_PATH', 'setup.inputs[1]'],
      ['GH_DOCKERFILE_PATH', `gates.${p.gates[1]!.id}.inputs[1]`],
      ['GH_DOCKERFILE_PATH', `gates.${p.gates[1]!.id}.inputs[2]`],
    ]);
    expect(err.diagnostics[0]!.message).toMatch(/outside the build context/);
  });

  test('a policy.baseline the build context cannot hold is refused; one it holds is copied for the judge', () => {
    const p = sample();
    p.gates[1]!.policy = { baseline: '.gatehouse/report/report.json' };
    p.gates[2]!.policy = { baseline: 'reports/*.json' };
    const err = errorOf(() => emitDockerfile(p));
    expect(err.diagnostics.map((d) => [d.code, d.path])).toEqual([
      ['GH_DOCKERFILE_PATH', `gates.${p.gates[1]!.id}.policy.baseline`],
      ['GH_DOCKERFILE_PATH', `gates.${p.gates[2]!.id}.policy.baseline`],
    ]);
    p.gates[1]!.policy = { baseline: './quality/baseline.json' };
    p.gates[2]!.policy = { baseline: 'quality/baseline.json' };
    const { dockerfile } = emitDockerfile(p);
    const copies = dockerfile
      .split('\n')
      .filter((l) => l.startsWith('COPY') && l.includes('baseline.json'));
    expect(copies).toEqual(['COPY ["quality/baseline.json", "/app/quality/baseline.json"]']);
  });

  test('setup inputs and gate outputs COPY cannot express are widened to their static directory', () => {
    const p = sample();
    p.setup!.inputs = ['package*.json', 'src/**/*.ts', 'test/**'];
    p.gates[0]!.outputs = ['dist/**/*.js'];
    const { dockerfile, dockerignore } = emitDockerfile(p);
    expect(dockerfile).toContain('COPY ["package*.json", "/app/"]');
    expect(dockerfile).toContain('COPY ["src", "/app/src"]');
    expect(dockerfile).toContain('COPY ["test", "/app/test"]');
    expect(dockerfile).toContain('COPY --from=gate-build ["/app/dis[t]", "/app/dist"]');
    expect(dockerignore.split('\n')).toContain('dist');
  });

  test('images, users and NUL bytes are checked', () => {
    const p = sample({ image: 'node:22 AS evil' });
    p.release!.user = 'node\nRUN x';
    p.gates[0]!.run = 'echo \u0000';
    const err = errorOf(() => emitDockerfile(p));
    expect(err.diagnostics.map((d) => d.path)).toEqual(
      expect.arrayContaining(['image', 'release.user', 'gates.build.run']),
    );
  });

  test('a command too long for one Dockerfile line goes to a generated script, byte for byte', () => {
    const long = 'echo start\n' + ': '.padEnd(INLINE_COMMAND_LIMIT + 10, 'x') + '\n\n';
    const p = sample();
    p.gates[1]!.run = long;
    const out = emitDockerfile(p);
    expect(out.scripts).toEqual({ '.gatehouse/docker/gate-lint.sh': long });
    expect(out.dockerfile).toContain(
      'COPY [".gatehouse/docker/gate-lint.sh", "/gatehouse/cmd/gate-lint.sh"]',
    );
    expect(out.dockerignore).toContain('!.gatehouse/docker');
    expect(Math.max(...out.dockerfile.split('\n').map((l) => l.length))).toBeLessThan(
      INLINE_COMMAND_LIMIT,
    );
    const files = plugin.targets.dockerfile.emit(p, resolveDockerfileOptions({}).value, {
      gatehouseVersion: '0.0.0',
      configFile: 'gatehouse.yml',
    });
    expect(files.map((f) => f.path)).toEqual([
      'Dockerfile',
      '.dockerignore',
      '.gatehouse/docker/gate-lint.sh',
      '.gatehouse/docker/verdict.mjs',
    ]);
    // A gate called `setup` cannot collide with setup's own command file.
    const clash = sample();
    clash.setup!.run = long;
    clash.gates.push(g('setup', { run: long + ' ' }));
    expect(Object.keys(emitDockerfile(clash).scripts).sort()).toEqual([
      '.gatehouse/docker/gate-setup.sh',
      '.gatehouse/docker/setup.sh',
    ]);
  });

  test('.dockerignore keeps inputs reachable and hides state, secrets and stale outputs', () => {
    const p = sample();
    p.gates[2]!.inputs = ['dist/fixtures/**'];
    const { dockerignore } = emitDockerfile(p);
    const lines = dockerignore.split('\n');
    expect(lines[0]).toMatch(/^# generated by gatehouse/);
    expect(lines).toEqual(
      expect.arrayContaining(['.git', '**/node_modules', '.gatehouse', '**/.env']),
    );
    // dist is an output but also (partly) an input here: it must stay in the context.
    expect(lines).not.toContain('dist');
    expect(emitDockerfile(sample()).dockerignore.split('\n')).toContain('dist');
  });
});

test('.dockerignore always leaves out the signing key `gatehouse report keygen` writes', () => {
  for (const p of [sample(), pipeline([g('only')])]) {
    const lines = emitDockerfile(p).dockerignore.split('\n');
    expect(lines).toContain('**/gatehouse-signing.key');
    // Nothing after it re-includes it.
    expect(lines.filter((l) => l.startsWith('!')).every((l) => !l.includes('signing'))).toBe(true);
  }
  // Even when a gate declares it reads everything.
  const p = sample();
  p.gates[0]!.inputs = ['**'];
  expect(emitDockerfile(p).dockerignore.split('\n')).toContain('**/gatehouse-signing.key');
});

test('.dockerignore leaves out the config file unless something declares it reads it', () => {
  const lines = (p: ReturnType<typeof sample>) =>
    emitDockerfile(p, {}, { configFile: 'ignored.yml' }).dockerignore.split('\n');
  expect(lines(sample())).toContain('gatehouse.yml');
  // The path comes from the pipeline (relative to the build context), not the header's name.
  const nested = sample();
  nested.configPath = `${nested.rootDir}/ci/gates.yml`;
  expect(lines(nested)).toContain('ci/gates.yml');
  expect(lines(nested)).not.toContain('gatehouse.yml');
  for (const reads of [
    ['gatehouse.yml'],
    ['*.yml'],
    ['**'],
    ['**/*.{yml,json}'],
    ['gatehouse.y[am]l'],
  ]) {
    const p = sample();
    p.gates[0]!.inputs = reads;
    expect(lines(p), reads.join()).not.toContain('gatehouse.yml');
  }
  const copied = sample();
  copied.release = { ...copied.release!, copy: ['dist/', 'gatehouse.yml'] };
  expect(lines(copied)).not.toContain('gatehouse.yml');
  for (const other of [['*.{js,ts}'], ['src/**'], ['gatehouse.yml.d/**']]) {
    const p = sample();
    p.gates[0]!.inputs = other;
    expect(lines(p), other.join()).toContain('gatehouse.yml');
  }
});

describe('hostile text (property-based, parsed back with dockerfile-ast)', () => {
  const base = sample();
  const baseline = parseBack(emitDockerfile(base).dockerfile);

  test('commands, release argv and ENV values round-trip and add no instruction or stage', () => {
    fc.assert(
      fc.property(hostileString(), hostileString(), hostileString(), (cmd, arg, envValue) => {
        const p = structuredClone(base);
        p.gates[1]!.run = cmd;
        p.release!.cmd = ['node', arg];
        const envOk = !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(envValue);
        if (envOk) p.gates[1]!.env = { ESLINT_USE_FLAT_CONFIG: envValue };
        const out = emitDockerfile(p);
        const back = parseBack(out.dockerfile);
        expect(back.stages).toEqual(baseline.stages);
        expect(back.instructions.map((i) => i.keyword)).toEqual(
          baseline.instructions.map((i) => i.keyword),
        );
        expect(back.comments).toBe(baseline.comments);
        const lintRun = back.instructions.find(
          (i) => i.keyword === 'RUN' && i.json?.[2]?.includes('/gatehouse/out/lint'),
        );
        if (Object.keys(out.scripts).length === 0) expect(lintRun?.json?.[4]).toBe(cmd);
        else expect(out.scripts['.gatehouse/docker/gate-lint.sh']).toBe(cmd);
        expect(back.instructions.find((i) => i.keyword === 'CMD')?.json).toEqual(['node', arg]);
        expect(/[^\x09\x0a\x20-\x7e\u2014]/.test(out.dockerfile)).toBe(
          envOk && /[^\x00-\x7f]/.test(envValue),
        );
      }),
      { numRuns: 200 },
    );
  });

  test('dockerfile-utils accepts hostile output without diagnostics', () => {
    fc.assert(
      fc.property(hostileString(), (cmd) => {
        const p = structuredClone(base);
        p.gates[0]!.run = cmd;
        expect(validate(emitDockerfile(p).dockerfile)).toEqual([]);
      }),
      { numRuns: 50 },
    );
  });
});
