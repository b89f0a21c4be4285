/**
 * The Jenkinsfile of a config with gates of workspace packages (docs/decisions/0009-monorepo-ci.md).
 * The stages stay those of every gate, on one agent and one workspace, so a gate sees the
 * outputs of the gates it needs without transfer. A stage after setup runs `gatehouse affected`
 * and marks each gate to run (affected, or needed by one) with a file; each gate stage has
 * `when { expression { fileExists(…) } }`, so the others show as skipped. In docker mode only
 * the affected gates are marked: each build runs the stages of the gates it needs itself.
 */
import {
  ciAffectedCommand,
  CI_DOCKER_RESULTS_DIR,
  CI_REPORT_DIR,
  CI_RESULTS_DIR,
  ciReportCommands,
} from '@gatehouse-ci/core';
import type { Stage, Step } from './model.js';
import type { ResolvedJenkinsOptions } from './options.js';

/** Name of the stage that computes the affected gates. Capitalised: never a gate id. */
export const AFFECTED_STAGE = 'Affected';
/** Directory (in the workspace) with one empty file per gate to run. */
export const AFFECTED_DIR = '.gatehouse/ci-affected';
/** File (in the workspace) listing the gates to run, one per line. */
export const AFFECTED_LIST = '.gatehouse/ci-affected.txt';
const FAILED_MARK = '.gatehouse/ci-verdict-failed';
/** Time limit of the affected stage. */
export const AFFECTED_MINUTES = 10;

/**
 * The commit to compare with: a pull request's target branch (`CHANGE_TARGET`, fetched), else
 * the commit of the last successful build of the branch (`GIT_PREVIOUS_SUCCESSFUL_COMMIT`, Git
 * plugin), else none: every gate runs.
 */
export function affectedStage(options: ResolvedJenkinsOptions): Stage {
  const script = [
    'BASE="${GIT_PREVIOUS_SUCCESSFUL_COMMIT:-}"',
    'if [ -n "${CHANGE_TARGET:-}" ]; then',
    '  BASE=',
    '  if git fetch --quiet origin "+refs/heads/$CHANGE_TARGET:refs/remotes/origin/$CHANGE_TARGET"; then BASE="origin/$CHANGE_TARGET"; fi',
    'fi',
    // Docker mode: an export an earlier build left in the workspace is no result of this one.
    `rm -rf ${AFFECTED_DIR} ${FAILED_MARK}${options.mode === 'docker' ? ` ${CI_DOCKER_RESULTS_DIR}` : ''}`,
    `mkdir -p ${AFFECTED_DIR}`,
    `${ciAffectedCommand(options.cli, options.mode === 'docker' ? '--gates' : '--run-list')} > ${AFFECTED_LIST}`,
    `while read -r g; do : > "${AFFECTED_DIR}/$g"; done < ${AFFECTED_LIST}`,
  ].join('\n');
  return {
    name: AFFECTED_STAGE,
    options: [{ kind: 'timeout', minutes: AFFECTED_MINUTES }],
    body: { kind: 'steps', steps: [{ kind: 'sh', script }] },
  };
}

/** The `when` of a gate's stage. */
export function affectedWhen(gateId: string): Pick<Stage, 'when'> {
  return { when: { kind: 'fileExists', path: `${AFFECTED_DIR}/${gateId}` } };
}

/**
 * The report of the gates that were to run: rendered and archived in every case, and the build
 * fails when one of them did not pass or has no result.
 */
export function monorepoReportSteps(options: ResolvedJenkinsOptions): Step[] {
  const { prepare, merge, render } = ciReportCommands(options.cli, options.mode);
  const sh = (script: string): Step => ({ kind: 'sh', script });
  return [
    {
      kind: 'catchError',
      buildResult: 'FAILURE',
      steps: [
        // Docker mode: the Affected stage removed the exports; with none, each gate has no result.
        ...(options.mode === 'docker' ? [sh(prepare)] : []),
        sh(`${merge} --gates "$(cat ${AFFECTED_LIST})" --fail-on-verdict || : > ${FAILED_MARK}`),
        ...render.map(sh),
        sh(`test ! -e ${FAILED_MARK}`),
      ],
    },
    { kind: 'junit', testResults: `${CI_REPORT_DIR}/junit.xml`, allowEmptyResults: true },
    {
      kind: 'archiveArtifacts',
      artifacts: `${CI_RESULTS_DIR}/**, ${CI_REPORT_DIR}/**`,
      allowEmptyArchive: true,
    },
  ];
}
