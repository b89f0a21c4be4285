/** The compile targets: the Dockerfile, and the CI systems the project already has (GitHub by default). */
import type { ProjectFacts } from '../detect.js';

export function proposeTargets(f: ProjectFacts): {
  targets: Record<string, Record<string, unknown>>;
  comment: string[];
  detected: string[];
} {
  // A package of a workspace names root files with `//`, which a Dockerfile built from the
  // package directory cannot see: no dockerfile target there.
  const member = f.memberOf;
  const targets: Record<string, Record<string, unknown>> = member ? {} : { dockerfile: {} };
  const found: Array<[target: string, why: string]> = [];
  if (f.present.has('.github')) found.push(['github', '.github/workflows']);
  else if (member?.rootPresent.has('.github'))
    found.push(['github', `${member.up}/.github/workflows`]);
  if (f.present.has('Jenkinsfile')) found.push(['jenkins', 'Jenkinsfile']);
  if (f.present.has('.buildkite')) found.push(['buildkite', '.buildkite/']);
  if (f.present.has('.gitlab-ci.yml')) found.push(['gitlab', '.gitlab-ci.yml']);
  else if (member?.rootPresent.has('.gitlab-ci.yml'))
    found.push(['gitlab', `${member.up}/.gitlab-ci.yml`]);
  for (const [t] of found) targets[t] = {};
  if (!found.length) targets.github = {};
  return {
    targets,
    comment: member
      ? [
          '`gatehouse compile` writes one file per target: '.concat(
            found.length
              ? `the CI config of ${found.map(([t, why]) => `${t} (found ${why})`).join(', ')},`
              : 'a GitHub Actions workflow (no CI config found, GitHub is the default),',
          ),
          'whose jobs run in this package directory. No Dockerfile: built from this directory it',
          'could not see the workspace root the `//` inputs name.',
        ]
      : [
          '`gatehouse compile` writes one file per target: a multi-stage Dockerfile whose stages are',
          found.length
            ? `the gates, and the CI config of ${found.map(([t, why]) => `${t} (found ${why})`).join(', ')}.`
            : 'the gates, and a GitHub Actions workflow (no CI config found, GitHub is the default).',
        ],
    detected: [
      `targets: ${Object.keys(targets).join(', ')}${found.length ? '' : ' (no CI config found; github by default)'}`,
    ],
  };
}
