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
    // Fixtures install their dependencies many times over. A package already in the npm cache
    // is taken from it without asking the registry again, and a stalled request is retried
    // after a minute rather than waited on for npm's default five: the registry's bad
    // minutes must not decide a verdict cell.
    env: {
      npm_config_prefer_offline: 'true',
      npm_config_fetch_timeout: '60000',
      npm_config_fetch_retries: '6',
      npm_config_fetch_retry_mintimeout: '2000',
      npm_config_fetch_retry_maxtimeout: '120000',
    },
    // Shared test images are made once, before any worker starts.
    globalSetup: ['packages/test-utils/src/global-setup.ts'],
    reporters: ['default', './packages/test-utils/src/no-skip-reporter.ts'],
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
  },
});
