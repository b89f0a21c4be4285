import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnlyAfter, remoteCacheVariants, type CiSituation } from '@gatehouse-ci/test-utils';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

const SITUATIONS: CiSituation[] = [
  { readOnly: 'false', env: { BRANCH_NAME: 'main' } },
  {
    readOnly: 'false',
    env: { BRANCH_NAME: 'trunk', GATEHOUSE_REMOTE_CACHE_WRITE_BRANCH: 'trunk' },
  },
  { readOnly: 'true', env: { BRANCH_NAME: 'main', GATEHOUSE_REMOTE_CACHE_WRITE_BRANCH: 'trunk' } },
  // A pull request build: CHANGE_ID is set, BRANCH_NAME is PR-<n>.
  { readOnly: 'true', env: { BRANCH_NAME: 'PR-7', CHANGE_ID: '7' } },
  { readOnly: 'true', env: { BRANCH_NAME: 'main', CHANGE_ID: '7' } },
  { readOnly: 'true', env: { BRANCH_NAME: 'feature' } },
  // Not a multibranch job: no branch known, so never written.
  { readOnly: 'true', env: {} },
];

describe('jenkins: cache.remote', () => {
  it('each gate stage binds the token and is read-write only on a branch build of the write branch', async () => {
    const text = await readFile(join(fixtures, 'remote-cache', '_expected', 'Jenkinsfile'), 'utf8');
    // The mode line holds no quote or backslash, so the Groovy literal is the shell text.
    const lines = [
      ...text.matchAll(/sh '(if [^'\\]*)\\nnpx --no-install gatehouse run --only /g),
    ].map((m) => m[1]!);
    expect(lines).toHaveLength(4);
    for (const line of lines)
      for (const s of SITUATIONS)
        expect(readOnlyAfter(line, s.env), JSON.stringify(s.env)).toBe(s.readOnly);
    expect(text.match(/variable: 'GATEHOUSE_REMOTE_CACHE_TOKEN'/g)).toHaveLength(4);
  });

  it('without cache.remote (or with it false, or in docker mode) the Jenkinsfile is unchanged', async () => {
    for (const name of ['small', 'docker']) {
      const v = await remoteCacheVariants(
        plugin.targets.jenkins,
        'jenkins',
        join(fixtures, name, 'gatehouse.yml'),
      );
      expect(v.plain).not.toContain('GATEHOUSE_REMOTE_CACHE');
      expect(v.off).toBe(v.plain);
      if (name === 'docker') expect(v.on).toBe(v.plain);
    }
  });
});
