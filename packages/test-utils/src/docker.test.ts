import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ensureBaseImage, hostYarnDir, requireDocker } from './docker.js';

const run = promisify(execFile);
const hasDocker = await requireDocker('the test base image tests');

async function inImage(tag: string, args: string[]): Promise<string> {
  const { stdout } = await run('docker', ['run', '--rm', tag, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return stdout;
}

describe.skipIf(!hasDocker)('ensureBaseImage', () => {
  it('builds a reusable tag with node, npm, a shell and timeout', async () => {
    const tag = await ensureBaseImage();
    expect(tag).toMatch(/^gatehouse-test-base:[0-9a-f]{16}$/);
    expect(await ensureBaseImage()).toBe(tag);

    expect((await inImage(tag, ['node', '-e', 'console.log(1 + 1)'])).trim()).toBe('2');
    expect((await inImage(tag, ['sh', '-c', 'timeout 1 sleep 2; echo $?'])).trim()).toBe('124');
    expect((await inImage(tag, ['sh', '-c', 'busybox timeout 1 sleep 2; echo $?'])).trim()).toBe(
      '143',
    );
    expect((await inImage(tag, ['/usr/bin/env', 'sh', '-c', 'echo ok'])).trim()).toBe('ok');
    expect((await inImage(tag, ['date', '-u', '+%Y-%m-%dT%H:%M:%S.%3NZ'])).trim()).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );
    expect((await inImage(tag, ['npm', '--version'])).trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(
      (
        await inImage(tag, [
          'sh',
          '-c',
          'id -u node; stat -c %a /tmp; test -s /etc/ssl/certs/ca-certificates.crt && echo ca',
        ])
      ).split('\n'),
    ).toEqual(['1000', '1777', 'ca', '']);
  }, 600_000);

  it("with the host's yarn: `yarn` runs Yarn classic, in an image of its own tag", async () => {
    const plain = await ensureBaseImage();
    const tag = await ensureBaseImage({ yarn: await hostYarnDir() });
    expect(tag).not.toBe(plain);
    expect((await inImage(tag, ['yarn', '--version'])).trim()).toMatch(/^1\.\d+\.\d+$/);
    expect((await inImage(tag, ['yarnpkg', '--version'])).trim()).toMatch(/^1\.\d+\.\d+$/);
    await expect(inImage(plain, ['sh', '-c', 'command -v yarn'])).rejects.toThrow();
  }, 600_000);
});
