/** The compile targets: the Dockerfile, and the CI systems the project already has (GitHub by default). */
import type { ProjectFacts } from '../detect.js';

export function proposeTargets(f: ProjectFacts): {
  targets: Record<string, Record<string, unknown>>;
  comment: string[];
  detected: string[];
} {
  const targets: Record<string, Record<string, unknown>> = { dockerfile: {} };
  const found: Array<[target: string, why: string]> = [];
  if (f.present.has('.github')) found.push(['github', '.github/workflows']);
  if (f.present.has('Jenkinsfile')) found.push(['jenkins', 'Jenkinsfile']);
  if (f.present.has('.buildkite')) found.push(['buildkite', '.buildkite/']);
  if (f.present.has('.gitlab-ci.yml')) found.push(['gitlab', '.gitlab-ci.yml']);
  for (const [t] of found) targets[t] = {};
  if (!found.length) targets.github = {};
  return {
    targets,
    comment: [
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
