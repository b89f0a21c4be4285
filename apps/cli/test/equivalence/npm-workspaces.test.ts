// Verdict equivalence on the npm-workspaces fixture: see suite.ts and docs/equivalence.md.
import { npmWorkspaces } from './fixtures.js';
import { equivalenceSuite } from './suite.js';

equivalenceSuite(npmWorkspaces);
