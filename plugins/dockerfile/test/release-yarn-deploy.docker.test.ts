/**
 * The release image of an app of a yarn classic workspace, on the test image with the host's
 * yarn 1.22 (see `release-deploy-cases.ts`): the `release-yarn-workspace/` fixture holds the apps
 * of the npm fixture, installed by `yarn install --frozen-lockfile --offline` from vendored
 * tarballs. yarn hoisted `tiny-color@1` (admin's, and tiny-ms's) and put web's own `tiny-color@2`
 * in `packages/web/node_modules`: Gatehouse's deploy reads that installed tree.
 */
import { fileURLToPath } from 'node:url';
import { ensureBaseImage, hostYarnDir } from '@gatehouse-ci/test-utils';
import { releaseDeployTests } from './release-deploy-cases.js';

await releaseDeployTests({
  manager: 'yarn',
  fixture: fileURLToPath(new URL('./release-yarn-workspace', import.meta.url)),
  setupRun: 'yarn install --frozen-lockfile --offline --non-interactive',
  setupInputs:
    '[package.json, yarn.lock, packages/admin/package.json, packages/utils/package.json, packages/web/package.json, vendor/*.tgz]',
  baseImage: async () => ensureBaseImage({ yarn: await hostYarnDir() }),
});
