import { defineConfig } from 'vitest/config';

// One vitest run for the whole workspace; sources are resolved through the
// `gatehouse-source` export condition so tests never depend on stale dist/.
export default defineConfig({
  resolve: { conditions: ['gatehouse-source'] },
  ssr: { resolve: { conditions: ['gatehouse-source'] } },
  test: {
    include: ['{packages,plugins,apps}/*/{src,test}/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    // Shared test images are made once, before any worker starts.
    globalSetup: ['packages/test-utils/src/global-setup.ts'],
    reporters: ['default', './packages/test-utils/src/no-skip-reporter.ts'],
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
  },
});
