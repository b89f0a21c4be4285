import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { requireDocker } from './docker.js';
import { ensureBrowserImage } from './browser-image.js';

const docker = await requireDocker('the browser image test');

describe.skipIf(!docker)('ensureBrowserImage', () => {
  it(
    'builds an image where node, npm and headless chromium run',
    { timeout: 900_000 },
    async () => {
      const tag = await ensureBrowserImage();
      const out = execFileSync(
        'docker',
        [
          'run',
          '--rm',
          tag,
          'sh',
          '-c',
          'node -e "console.log(process.version)" && npm --version && ' +
            'chromium --headless --no-sandbox --disable-gpu --dump-dom "data:text/html,<p>ok-from-chromium</p>" 2>/dev/null && id node',
        ],
        { encoding: 'utf8' },
      );
      expect(out).toContain(process.version);
      expect(out).toContain('ok-from-chromium');
      expect(out).toMatch(/uid=1000\(node\)/);
    },
  );
});
