/**
 * The user text a Buildkite pipeline cannot carry safely, as located diagnostics: `emit`
 * refuses the pipeline when there is any.
 */
import {
  ciDockerModeProblem,
  ciUserTexts,
  isPlainArtifactGlob,
  type Diagnostic,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import type { BuildkiteOptions } from './options.js';

// An odd run of backslashes right before `$`: the agent would eat one backslash.
const ODD_BACKSLASH_DOLLAR = /(?<!\\)(?:\\\\)*\\\$/;

/**
 * Every place user text lands in the pipeline, checked at once: text the agent's upload-time
 * interpolation would change, and artifact paths it would split. Paths are config paths.
 */
export function pipelineTextProblems(
  pipeline: ResolvedPipeline,
  options: BuildkiteOptions,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const docker = ciDockerModeProblem(pipeline, 'buildkite', options.mode);
  if (docker) diagnostics.push(docker);
  // The pipeline name is not written into pipeline.yml.
  for (const { path, field, text } of ciUserTexts(pipeline).filter((t) => t.field !== 'name')) {
    if (ODD_BACKSLASH_DOLLAR.test(text)) {
      diagnostics.push({
        code: 'GH_BUILDKITE_BACKSLASH_DOLLAR',
        severity: 'error',
        message:
          'an odd number of backslashes before `$` cannot be written so that `buildkite-agent pipeline upload` keeps it',
        path,
        loc: null,
        hint: 'move the command into a script file and call the script, or use single quotes around `$` in the shell',
      });
    }
    // The agent splits artifact paths on `;`.
    if (field === 'output' && (!isPlainArtifactGlob(text) || text.includes(';'))) {
      diagnostics.push({
        code: 'GH_BUILDKITE_UNSAFE_PATH',
        severity: 'error',
        message:
          'an output glob must be one line without `;` or surrounding spaces to be used as a Buildkite artifact path',
        path,
        loc: null,
      });
    }
  }
  return diagnostics;
}
