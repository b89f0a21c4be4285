// Node 20 refuses `import x from './x.json'` without an import attribute; @actions/workflow-parser
// ships such imports. This hook adds `with { type: 'json' }` to .json imports that lack it.
import { register } from 'node:module';

register('./json-loader.mjs', import.meta.url);
