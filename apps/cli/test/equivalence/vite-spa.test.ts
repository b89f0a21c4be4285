// Verdict equivalence on the vite-spa fixture: see suite.ts and docs/equivalence.md.
import { viteSpa } from './fixtures.js';
import { equivalenceSuite } from './suite.js';

equivalenceSuite(viteSpa);
