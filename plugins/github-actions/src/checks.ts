/**
 * The user text a workflow cannot carry safely, as located diagnostics: `emit` refuses the
 * pipeline when there is any.
 */
import {
  ciDockerModeProblem,
  ciUserTexts,
  isPlainArtifactGlob,
  type CiUserTextField,
  type Diagnostic,
  type ResolvedPipeline,
} from '@gatehouse-ci/core';
import type { GithubOptions } from './options.js';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const EXPRESSION = '${{';
const WHERE: Record<CiUserTextField, string> = {
  name: 'the workflow name',
  'setup.run': 'a `run:` script',
  'setup.env': 'a step `env:` value',
  description: 'a job name',
  output: 'an artifact path',
};

/**
 * Every place user text lands in the workflow, checked at once: what GitHub would evaluate
 * (`${{`), artifact paths it would misread, and names that cannot be variables. Paths are
 * config paths (`gates.lint.outputs[0]`).
 */
export function workflowTextProblems(
  pipeline: ResolvedPipeline,
  options: GithubOptions,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const docker = ciDockerModeProblem(pipeline, 'github', options.mode);
  if (docker) diagnostics.push(docker);
  for (const { path, field, text } of ciUserTexts(pipeline)) {
    if (text.includes(EXPRESSION)) {
      diagnostics.push({
        code: 'GH_GITHUB_EXPRESSION',
        severity: 'error',
        message: `contains \`\${{\`, which GitHub Actions would evaluate as an expression in ${WHERE[field]}`,
        path,
        loc: null,
        hint: 'move that text into a script file and call the script (e.g. `sh scripts/setup.sh`)',
      });
    }
    // A leading `!` makes an upload-artifact path an exclusion.
    if (field === 'output' && (!isPlainArtifactGlob(text) || text.startsWith('!'))) {
      diagnostics.push({
        code: 'GH_GITHUB_UNSAFE_PATH',
        severity: 'error',
        message:
          'an output glob must be one line without leading `!` or surrounding spaces to be uploaded as an artifact path',
        path,
        loc: null,
      });
    }
  }
  const names: Array<[string, string]> = [
    ...Object.keys(pipeline.setup?.env ?? {}).map((k): [string, string] => [`setup.env.${k}`, k]),
    ...(pipeline.setup?.secrets ?? []).map((k, i): [string, string] => [`setup.secrets[${i}]`, k]),
    ...pipeline.gates.flatMap((g) =>
      g.secrets.map((k, i): [string, string] => [`gates.${g.id}.secrets[${i}]`, k]),
    ),
  ];
  for (const [path, name] of names) {
    if (!ENV_NAME.test(name) || name.startsWith('GITHUB_')) {
      diagnostics.push({
        code: 'GH_GITHUB_UNSAFE_NAME',
        severity: 'error',
        message: `\`${name}\` is not a valid environment/secret name here`,
        path,
        loc: null,
      });
    }
  }
  return diagnostics;
}
