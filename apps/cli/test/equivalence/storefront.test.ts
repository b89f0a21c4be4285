// Verdict equivalence on the storefront fixture: see suite.ts and docs/equivalence.md.
import { storefront } from './fixtures.js';
import { equivalenceSuite } from './suite.js';

equivalenceSuite(storefront);
