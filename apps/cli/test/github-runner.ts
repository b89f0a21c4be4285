/**
 * A model of how the GitHub Actions runner reads a step's output for workflow commands, made
 * stricter than the runner so that a test passing here passes there: lines end at CR, LF or
 * CRLF (as .NET reads process output), leading and trailing whitespace is ignored, `::name
 * props::data` and the older `##[name props]data` are both commands, and between
 * `::stop-commands::TOKEN` and `::TOKEN::` nothing is one.
 * @see https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
 */

/** One command the runner would act on, with its properties and data decoded. */
export interface RunnerCommand {
  name: string;
  props: Record<string, string>;
  data: string;
}

const unescapeData = (s: string): string =>
  s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
const unescapeProperty = (s: string): string =>
  s
    .replace(/%3A/gi, ':')
    .replace(/%2C/gi, ',')
    .replace(/%0D/gi, '\r')
    .replace(/%0A/gi, '\n')
    .replace(/%25/g, '%');

/** Parse one `::name k=v,k=v::data` line, or null when it is no command. */
export function parseCommand(line: string): RunnerCommand | null {
  const t = line.trimStart();
  const legacy = /^##\[([^\]\s]+)([^\]]*)\](.*)$/s.exec(t);
  if (legacy) return { name: legacy[1]!, props: {}, data: legacy[3]! };
  if (!t.startsWith('::')) return null;
  const end = t.indexOf('::', 2);
  if (end < 0) return null;
  const head = t.slice(2, end);
  const space = head.indexOf(' ');
  const name = space < 0 ? head : head.slice(0, space);
  const props: Record<string, string> = {};
  if (space >= 0)
    for (const pair of head.slice(space + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) props[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
  return { name, props, data: unescapeData(t.slice(end + 2)) };
}

/** Every command a step's output makes the runner act on, in order. */
export function runnerCommands(output: string): RunnerCommand[] {
  const out: RunnerCommand[] = [];
  let stopped: string | null = null;
  for (const line of output.split(/\r\n|\r|\n/)) {
    if (stopped !== null) {
      if (line.trimStart() === `::${stopped}::`) stopped = null;
      continue;
    }
    const c = parseCommand(line);
    if (!c) continue;
    out.push(c);
    if (c.name === 'stop-commands') stopped = c.data;
  }
  return out;
}
