/**
 * The `.dockerignore`: what never reaches the builder (VCS data, dependencies, local state,
 * secrets, the generated files themselves) and the gates' outputs, which gates produce
 * inside the build.
 */
import { globNames, type ResolvedPipeline } from '@gatehouse-ci/core';
import { SCRIPTS_DIR, SIGNING_KEY_FILE } from './layout.js';
import { copySpecProblem, ignorePattern } from './paths.js';

/** Characters a `.dockerignore` line may hold without meaning more than the file itself. */
const PLAIN_IGNORE_PATH = /^[A-Za-z0-9_.-][A-Za-z0-9_./-]*$/;

/**
 * The config file, unless setup, a gate or the release declares it reads it: no gate needs
 * it (the stages carry the commands), and in the context every edit of it, a comment too,
 * would change setup's `COPY . .` and so rerun every gate.
 */
function configIgnore(pipeline: ResolvedPipeline, configFile: string): string[] {
  if (!PLAIN_IGNORE_PATH.test(configFile)) return [];
  const reads = [
    ...(pipeline.setup?.inputs ?? []),
    ...pipeline.gates.flatMap((g) => g.inputs),
    ...(pipeline.release?.copy ?? []),
  ];
  const mayRead = (glob: string): boolean => {
    try {
      return globNames(glob, configFile);
    } catch {
      return true; // an unreadable glob (unbalanced `{`) might name it
    }
  };
  if (reads.some(mayRead)) return [];
  return [configFile];
}

/** The `.dockerignore` lines for a pipeline, `header` (the generated header) first. */
export function dockerignoreLines(
  pipeline: ResolvedPipeline,
  header: string,
  dockerfilePath: string,
  configFile: string,
): string[] {
  const inputs = new Set<string>();
  for (const g of [...(pipeline.setup?.inputs ?? []), ...pipeline.gates.flatMap((g) => g.inputs)]) {
    if (copySpecProblem(g, true) === null) {
      const pat = ignorePattern(g);
      if (pat !== null) inputs.add(pat);
    }
  }
  const outputs = new Set<string>();
  for (const g of pipeline.gates.flatMap((x) => x.outputs)) {
    if (copySpecProblem(g, true) !== null) continue;
    const pat = ignorePattern(g);
    // Never hide something a gate or setup reads.
    if (
      pat !== null &&
      ![...inputs].some((i) => i === pat || i.startsWith(pat + '/') || pat.startsWith(i + '/'))
    ) {
      outputs.add(pat);
    }
  }
  const lines = [
    `# ${header}`,
    '# Never sent to the builder: VCS data, installed dependencies, local state and secrets.',
    '.git',
    '**/node_modules',
    '.gatehouse',
    `!${SCRIPTS_DIR}`,
    '**/.env',
    '**/.env.local',
    '**/.env.*.local',
    // The private key `gatehouse report keygen` writes: never readable by a gate or cached by BuildKit.
    `**/${SIGNING_KEY_FILE}`,
    dockerfilePath,
    '.dockerignore',
    ...configIgnore(pipeline, configFile),
    'gatehouse-results',
    'gatehouse-report',
  ];
  if (outputs.size > 0) {
    lines.push(
      '# Gate outputs: gates produce these inside the build; a stale local copy must not leak in.',
    );
    lines.push(...[...outputs].sort());
  }
  return lines;
}
