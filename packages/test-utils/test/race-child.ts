// One test process asking for the browser image (see shared-image.test.ts). The
// bootstrap is a stand-in for debootstrap: it records that it ran, waits so that
// concurrent callers overlap, and writes a tiny rootfs with busybox and a fake chromium.
import { appendFile, chmod, copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBrowserImage } from '../src/browser-image.js';

const [workRoot, repository, counter, holdMs] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];

const tag = await ensureBrowserImage({
  repository,
  workRoot,
  bootstrap: async (root) => {
    await appendFile(counter, `${process.pid}\n`);
    await mkdir(join(root, 'bin'), { recursive: true });
    await copyFile('/bin/busybox', join(root, 'bin/busybox'));
    await chmod(join(root, 'bin/busybox'), 0o755);
    await symlink('busybox', join(root, 'bin/sh'));
    await mkdir(join(root, 'usr/bin'), { recursive: true });
    await writeFile(join(root, 'usr/bin/chromium'), '#!/bin/sh\necho fake-chromium\n', {
      mode: 0o755,
    });
    await new Promise((r) => setTimeout(r, Number(holdMs)));
  },
});
process.stdout.write(`${tag}\n`);
