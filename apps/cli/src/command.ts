/**
 * The CLI's command contract. Each command lives in `commands/<name>.ts` and is listed
 * in `commands/index.ts`. Commands return an exit code; only the CLI layer prints.
 */
import type { ParseArgsConfig } from 'node:util';

/** Output streams, injectable for tests. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  cwd: string;
  env: Record<string, string | undefined>;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  /** Shown in --help. */
  description: string;
  /** Placeholder shown in --help, e.g. `FILE`. */
  valueName?: string;
};

export interface CommandContext {
  io: Io;
  /** Parsed options (from node:util parseArgs). */
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  /** One line, shown in `gatehouse --help`. */
  summary: string;
  /** Usage line after `gatehouse `, e.g. `validate [--config FILE] [--format text|json]`. */
  usage: string;
  /** Longer text and examples shown in `gatehouse <cmd> --help`. */
  details?: string;
  options: Record<string, OptionSpec>;
  /** Whether positional arguments are accepted. @default false */
  allowPositionals?: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/**
 * A command listed by name whose module is imported only when it runs (or for
 * `gatehouse --help`), so one command never pays for the imports of the others.
 */
export interface LazyCommand {
  name: string;
  load(): Promise<Command>;
}

/** An entry of the command list: a command, or a lazily imported one. */
export type CommandEntry = Command | LazyCommand;
