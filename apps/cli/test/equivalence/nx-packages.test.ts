// Verdict equivalence on the nx-packages fixture: see suite.ts and docs/equivalence.md.
import { nxPackages } from './fixtures.js';
import { equivalenceSuite } from './suite.js';

equivalenceSuite(nxPackages);
