import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  compileTargets,
  isGatehouseError,
  loadPipeline,
  loadPlugins,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import { emitTarget, gate, pipeline } from '@gatehouse-ci/test-utils';
import plugin, {
  buildJenkinsPipeline,
  defaultCredentialsId,
  groovyString,
  printJenkinsfile,
  resolveJenkinsOptions,
  setupScript,
  type Stage,
} from '../src/index.js';
import { referenceLayers } from './semantics.js';

const opts = (o: Record<string, unknown> = {}) => resolveJenkinsOptions(o).value;
const validateJenkinsOptions = (o: Record<string, unknown>) => resolveJenkinsOptions(o).diagnostics;

/** The Jenkinsfile as `gatehouse compile` writes it: options resolved, then emitted. */
function emitJenkinsfile(
  p: ResolvedPipeline,
  options: Record<string, unknown>,
  configFile: string,
) {
  const [file] = emitTarget(plugin.targets.jenkins, p, options, {
    gatehouseVersion: '0.0.0',
    configFile,
  });
  return file!;
}

function diamond(): ResolvedPipeline {
  return pipeline(
    [
      gate('build'),
      gate('lint', { mode: 'advisory', secrets: ['SONAR_TOKEN'] }),
      gate('a11y', { needs: ['build'], timeoutMs: 90_000 }),
      gate('unit', { needs: ['build'], env: { NODE_ENV: 'test' } }),
      gate('e2e', { needs: ['a11y', 'unit'] }),
    ],
    { setup: { run: 'npm ci', inputs: [], env: {}, secrets: ['NPM_TOKEN'], timeoutMs: 1_800_000 } },
  );
}

describe('groovyString', () => {
  it('writes single-quoted, printable-ASCII literals', () => {
    expect(groovyString('plain')).toBe("'plain'");
    expect(groovyString("it's")).toBe("'it\\'s'");
    expect(groovyString('a\\b')).toBe("'a\\\\b'");
    expect(groovyString('${x} $1 "q"')).toBe('\'${x} $1 "q"\'');
    expect(groovyString('l1\nl2\r\n\t')).toBe("'l1\\nl2\\r\\n\\t'");
    expect(groovyString('\u0085\u2028\ufeff\u00e9')).toBe("'\\u0085\\u2028\\ufeff\\u00e9'");
    expect(groovyString('😀')).toBe("'\\ud83d\\ude00'");
    expect(groovyString('\u007f\u0001')).toBe("'\\u007f\\u0001'");
  });

  it('doubles a backslash before text that looks like a unicode escape', () => {
    expect(groovyString('\\u0027')).toBe("'\\\\u0027'");
    expect(groovyString("\\'''")).toBe("'\\\\\\'\\'\\''");
  });

  it('refuses NUL, lone surrogates and U+FFFF instead of altering them', () => {
    for (const bad of ['a\u0000b', 'x\ud800', '\udc00y', 'end\uffff']) {
      let caught: unknown;
      try {
        groovyString(bad);
      } catch (e) {
        caught = e;
      }
      expect(isGatehouseError(caught) && caught.code).toBe('GH_TARGET_EMIT');
    }
  });

  it('only ever emits printable ASCII', () => {
    let all = '';
    for (let c = 1; c < 0xd800; c++) all += String.fromCharCode(c);
    for (let c = 0xe000; c < 0xffff; c++) all += String.fromCharCode(c);
    expect(groovyString(all)).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('options', () => {
  it('accepts the documented options', () => {
    const o = {
      path: 'ci/Jenkinsfile',
      mode: 'docker',
      cli: 'node node_modules/.bin/gatehouse',
      agent: { label: 'linux && docker', docker: 'node:22-bookworm-slim' },
      credentials: { SONAR_TOKEN: 'sonarqube-token' },
      checkout_dir: 'apps/ci',
    };
    expect(validateJenkinsOptions(o)).toEqual([]);
    expect(resolveJenkinsOptions(o).value).toEqual(o);
  });

  it('defaults', () => {
    expect(resolveJenkinsOptions({}).value).toEqual({
      path: 'Jenkinsfile',
      mode: 'native',
      cli: 'npx --no-install gatehouse',
      checkout_dir: null,
      agent: {},
      credentials: {},
    });
  });

  const bad: Array<[string, Record<string, unknown>, string, string]> = [
    ['unknown key with a suggestion', { mdoe: 'docker' }, 'mdoe', 'GH_UNKNOWN_KEY'],
    ['bad mode', { mode: 'kubernetes' }, 'mode', 'GH_TARGET_OPTIONS'],
    ['absolute path', { path: '/etc/Jenkinsfile' }, 'path', 'GH_TARGET_OPTIONS'],
    ['path escaping the root', { path: '../Jenkinsfile' }, 'path', 'GH_TARGET_OPTIONS'],
    ['cli with shell syntax', { cli: 'gatehouse; rm -rf /' }, 'cli', 'GH_TARGET_OPTIONS'],
    ['agent not a mapping', { agent: 'linux' }, 'agent', 'GH_TARGET_OPTIONS'],
    ['unknown agent key', { agent: { lable: 'x' } }, 'agent.lable', 'GH_UNKNOWN_KEY'],
    [
      'agent label with a newline',
      { agent: { label: 'a\nb' } },
      'agent.label',
      'GH_TARGET_OPTIONS',
    ],
    ['empty docker image', { agent: { docker: ' ' } }, 'agent.docker', 'GH_TARGET_OPTIONS'],
    [
      'credentials not a mapping',
      { credentials: ['SONAR_TOKEN'] },
      'credentials',
      'GH_TARGET_OPTIONS',
    ],
    [
      'credentials key not a secret name',
      { credentials: { 'sonar-token': 'x' } },
      'credentials.sonar-token',
      'GH_TARGET_OPTIONS',
    ],
    [
      'credentials id not a string',
      { credentials: { SONAR_TOKEN: 3 } },
      'credentials.SONAR_TOKEN',
      'GH_TARGET_OPTIONS',
    ],
  ];
  it.each(bad)('rejects %s', (_name, options, path, code) => {
    const d = validateJenkinsOptions(options);
    expect(d.map((x) => [x.path, x.code])).toContainEqual([path, code]);
    expect(d.every((x) => x.severity === 'error' && x.loc === null)).toBe(true);
  });

  it('suggests the option that was meant', () => {
    expect(validateJenkinsOptions({ credentails: {} })[0]?.hint).toContain('credentials');
  });

  it('emit refuses invalid options with the diagnostics', () => {
    expect(() => emitJenkinsfile(diamond(), { mode: 'k8s' }, 'gatehouse.yml')).toThrow(/mode/);
  });

  it('derives credentials ids in lower kebab case', () => {
    expect(defaultCredentialsId('SONAR_TOKEN')).toBe('sonar-token');
    expect(defaultCredentialsId('_A__B_')).toBe('a-b');
    expect(defaultCredentialsId('_')).toBe('_');
  });
});

describe('model', () => {
  const names = (stages: Stage[]) =>
    stages.map((s) => (s.body.kind === 'parallel' ? s.body.stages.map((b) => b.name) : s.name));

  it('maps the DAG to its topological layers after a setup stage', () => {
    const p = diamond();
    const m = buildJenkinsPipeline(p, opts());
    expect(names(m.stages)).toEqual([
      'Clean results',
      'Setup',
      ['build', 'lint'],
      ['a11y', 'unit'],
      'e2e',
    ]);
    expect(referenceLayers(p.gates)).toEqual([['build', 'lint'], ['a11y', 'unit'], ['e2e']]);
    expect(m.stages[2]?.name).toBe('Gates 1');
  });

  it('wraps advisory gates in catchError and binds secrets with withCredentials', () => {
    const m = buildJenkinsPipeline(diamond(), opts({ credentials: { SONAR_TOKEN: 'sonarqube' } }));
    const layer = m.stages[2]?.body;
    const lint =
      layer?.kind === 'parallel' ? layer.stages.find((s) => s.name === 'lint') : undefined;
    expect(lint?.body).toEqual({
      kind: 'steps',
      steps: [
        {
          kind: 'catchError',
          buildResult: 'SUCCESS',
          stageResult: 'UNSTABLE',
          steps: [
            {
              kind: 'withCredentials',
              bindings: [{ kind: 'string', credentialsId: 'sonarqube', variable: 'SONAR_TOKEN' }],
              // build runs beside it: `--only` runs share the workspace, so no --wait
              steps: [
                {
                  kind: 'sh',
                  script:
                    'npx --no-install gatehouse run --only lint --result-file gatehouse-results/lint.json',
                },
              ],
            },
          ],
        },
      ],
    });
    const setup = m.stages[1];
    expect(setup?.body).toEqual({
      kind: 'steps',
      steps: [
        {
          kind: 'withCredentials',
          bindings: [{ kind: 'string', credentialsId: 'npm-token', variable: 'NPM_TOKEN' }],
          steps: [{ kind: 'sh', script: 'npm ci' }],
        },
      ],
    });
  });

  it('sets stage timeouts from gate timeouts (ceil minutes + 1), never a lock wait, and a pipeline timeout', () => {
    const m = buildJenkinsPipeline(diamond(), opts());
    const layer = m.stages[3]?.body;
    const stage = (id: string) =>
      layer?.kind === 'parallel' ? layer.stages.find((s) => s.name === id) : undefined;
    // a11y: 90 s = 2 min, + 1; its sibling unit runs beside it, not before it
    expect(stage('a11y')?.options).toEqual([{ kind: 'timeout', minutes: 3 }]);
    expect(stage('unit')?.options).toEqual([{ kind: 'timeout', minutes: 11 }]);
    for (const s of m.stages.flatMap((x) => (x.body.kind === 'parallel' ? x.body.stages : [x]))) {
      expect(s.body).not.toMatchObject({
        steps: [{ kind: 'sh', script: expect.stringContaining('--wait') }],
      });
    }
    expect(m.stages[4]?.options).toEqual([{ kind: 'timeout', minutes: 11 }]);
    // setup 30 + the longest stage of each layer (11 + 11 + 11) + report 10
    expect(m.options).toEqual([{ kind: 'timeout', minutes: 73 }]);
  });

  it('docker mode builds result-<id>, checks the exit code, and has no setup stage', () => {
    const m = buildJenkinsPipeline(diamond(), opts({ mode: 'docker' }));
    expect(names(m.stages)).toEqual(['Clean results', ['build', 'lint'], ['a11y', 'unit'], 'e2e']);
    const e2e = m.stages[3];
    expect(e2e?.environment).toBeUndefined();
    const body = e2e?.body;
    const cred = body?.kind === 'steps' ? body.steps[0] : undefined;
    expect(cred?.kind).toBe('withCredentials');
    const scripts =
      cred?.kind === 'withCredentials'
        ? cred.steps.map((s) => (s.kind === 'sh' ? s.script : ''))
        : [];
    expect(scripts[0]).toBe(
      'DOCKER_BUILDKIT=1 docker build -f Dockerfile --target result-e2e --secret id=NPM_TOKEN,env=NPM_TOKEN -o type=local,dest=gatehouse-results/docker .',
    );
    expect(scripts[1]).toContain('gatehouse-results/docker/e2e/result.json');
  });

  it('uses the agent option', () => {
    expect(buildJenkinsPipeline(diamond(), opts({ agent: { label: 'linux' } })).agent).toEqual({
      kind: 'label',
      label: 'linux',
    });
    expect(
      buildJenkinsPipeline(diamond(), opts({ agent: { docker: 'node:22', label: 'docker' } }))
        .agent,
    ).toEqual({
      kind: 'docker',
      image: 'node:22',
      label: 'docker',
    });
    expect(buildJenkinsPipeline(diamond(), opts()).agent).toEqual({ kind: 'any' });
  });

  it('refuses a pipeline without gates', () => {
    expect(() => buildJenkinsPipeline(pipeline([]), opts())).toThrow(/no gates/);
  });
});

describe('target', () => {
  it('starts with the generated header and is deterministic', () => {
    const [file] = plugin.targets.jenkins.emit(diamond(), opts(), {
      gatehouseVersion: '0.0.0',
      configFile: 'gatehouse.yml',
    });
    expect(file?.path).toBe('Jenkinsfile');
    expect(file?.contents.split('\n')[0]).toBe(
      '// generated by gatehouse from gatehouse.yml — do not edit; run `gatehouse compile`',
    );
    expect(emitJenkinsfile(diamond(), {}, 'gatehouse.yml').contents).toBe(file?.contents);
  });

  it('keeps a hostile config file name inside the header comment', () => {
    const text = emitJenkinsfile(diamond(), {}, 'x\n\\u000a}\u2028pipeline {').contents;
    expect(text.split('\n')[0]).toMatch(
      /^\/\/ generated by gatehouse from [A-Za-z0-9._/_-]+ — do not edit/,
    );
    expect(text.split('\n')[1]).toBe('pipeline {');
  });

  it('refuses a NUL in a command instead of emitting it', () => {
    const p = diamond();
    p.setup!.run = 'npm ci\u0000';
    expect(() => emitJenkinsfile(p, {}, 'gatehouse.yml')).toThrow(/NUL/);
  });

  it('locates U+FFFF in setup.run, setup.env and agent options in the config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-jenkins-'));
    try {
      const config = join(dir, 'gatehouse.yml');
      await writeFile(
        config,
        [
          'version: 1',
          'name: shop',
          'setup:',
          '  run: "npm ci\\uFFFF"',
          '  env:',
          '    GREETING: "hi\\uFFFF"',
          'gates:',
          '  lint: { run: npm run lint }',
          'targets:',
          '  jenkins: {}',
          '',
        ].join('\n'),
      );
      const p = await loadPipeline(config, { displayPath: 'gatehouse.yml' });
      expect(p.setup!.env.GREETING).toBe('hi\uffff');
      const registry = await loadPlugins(p, [plugin]);
      let caught: unknown;
      try {
        compileTargets(p, registry, { gatehouseVersion: '0.0.0', configFile: 'gatehouse.yml' });
      } catch (e) {
        caught = e;
      }
      if (!isGatehouseError(caught)) throw new Error('expected a GatehouseError');
      const found = caught.diagnostics.map((d) => ({
        code: d.code,
        path: d.path,
        at: d.loc && `${d.loc.file}:${d.loc.line}:${d.loc.column}`,
        says: /U\+FFFF/.test(d.message),
      }));
      expect(found).toEqual([
        { code: 'GH_TARGET_EMIT', path: 'setup.run', at: 'gatehouse.yml:4:8', says: true },
        {
          code: 'GH_TARGET_EMIT',
          path: 'setup.env.GREETING',
          at: 'gatehouse.yml:6:15',
          says: true,
        },
      ]);
      // Docker mode writes no setup script: nothing to refuse there.
      expect(() => emitJenkinsfile(p, { mode: 'docker' }, 'gatehouse.yml')).not.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(validateJenkinsOptions({ agent: { label: 'linux\uffff' } })).toEqual([
      expect.objectContaining({ code: 'GH_TARGET_OPTIONS', path: 'agent.label' }),
    ]);
  });

  it('never writes a secret value', () => {
    const canary = 'canary-5f0c2a1e-secret-value';
    const previous = process.env.SONAR_TOKEN;
    process.env.SONAR_TOKEN = canary;
    try {
      expect(emitJenkinsfile(diamond(), {}, 'gatehouse.yml').contents).not.toContain(canary);
      expect(
        emitJenkinsfile(diamond(), { mode: 'docker' }, 'gatehouse.yml').contents,
      ).not.toContain(canary);
    } finally {
      if (previous === undefined) delete process.env.SONAR_TOKEN;
      else process.env.SONAR_TOKEN = previous;
    }
  });

  it('prints nothing but ASCII after the header line', () => {
    const p = diamond();
    p.setup!.run = 'echo "héllo\u2028wörld" 😀';
    const body = printJenkinsfile(buildJenkinsPipeline(p, opts()));
    expect(body).toMatch(/^[\x20-\x7e\n]+$/);
  });
});

describe('environment', () => {
  it('keeps user values out of environment blocks: setup env is exported in the setup script', () => {
    const p = diamond();
    p.setup!.env = { B_VAR: "it's $HOME", A_VAR: 'plain' };
    const m = buildJenkinsPipeline(p, opts());
    expect(m.stages.every((s) => s.environment === undefined)).toBe(true);
    expect(m.stages[1]?.body).toMatchObject({
      steps: [
        {
          kind: 'withCredentials',
          steps: [
            { kind: 'sh', script: "export A_VAR=plain\nexport B_VAR='it'\\''s $HOME'\nnpm ci" },
          ],
        },
      ],
    });
    expect(setupScript('npm ci', {})).toBe('npm ci');
  });

  it('leaves gate env to the CLI', () => {
    const m = buildJenkinsPipeline(diamond(), opts());
    const layer = m.stages[3]?.body;
    const unit =
      layer?.kind === 'parallel' ? layer.stages.find((s) => s.name === 'unit') : undefined;
    expect(unit).toBeDefined();
    expect(unit?.environment).toBeUndefined();
  });
});
