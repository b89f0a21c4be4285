import { DockerfileParser } from 'dockerfile-ast';

/** One instruction as an independent parser (dockerfile-ast) sees it. */
export interface ParsedInstruction {
  keyword: string;
  /** 1-based line. */
  line: number;
  /**
   * JSON-form arguments: the instruction's text after its keyword and `--flags`, decoded with
   * JSON.parse as BuildKit's parser does (json.Unmarshal); null when that text is not a JSON array.
   */
  json: string[] | null;
  args: string | null;
}

/** Parse a Dockerfile with dockerfile-ast: instructions, stages, and decoded JSON arguments. */
export function parseBack(text: string): {
  instructions: ParsedInstruction[];
  stages: string[];
  comments: number;
} {
  const df = DockerfileParser.parse(text);
  const lines = text.split('\n');
  const instructions = df.getInstructions().map((ins): ParsedInstruction => {
    const range = ins.getRange();
    const raw = lines.slice(range.start.line, range.end.line + 1).join('\n');
    const rest = raw.replace(/^\s*\S+\s+/, '').replace(/^(--\S+\s+)*/, '');
    let json: string[] | null = null;
    if (rest.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(rest);
        if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) json = parsed;
      } catch {
        json = null;
      }
    }
    return {
      keyword: ins.getKeyword(),
      line: range.start.line + 1,
      json,
      args: ins.getArgumentsContent(),
    };
  });
  const stages = df.getFROMs().map((f) => f.getBuildStage() ?? '');
  return { instructions, stages, comments: df.getComments().length };
}
