/** The `sonar` gate: a SonarQube scan, advisory, when the project has its settings file. */
import type { InitContext, Proposal } from './context.js';

export function proposeSonar({ f }: InitContext): Proposal {
  if (!f.present.has('sonar-project.properties')) return { gate: null, detected: [] };
  return {
    gate: {
      id: 'sonar',
      gate: {
        kind: 'sonarqube',
        run: 'npx @sonar/scan',
        secrets: ['SONAR_TOKEN'],
        mode: 'advisory',
      },
      comment: [
        'sonar — SonarQube scan (found sonar-project.properties), using its settings.',
        'SONAR_TOKEN is a secret name: its value comes from the environment at run time.',
        'Advisory: reported, never fails the run. Make it blocking once the quality gate is green.',
      ],
    },
    detected: ['sonar: sonar-project.properties'],
  };
}
