/** The release image of an app of an npm workspace: see `release-deploy-cases.ts`. */
import { fileURLToPath } from 'node:url';
import { ensureBaseImage } from '@gatehouse-ci/test-utils';
import { releaseDeployTests } from './release-deploy-cases.js';

await releaseDeployTests({
  manager: 'npm',
  fixture: fileURLToPath(new URL('./release-npm-workspace', import.meta.url)),
  setupRun: 'npm ci --offline --no-audit --no-fund',
  setupInputs:
    '[package.json, package-lock.json, packages/admin/package.json, packages/utils/package.json, packages/web/package.json, vendor/*.tgz]',
  baseImage: () => ensureBaseImage(),
});
