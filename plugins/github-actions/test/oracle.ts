import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What GitHub's parser and actionlint say about one workflow file. */
export interface WorkflowVerdict {
  path: string;
  /** actionlint 1.7 findings (empty = accepted). */
  actionlint: Array<{ message: string; line: number; column: number; kind: string }>;
  /** Errors of `@actions/workflow-parser` (parse + convert). */
  parserErrors: string[];
  /** `convertWorkflowTemplate`'s typed model, as JSON. */
  workflow: ParsedWorkflow | null;
}

/** The parts of the parser's model the tests read. */
export interface ParsedWorkflow {
  events: Record<string, unknown>;
  jobs: Array<{
    id: string;
    name?: unknown;
    needs?: string[];
    if: { expr: string };
    steps: Array<{
      name?: unknown;
      uses?: unknown;
      run?: unknown;
      env?: unknown;
      if: { expr: string };
    }>;
  }>;
}

const dir = fileURLToPath(new URL('./oracle/', import.meta.url));

/** Judge many workflow files in one child process (one wasm instance, Node 20 JSON hook). */
export function judgeWorkflows(
  files: Array<{ path: string; content: string }>,
): Promise<WorkflowVerdict[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', `${dir}json-hook.mjs`, `${dir}check-workflows.mjs`],
      {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0)
        return reject(
          new Error(`workflow oracle exited ${code}: ${Buffer.concat(err).toString()}`),
        );
      resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as WorkflowVerdict[]);
    });
    child.stdin.end(JSON.stringify(files));
  });
}

/** The literal text of a parser token that must not be an expression; throws if it is one. */
export function literal(token: unknown): string {
  if (typeof token === 'string') return token;
  throw new Error(`expected a literal string, got ${JSON.stringify(token)}`);
}
