import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { afterAll, describe, expect, it } from 'vitest';
import { gate, pipeline } from '@gatehouse-ci/test-utils';
import { BuildProgress, contextEntries, executeDocker, parseVertexName } from '../src/index.js';
import { redactor } from '../src/redact.js';
import { virtualModTime } from '../src/filesync.js';

const require = createRequire(import.meta.url);
const StatusResponse = protobuf
  .loadSync(
    join(dirname(require.resolve('dockerode/package.json')), 'lib/proto/buildkit_status.proto'),
  )
  .lookupType('moby.buildkit.v1.StatusResponse');

function traceLine(status: object): string {
  const aux = Buffer.from(
    StatusResponse.encode(StatusResponse.fromObject(status)).finish(),
  ).toString('base64');
  return JSON.stringify({ id: 'moby.buildkit.trace', aux }) + '\n';
}
const ts = (s: number) => ({ seconds: s, nanos: 0 });

describe('parseVertexName', () => {
  it('splits stage and instruction', () => {
    expect(parseVertexName('[gate-lint 3/3] RUN ["/bin/sh","-c","x"]')).toEqual({
      stage: 'gate-lint',
      instruction: 'RUN ["/bin/sh","-c","x"]',
    });
    expect(parseVertexName('[ 2/3] COPY a b')).toEqual({ stage: null, instruction: 'COPY a b' });
    expect(parseVertexName('[internal] load metadata')).toEqual({
      stage: null,
      instruction: '[internal] load metadata',
    });
    expect(parseVertexName('[setup 1/2] RUN x\ny')).toEqual({
      stage: 'setup',
      instruction: 'RUN x\ny',
    });
  });
});

describe('BuildProgress', () => {
  it('attributes vertexes to stages, tells ran from cached, and keeps the error line', () => {
    const starts: string[] = [];
    const logs: string[] = [];
    const p = new BuildProgress({
      stageStart: (s) => starts.push(s),
      stageLog: (s, _k, t) => logs.push(`${s}:${t}`),
    });
    const a = { digest: 'sha256:a', name: '[gate-a 2/2] RUN ["/bin/sh"]', started: ts(10) };
    const b = {
      digest: 'sha256:b',
      name: '[gate-b 2/2] RUN ["/bin/sh"]',
      started: ts(10),
      completed: ts(10),
      cached: true,
    };
    const chunk =
      traceLine({ vertexes: [a, b] }) +
      traceLine({
        vertexes: [{ ...a, completed: ts(12) }],
        logs: [{ vertex: 'sha256:a', stream: 1, msg: Buffer.from('hello') }],
      });
    // Lines split across chunks must still parse.
    p.write(chunk.slice(0, 17));
    p.write(chunk.slice(17));
    p.write('{"errorDetail":{"message":"executor failed"},"error":"executor failed"}');
    const out = p.end();
    expect(starts).toEqual(['gate-a']);
    expect(logs).toEqual(['gate-a:hello']);
    expect(p.stageRuns('gate-a')).toEqual({ state: 'ran', digest: 'sha256:a' });
    expect(p.stageRuns('gate-b')).toEqual({ state: 'cached', digest: 'sha256:b' });
    expect(p.stageRuns('gate-c').state).toBe('absent');
    expect(out.error).toBe('executor failed');
    expect(out.vertexes.get('sha256:a')?.completed?.getTime()).toBe(12_000);
  });
});

describe('the CA bundle', () => {
  it('is never read from outside the project: refused before the engine is asked', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gh-ca-'));
    const outside = await mkdtemp(join(tmpdir(), 'gh-ca-out-'));
    try {
      await writeFile(join(outside, 'id_ed25519'), '-----BEGIN OPENSSH PRIVATE KEY-----\n');
      await mkdir(join(root, 'certs'));
      await symlink(join(outside, 'id_ed25519'), join(root, 'certs', 'corp.pem'));
      const p = pipeline([gate('lint')], {
        rootDir: root,
        configPath: join(root, 'gatehouse.yml'),
        targets: { dockerfile: { ca: 'certs/corp.pem' } },
      });
      const events: string[] = [];
      const err = await executeDocker(p, {
        gates: [],
        concurrency: 1,
        failFast: false,
        noCache: false,
        // No engine there: the CA check must come first.
        env: { DOCKER_HOST: `unix://${join(root, 'no-engine.sock')}` },
        signal: new AbortController().signal,
        onEvent: (e) => events.push(e.type),
        stateDir: join(root, '.gatehouse'),
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({
        code: 'GH_CA_PATH',
        message: expect.stringContaining('outside the project'),
        diagnostics: [expect.objectContaining({ path: 'targets.dockerfile.ca' })],
      });
      expect(events).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('build context', () => {
  let dir = '';
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('honours .dockerignore (with re-includes) and never sends .gatehouse/', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gh-ctx-'));
    for (const f of [
      'src/a.ts',
      'node_modules/x/i.js',
      'keep/node_modules/y.js',
      '.gatehouse/runs/1/log',
      'notes.md',
      'docs/keep.md',
    ]) {
      await mkdir(dirname(join(dir, f)), { recursive: true });
      await writeFile(join(dir, f), f);
    }
    await symlink('src/a.ts', join(dir, 'link'));
    await writeFile(join(dir, '.dockerignore'), 'this file is replaced\n');
    const ignore = '# comment\nnode_modules\n*.md\n!docs/keep.md\n';
    expect(await contextEntries(dir, ignore)).toEqual([
      'docs',
      'docs/keep.md',
      'keep',
      'keep/node_modules',
      'keep/node_modules/y.js',
      'link',
      'src',
      'src/a.ts',
    ]);
  });
});

describe('redactor', () => {
  it('replaces every occurrence, longest value first', () => {
    const r = redactor(['abc', 'abcdef', '']);
    expect(r('x abcdef y abc z')).toBe('x *** y *** z');
    expect(redactor([])('same')).toBe('same');
  });
});

describe('virtualModTime (files served from memory)', () => {
  it('is the same for the same bytes and differs for a same-length edit', () => {
    const a = virtualModTime(Buffer.from('RUN ["/bin/sh","-c","exit 0"]'));
    expect(virtualModTime(Buffer.from('RUN ["/bin/sh","-c","exit 0"]'))).toBe(a);
    expect(virtualModTime(Buffer.from('RUN ["/bin/sh","-c","exit 3"]'))).not.toBe(a);
    expect(Number.isSafeInteger(a) && a >= 0).toBe(true);
  });
});
