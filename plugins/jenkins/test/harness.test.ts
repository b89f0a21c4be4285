// The oracle is ours, so it is tested too: a valid declarative file is recorded
// exactly, and each kind of breakage is rejected with the reason we expect.
import { beforeAll, describe, expect, it } from 'vitest';
import { groovyAvailable, runHarness, type HarnessResult } from './harness.js';

const wrap = (stages: string, extra = ''): string =>
  `pipeline {\n  agent any\n${extra}  stages {\n${stages}\n  }\n}\n`;

const VALID = `// a comment
pipeline {
  agent { label 'linux' }
  options {
    timeout(time: 30, unit: 'MINUTES')
    disableConcurrentBuilds()
  }
  environment {
    GREETING = 'it\\'s \\u00e9\\n'
    TOKEN = credentials('tok-id')
  }
  stages {
    stage('one') {
      options { timeout(time: 2, unit: 'MINUTES') }
      environment { A = '$HOME \${x}' }
      steps {
        sh 'echo \\'a\\'\\\\'
        withCredentials([string(credentialsId: 'sonar-token', variable: 'SONAR_TOKEN')]) {
          sh(label: 'scan', script: 'run-scan')
        }
      }
    }
    stage('Layer') {
      failFast false
      parallel {
        stage('two') { steps { catchError(buildResult: 'SUCCESS', stageResult: 'UNSTABLE') { sh 'false' } } }
        stage('three') { steps { dir('sub') { echo 'x' } } }
      }
    }
  }
  post {
    always {
      junit(testResults: 'r/junit.xml', allowEmptyResults: true)
      archiveArtifacts(artifacts: 'r/**', allowEmptyArchive: true)
    }
  }
}
`;

const VALID_RECORDING = {
  agent: { type: 'label', label: 'linux' },
  options: [
    { option: 'timeout', time: 30, unit: 'MINUTES' },
    { option: 'disableConcurrentBuilds' },
  ],
  environment: { GREETING: { value: "it's \u00e9\n" }, TOKEN: { credentials: 'tok-id' } },
  stages: [
    {
      name: 'one',
      options: [{ option: 'timeout', time: 2, unit: 'MINUTES' }],
      environment: { A: { value: '$HOME ${x}' } },
      steps: [
        { step: 'sh', script: "echo 'a'\\" },
        {
          step: 'withCredentials',
          bindings: [{ type: 'string', credentialsId: 'sonar-token', variable: 'SONAR_TOKEN' }],
          steps: [{ step: 'sh', script: 'run-scan', label: 'scan' }],
        },
      ],
    },
    {
      name: 'Layer',
      failFast: false,
      parallel: [
        {
          name: 'two',
          steps: [
            {
              step: 'catchError',
              buildResult: 'SUCCESS',
              stageResult: 'UNSTABLE',
              steps: [{ step: 'sh', script: 'false' }],
            },
          ],
        },
        {
          name: 'three',
          steps: [{ step: 'dir', path: 'sub', steps: [{ step: 'echo', message: 'x' }] }],
        },
      ],
    },
  ],
  post: {
    always: [
      { step: 'junit', testResults: 'r/junit.xml', allowEmptyResults: true },
      { step: 'archiveArtifacts', artifacts: 'r/**', allowEmptyArchive: true },
    ],
  },
};

/** [name, Jenkinsfile, expected error substring] */
const BROKEN: Array<[string, string, string]> = [
  [
    'when with another condition than fileExists',
    wrap(`stage('a') {\n when { expression { true } }\n steps { sh 'x' }\n}`),
    'only directives and steps are allowed',
  ],
  [
    'when with a fileExists of a GString',
    wrap(`stage('a') {\n when { expression { fileExists("\${env.X}") } }\n steps { sh 'x' }\n}`),
    'GString',
  ],
  [
    'when with two fileExists',
    wrap(
      `stage('a') {\n when { expression { fileExists('a'); fileExists('b') } }\n steps { sh 'x' }\n}`,
    ),
    'exactly one fileExists',
  ],
  [
    'fileExists outside when',
    wrap(`stage('a') { steps { fileExists('a') } }`),
    "'fileExists' is not allowed here",
  ],
  ['GString in sh', wrap(`stage('a') { steps { sh "echo \${env.HOME}" } }`), 'GString'],
  [
    'GString in an environment value',
    wrap(`stage('a') { steps { sh 'x' } }`, `  environment { A = "\${env.B}" }\n`),
    'GString',
  ],
  ['GString in a stage name', wrap(`stage("a\${env.X}") { steps { sh 'x' } }`), 'GString'],
  [
    'missing agent',
    `pipeline {\n  stages { stage('a') { steps { sh 'x' } } }\n}\n`,
    "missing 'agent'",
  ],
  ['missing stages', `pipeline {\n  agent any\n}\n`, "missing 'stages'"],
  ['step outside steps', wrap(`stage('a') { sh 'x' }`), "'sh' is not allowed here"],
  [
    'stage without steps/parallel/stages',
    wrap(`stage('a') { environment { A = 'b' } }`),
    'exactly one of steps, parallel, stages',
  ],
  [
    'stage with both steps and parallel',
    wrap(`stage('a') { steps { sh 'x' }\n parallel { stage('b') { steps { sh 'y' } } } }`),
    'exactly one of',
  ],
  ['empty steps', wrap(`stage('a') { steps { } }`), 'empty steps'],
  [
    'unknown step',
    wrap(`stage('a') { steps { bogusStep 'x' } }`),
    "unknown directive or step 'bogusStep'",
  ],
  [
    'println is not a step',
    wrap(`stage('a') { steps { println 'x' } }`),
    "unknown directive or step 'println'",
  ],
  [
    'unknown pipeline section',
    wrap(`stage('a') { steps { sh 'x' } }`, `  triggersx { }\n`),
    "unknown directive or step 'triggersx'",
  ],
  [
    'script block',
    wrap(`stage('a') { steps { script { sh 'x' } } }`),
    'script blocks are not allowed',
  ],
  ['scripted pipeline', `node {\n  sh 'x'\n}\n`, "top-level call must be 'pipeline"],
  [
    'statement before pipeline',
    `def x = 1\n${wrap(`stage('a') { steps { sh 'x' } }`)}`,
    'exactly one top-level',
  ],
  [
    'method definition',
    `def f() { 'x' }\n${wrap(`stage('a') { steps { sh 'x' } }`)}`,
    'method definitions',
  ],
  [
    'duplicate stage names',
    wrap(`stage('a') { steps { sh 'x' } }\nstage('a') { steps { sh 'y' } }`),
    'duplicate stage name',
  ],
  [
    'nested parallel',
    wrap(`stage('p') { parallel { stage('q') { parallel { stage('r') { steps { sh 'x' } } } } } }`),
    'parallel inside a parallel branch',
  ],
  ['syntax error', wrap(`stage('a') { steps { sh 'unterminated } }`), 'groovy:'],
  ['unicode escape splicing a newline', wrap(`stage('a') { steps { sh 'a\\u000ab' } }`), 'groovy:'],
  [
    'assignment inside steps',
    wrap(`stage('a') { steps { FOO = 'x' } }`),
    "assignment to 'FOO' is not allowed here",
  ],
  [
    'local variable inside steps',
    wrap(`stage('a') { steps { def y = 'x'\n sh 'x' } }`),
    'only directives and steps',
  ],
  [
    'method call on an object',
    wrap(`stage('a') { steps { sh 'x'.toUpperCase() } }`),
    'method call on an object',
  ],
  ['string concatenation', wrap(`stage('a') { steps { sh 'a' + 'b' } }`), 'expression not allowed'],
  [
    'not a credentials binding',
    wrap(`stage('a') { steps { withCredentials(['x']) { sh 'y' } } }`),
    'not a credentials binding',
  ],
  [
    'unknown catchError result',
    wrap(`stage('a') { steps { catchError(buildResult: 'GREEN') { sh 'y' } } }`),
    "unknown result 'GREEN'",
  ],
  [
    'timeout with an unknown unit',
    wrap(`stage('a') { options { timeout(time: 1, unit: 'FORTNIGHTS') }\n steps { sh 'x' } }`),
    "unknown unit 'FORTNIGHTS'",
  ],
  [
    'pipeline-only option in a stage',
    wrap(`stage('a') { options { disableConcurrentBuilds() }\n steps { sh 'x' } }`),
    "'disableConcurrentBuilds' is not allowed here",
  ],
  [
    'unknown post condition',
    wrap(`stage('a') { steps { sh 'x' } }`, `  post { sometimes { sh 'x' } }\n`),
    "unknown directive or step 'sometimes'",
  ],
  [
    'unknown bare name',
    `pipeline {\n  agent anywhere\n  stages { stage('a') { steps { sh 'x' } } }\n}\n`,
    "unknown name 'anywhere'",
  ],
  [
    'two pipeline blocks',
    `${wrap(`stage('a') { steps { sh 'x' } }`)}${wrap(`stage('b') { steps { sh 'x' } }`)}`,
    'exactly one top-level',
  ],
  [
    'unknown sh argument',
    wrap(`stage('a') { steps { sh(script: 'x', returnStdout: true) } }`),
    "unknown argument 'returnStdout'",
  ],
];

describe.runIf(groovyAvailable())('Jenkinsfile harness (Groovy oracle)', () => {
  let results: HarnessResult[];
  beforeAll(async () => {
    results = await runHarness([VALID, ...BROKEN.map((b) => b[1])]);
  }, 300_000);

  it('records a valid declarative pipeline exactly', () => {
    const [valid] = results;
    expect(valid?.error).toBeUndefined();
    expect(valid?.ok).toBe(true);
    expect(valid?.pipeline).toEqual(VALID_RECORDING);
  });

  it.each(BROKEN.map((b, i) => [b[0], i + 1, b[2]] as const))(
    'rejects: %s',
    (_name, index, message) => {
      const r = results[index];
      expect(r?.ok).toBe(false);
      expect(r?.error).toContain(message);
    },
  );
});
