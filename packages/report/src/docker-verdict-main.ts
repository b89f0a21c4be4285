/**
 * Entry point of the bundled judge the generated Dockerfile's verdict stage runs:
 *   node verdict.mjs SPEC RESULTS_DIR VERDICT_TXT
 * SPEC is the spec's JSON text itself (it starts with `{`) or the path of a file holding it.
 * Prints each gate's status and the verdict's reasons, writes `passed` or
 * `failed: <ids>` to VERDICT_TXT, and exits 1 when the verdict failed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { judgeDockerResults, type DockerVerdictSpec } from './docker-verdict.js';

const [specPath, resultsDir, verdictPath] = process.argv.slice(2);
if (!specPath || !resultsDir || !verdictPath) {
  process.stderr.write('usage: node verdict.mjs SPEC_JSON|SPEC_FILE RESULTS_DIR VERDICT_TXT\n');
  process.exit(2);
}
const spec = JSON.parse(
  specPath.startsWith('{') ? specPath : readFileSync(specPath, 'utf8'),
) as DockerVerdictSpec;
const { gates, verdict } = await judgeDockerResults(spec, resultsDir);
for (const g of gates)
  process.stderr.write(
    `gatehouse: ${g.id} ${g.status}${g.mode === 'advisory' ? ' (advisory)' : ''}${g.reason ? `: ${g.reason}` : ''}\n`,
  );
// The gates named by the verdict's reasons that are not warnings.
const failed = verdict.reasons
  .map((r) => /^(?:blocking gate|result of gate) ([a-z][a-z0-9-]*)\b/.exec(r)?.[1])
  .filter((id): id is string => id !== undefined);
writeFileSync(
  verdictPath,
  verdict.status === 'passed' ? 'passed\n' : `failed:${failed.map((id) => ` ${id}`).join('')}\n`,
);
for (const r of verdict.reasons) process.stderr.write(`gatehouse: ${r}\n`);
process.stderr.write(`gatehouse: verdict ${verdict.status}\n`);
process.exit(verdict.status === 'passed' ? 0 : 1);
