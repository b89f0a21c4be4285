/**
 * The user text a `.gitlab-ci.yml` cannot carry safely, as located diagnostics: `emit` refuses
 * the pipeline when there is any.
 */
import {
  ciDockerModeProblem,
  ciUserTexts,
  isPlainArtifactGlob,
  type Diagnostic,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import type { GitlabOptions } from './options.js';

/**
 * Where user text lands, and what GitLab does with it:
 * - `setup.run` is a `script:` entry: GitLab passes it to the shell as written (only the shell
 *   expands `$`), so any text is kept.
 * - `setup.env` values are `variables:` with `expand: false`: passed as written.
 * - `outputs` globs become `artifacts:paths`, and evidence paths `artifacts:reports:junit`,
 *   which the runner expands itself (`$VAR`, `${VAR}`) before globbing, with no escape: a `$`
 *   there is refused, as is anything that is not one printable line.
 * - The pipeline name and gate descriptions are not written.
 */
export function pipelineTextProblems(
  pipeline: ResolvedPipeline,
  options: GitlabOptions,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const docker = ciDockerModeProblem(pipeline, 'gitlab', options.mode);
  if (docker) diagnostics.push(docker);
  const paths = ciUserTexts(pipeline)
    .filter((t) => t.field === 'output')
    .map(({ path, text }) => ({ path, text }));
  if (options.mode === 'native') {
    for (const gate of pipeline.gates)
      gate.evidence.forEach((e, i) => {
        if (e.format === 'junit' && e.path !== null)
          paths.push({ path: `gates.${gate.id}.evidence[${i}].path`, text: e.path });
      });
  }
  for (const { path, text } of paths) {
    if (!isPlainArtifactGlob(text) || text.includes('$')) {
      diagnostics.push({
        code: 'GH_GITLAB_UNSAFE_PATH',
        severity: 'error',
        message:
          'a path GitLab uploads as an artifact must be one printable line without `$` (the runner expands variables in artifact paths) or surrounding spaces',
        path,
        loc: null,
      });
    }
  }
  return diagnostics;
}
