// Verdict equivalence on the yarn-workspaces fixture: see suite.ts and docs/equivalence.md.
import { yarnWorkspaces } from './fixtures.js';
import { equivalenceSuite } from './suite.js';

equivalenceSuite(yarnWorkspaces);
