/**
 * The config text a Jenkinsfile cannot carry unchanged, as located diagnostics: `emit`
 * refuses the pipeline when there is any.
 */
import { ciUserTexts, type Diagnostic, type ResolvedPipeline } from '@gatehouse-ci/core';
import { unrepresentable } from './groovy.js';
import type { ResolvedJenkinsOptions } from './options.js';

/**
 * The config texts this Jenkinsfile would hold that Groovy cannot carry unchanged, each at
 * its config path (so the driver can locate it). Only the setup script (native mode) holds
 * config text: gate commands and env stay with the CLI.
 */
export function jenkinsfileTextProblems(
  pipeline: ResolvedPipeline,
  options: ResolvedJenkinsOptions,
): Diagnostic[] {
  if (options.mode !== 'native') return [];
  const out: Diagnostic[] = [];
  for (const { path, field, text } of ciUserTexts(pipeline)) {
    if (field !== 'setup.run' && field !== 'setup.env') continue;
    const why = unrepresentable(text);
    if (why !== null)
      out.push({
        code: 'GH_TARGET_EMIT',
        severity: 'error',
        message: `${field === 'setup.run' ? 'the setup command' : 'this setup env value'} ${why}`,
        path,
        loc: null,
        hint: 'a Jenkinsfile cannot hold it unchanged; remove the character or move the text into a script file',
      });
  }
  return out;
}
