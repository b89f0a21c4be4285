// Bundles the judge that the generated Dockerfile's verdict stage runs (src/docker-verdict-main.ts)
// into one dependency-free file, dist/docker-verdict.mjs. The dockerfile target emits it
// next to the Dockerfile, so a plain `docker build .` judges with this package's code.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// The JUnit reader loads its XML parser lazily through createRequire, which a bundle cannot
// follow: in the bundle it becomes a static import. Fails the build if the call moved.
const LAZY_XML = /createRequire\(import\.meta\.url\)\(\s*'fast-xml-parser',?\s*\)/;
const staticXml = {
  name: 'static-fast-xml-parser',
  setup(b) {
    b.onLoad({ filter: /evidence[\\/]junit\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!LAZY_XML.test(text))
        throw new Error(`${args.path}: the lazy fast-xml-parser load moved`);
      return {
        contents: `import * as __fastXml from 'fast-xml-parser';\n${text.replace(LAZY_XML, '__fastXml')}`,
        loader: 'ts',
      };
    });
  },
};

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ['src/docker-verdict-main.ts'],
  outfile: 'dist/docker-verdict.mjs',
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'esm',
  conditions: ['gatehouse-source'],
  minify: true,
  legalComments: 'none',
  // Same input, same bytes: the file is committed with the Dockerfile and checked for drift.
  banner: { js: '// gatehouse verdict judge (bundled from @gatehouse-ci/report) — do not edit' },
  plugins: [staticXml],
  logLevel: 'warning',
});
