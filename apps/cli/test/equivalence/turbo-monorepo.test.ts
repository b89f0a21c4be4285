// Verdict equivalence on the turbo-monorepo fixture: see suite.ts and docs/equivalence.md.
import { turboMonorepo } from './fixtures.js';
import { equivalenceSuite } from './suite.js';

equivalenceSuite(turboMonorepo);
