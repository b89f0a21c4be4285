/**
 * A typed model of the Dockerfile subset Gatehouse emits. The emitter builds this
 * model from the resolved pipeline; `serializeDockerfile()` is the only place that
 * turns it into text, so every escaping rule lives in one file.
 */

/** `RUN --mount=type=secret`: the secret file exists for that one `RUN` only. */
export interface SecretMount {
  type: 'secret';
  /** Secret id, as given to `docker build --secret id=<id>,…`. */
  id: string;
  /** @default `/run/secrets/<id>` */
  target?: string;
  /** @default false (BuildKit's default) */
  required?: boolean;
}

/** `RUN --mount=type=cache`: a persistent cache directory that never lands in a layer. */
export interface CacheMount {
  type: 'cache';
  id?: string;
  target: string;
  sharing?: 'shared' | 'private' | 'locked';
}

/** `RUN --mount=type=bind`: read-only view of another stage (or the context). */
export interface BindMount {
  type: 'bind';
  from?: string;
  source?: string;
  target: string;
}

/** A `RUN --mount=…` flag. */
export type Mount = SecretMount | CacheMount | BindMount;

/** `WORKDIR path`. */
export interface WorkdirInstruction {
  kind: 'WORKDIR';
  path: string;
}

/** `COPY [--from=stage] [--chown=user] ["src", …, "dest"]` (always emitted in JSON form). */
export interface CopyInstruction {
  kind: 'COPY';
  from?: string;
  chown?: string;
  sources: string[];
  dest: string;
}

/** `RUN [--mount=…] ["argv0", …]`: exec form only, so no text is ever parsed as shell by the builder. */
export interface RunInstruction {
  kind: 'RUN';
  mounts: Mount[];
  argv: string[];
}

/** `ENV NAME="value" …`. */
export interface EnvInstruction {
  kind: 'ENV';
  vars: Array<[name: string, value: string]>;
}

/** `ARG NAME[=default]`. Never used for secrets. */
export interface ArgInstruction {
  kind: 'ARG';
  name: string;
  default?: string;
}

/** `USER user[:group]`. */
export interface UserInstruction {
  kind: 'USER';
  user: string;
}

/** `CMD ["argv0", …]` (exec form only). */
export interface CmdInstruction {
  kind: 'CMD';
  argv: string[];
}

/** `EXPOSE port …`. */
export interface ExposeInstruction {
  kind: 'EXPOSE';
  ports: number[];
}

/** `LABEL key="value" …`. */
export interface LabelInstruction {
  kind: 'LABEL';
  labels: Array<[key: string, value: string]>;
}

/**
 * A comment line. Only Gatehouse's own constant text goes here (and validated ids):
 * never user text, which could otherwise smuggle a parser directive or a line break.
 */
export interface CommentInstruction {
  kind: 'COMMENT';
  text: string;
}

/** Any instruction inside a stage (after its `FROM`). */
export type Instruction =
  | WorkdirInstruction
  | CopyInstruction
  | RunInstruction
  | EnvInstruction
  | ArgInstruction
  | UserInstruction
  | CmdInstruction
  | ExposeInstruction
  | LabelInstruction
  | CommentInstruction;

/** One build stage: `FROM <from> AS <name>` followed by its instructions. */
export interface Stage {
  /** Stage name (`AS <name>`). */
  name: string;
  /** An image reference or the name of an earlier stage (or `scratch`). */
  from: string;
  /** Comment lines written just above the `FROM` line (constant text only). */
  comments?: string[];
  instructions: Instruction[];
}

/** A whole Dockerfile. */
export interface DockerfileModel {
  /** Line 1, written as a comment. Plain text, one line, never user text. */
  header: string;
  stages: Stage[];
}
