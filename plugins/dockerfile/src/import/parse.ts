/**
 * A small, line-faithful reader of hand-written Dockerfiles for `gatehouse import`:
 * instructions with their 1-based start line, flags split off, continuation lines
 * joined the way the builder joins them. It reads; it never judges (see analyze.ts).
 */

/** One instruction as written. */
export interface RawInstruction {
  /** Upper-cased keyword, e.g. `RUN`. */
  keyword: string;
  /** 1-based line the instruction starts on. */
  line: number;
  /** `--name=value` flags before the arguments (`--from=builder` -> `{ from: 'builder' }`; repeated flags keep the last). */
  flags: Record<string, string>;
  /** All `--mount=` values, in order (a RUN may have several). */
  mounts: string[];
  /** Argument text after the flags, continuation lines joined. */
  args: string;
}

/** One build stage. */
export interface RawStage {
  /** 0-based position. */
  index: number;
  /** `AS` name (lower case), or null. */
  name: string | null;
  /** What follows FROM: an image reference or an earlier stage name. */
  from: string;
  line: number;
  instructions: RawInstruction[];
}

/** A parsed Dockerfile: global ARGs (before the first FROM) and the stages. */
export interface RawDockerfile {
  globalArgs: RawInstruction[];
  stages: RawStage[];
}

const DIRECTIVE_RE = /^#\s*escape\s*=\s*([\\`])\s*$/i;

function splitFlags(rest: string): {
  flags: Record<string, string>;
  mounts: string[];
  args: string;
} {
  const flags: Record<string, string> = {};
  const mounts: string[] = [];
  let s = rest;
  for (;;) {
    const m = /^--([A-Za-z-]+)(?:=(\S*))?\s*/.exec(s);
    if (!m) break;
    const name = (m[1] as string).toLowerCase();
    const value = m[2] ?? '';
    if (name === 'mount') mounts.push(value);
    flags[name] = value;
    s = s.slice(m[0].length);
  }
  return { flags, mounts, args: s.trim() };
}

/** Parse Dockerfile text. Unknown or malformed lines are kept as instructions with their keyword. */
export function parseDockerfile(text: string): RawDockerfile {
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  let escape = '\\';
  // Parser directives only count at the very top, before any other line.
  for (const line of lines) {
    const d = DIRECTIVE_RE.exec(line);
    if (d) {
      escape = d[1] as string;
      continue;
    }
    break;
  }
  const out: RawDockerfile = { globalArgs: [], stages: [] };
  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    let current = lines[i] ?? '';
    i++;
    if (/^\s*(#|$)/.test(current)) continue;
    // Join continuation lines; comment lines inside a continuation are dropped, as the builder does.
    while (current.trimEnd().endsWith(escape) && i < lines.length) {
      current = current.trimEnd().slice(0, -1).trimEnd();
      let next = lines[i] ?? '';
      i++;
      while (/^\s*#/.test(next) && i < lines.length) {
        next = lines[i] ?? '';
        i++;
      }
      current += ' ' + next.trim();
    }
    const m = /^\s*(\S+)\s*(.*)$/.exec(current);
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    const { flags, mounts, args } = splitFlags((m[2] as string).trim());
    const ins: RawInstruction = { keyword, line: startLine, flags, mounts, args };
    if (keyword === 'FROM') {
      const parts = args.split(/\s+/);
      const asAt = parts.findIndex((p) => p.toLowerCase() === 'as');
      const name = asAt >= 0 ? (parts[asAt + 1] ?? '').toLowerCase() : null;
      out.stages.push({
        index: out.stages.length,
        name,
        from: parts[0] ?? '',
        line: startLine,
        instructions: [],
      });
    } else if (out.stages.length === 0) {
      if (keyword === 'ARG') out.globalArgs.push(ins);
    } else {
      (out.stages[out.stages.length - 1] as RawStage).instructions.push(ins);
    }
  }
  return out;
}

/**
 * The exec form of RUN/CMD/ENTRYPOINT as the builder reads it: a JSON array of strings,
 * or null when the text is not one (the builder then silently runs it as shell form).
 */
export function parseExecForm(args: string): string[] | null {
  if (!args.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(args);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
  } catch {
    return null;
  }
}

/** `ARG`/`ENV` declarations: `NAME=value`, `NAME="v"`, or legacy `ENV NAME value`. */
export function parseAssignments(
  keyword: 'ARG' | 'ENV',
  args: string,
): Array<{ name: string; value: string | null }> {
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+(?!\S*=)(.*)$/.exec(args);
  if (keyword === 'ENV' && legacy && !args.includes('=')) {
    return [{ name: legacy[1] as string, value: (legacy[2] as string).trim() }];
  }
  const out: Array<{ name: string; value: string | null }> = [];
  const re = /([A-Za-z_][A-Za-z0-9_]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?/g;
  for (const m of args.matchAll(re)) {
    let value: string | null = m[2] ?? null;
    if (value !== null && value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (value !== null && value.startsWith("'")) value = value.slice(1, -1);
    out.push({ name: m[1] as string, value });
  }
  return out;
}
