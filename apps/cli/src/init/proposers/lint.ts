/** The `lint` gate: the monorepo's lint task, the project's lint script, or ESLint itself. */
import { ESLINT_FILES } from '../detect.js';
import {
  firstPresent,
  monorepoCommand,
  monorepoComment,
  quoteScript,
  scriptCallsTool,
  type InitContext,
  type Proposal,
} from './context.js';

export function proposeLint({ f, pm, mono, monoHas }: InitContext): Proposal {
  const eslintWhy =
    firstPresent(f, ESLINT_FILES) ??
    (f.eslintInPackageJson ? 'eslintConfig in package.json' : undefined) ??
    (f.deps.has('eslint') ? 'eslint in devDependencies' : undefined) ??
    (/\beslint\b/.test(f.scripts.lint ?? '')
      ? `the lint script (${quoteScript(f.scripts.lint!)})`
      : undefined);
  if (monoHas('lint')) {
    return {
      gate: {
        id: 'lint',
        gate: {
          kind: 'lint',
          run: monorepoCommand(mono!, pm.exec, 'lint'),
          evidence: [{ format: 'exitcode' }],
        },
        comment: [
          `lint — ${monorepoComment(mono!, 'lint')}`,
          'Each package writes its own report, so the exit code is the evidence here; to get',
          'findings in the report, run ESLint once at the root with `-f json -o "$GATEHOUSE_OUT/eslint.json"`.',
        ],
      },
      detected: [`lint: ${mono!.tool} task \`lint\``],
    };
  }
  if (
    f.scripts.lint &&
    scriptCallsTool(f.scripts.lint, 'eslint', /(^|\s)(-f|--format|-o|--output-file)(\s|=|$)/)
  ) {
    return {
      gate: {
        id: 'lint',
        gate: {
          kind: 'lint',
          run: pm.runScript('lint', '-f json -o "$GATEHOUSE_OUT/eslint.json"'),
          evidence: [{ format: 'eslint', path: 'eslint.json' }],
          policy: { max_errors: 0 },
        },
        comment: [
          `lint — your \`lint\` script (${quoteScript(f.scripts.lint)}), as you run it, with ESLint's`,
          'JSON report added as evidence. Its exit code counts (--max-warnings too), and any error fails.',
        ],
      },
      detected: [
        `lint: the lint script, ESLint (${eslintWhy ?? 'called by the script'}), JSON findings added through it`,
      ],
    };
  }
  if (f.scripts.lint) {
    return {
      gate: {
        id: 'lint',
        gate: { kind: 'lint', run: pm.runScript('lint'), evidence: [{ format: 'exitcode' }] },
        comment: [
          `lint — your \`lint\` script (${quoteScript(f.scripts.lint)}), as you run it; its exit code decides.`,
        ],
      },
      detected: [
        `lint: the lint script${eslintWhy ? ' (not a single ESLint call, so exit code only)' : ' (exit code only)'}`,
      ],
    };
  }
  if (eslintWhy) {
    return {
      gate: {
        id: 'lint',
        gate: {
          kind: 'lint',
          run: `${pm.exec} eslint . -f json -o "$GATEHOUSE_OUT/eslint.json"`,
          evidence: [{ format: 'eslint', path: 'eslint.json' }],
          policy: { max_errors: 0 },
        },
        comment: [
          `lint — ESLint (found ${eslintWhy}).`,
          'Writes its findings as JSON evidence; any error fails the gate (policy.max_errors: 0).',
        ],
      },
      detected: [`lint: ESLint (${eslintWhy})`],
    };
  }
  return {
    gate: null,
    detected: ['lint: nothing found (no ESLint config, dependency or lint script)'],
  };
}
