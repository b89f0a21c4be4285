/**
 * Dockerfile model -> text (and the build's other files). Every value is either checked against a strict pattern or
 * encoded (JSON for exec forms and COPY, double-quoted escaping for ENV/LABEL), so no
 * value can end an instruction, start a new one, or be read as a parser directive.
 */
import { GatehouseError, type EmittedFile } from '@gatehouse-ci/core';
import type { DockerfileBuild } from './build.js';
import type { DockerfileModel, Instruction, Mount, Stage } from './model.js';

/** BuildKit's Dockerfile parser reads lines with a 64 KiB buffer; stay well below it. */
export const MAX_LINE_BYTES = 60 * 1024;

/** Stage names: what BuildKit accepts, lower case only (it lower-cases them anyway). */
export const STAGE_NAME_RE = /^[a-z][a-z0-9._-]*$/;
/** Image references: registry/name:tag@digest characters only. */
export const IMAGE_REF_RE = /^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/;
/** Absolute container paths we are willing to write unquoted (WORKDIR, mount targets). */
export const ABS_PATH_RE = /^\/[A-Za-z0-9._@+\-/]*$/;
/** `USER` / `--chown`: a name or number, optionally `:group`. */
export const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;
/** ENV names. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MOUNT_ID_RE = /^[A-Za-z0-9_.-]+$/;
const LABEL_KEY_RE = /^[a-z0-9][a-z0-9._-]*$/;
// A comment that looks like `# key=value` on line 1 would be read as a parser directive.
const DIRECTIVE_LIKE_RE = /^\s*[A-Za-z][A-Za-z0-9]*\s*=/;
// Characters that the builder's variable expansion or escape handling would change.
const COPY_PATH_FORBIDDEN_RE = /[$\\\u0000-\u001f\u007f-\u009f]/;

function unsafe(message: string): never {
  throw new GatehouseError('GH_DOCKERFILE_UNSAFE', `cannot write Dockerfile safely: ${message}`);
}

function check(value: string, re: RegExp, what: string): string {
  if (!re.test(value)) unsafe(`${what} ${JSON.stringify(value)} does not match ${re}`);
  return value;
}

/** True when the string holds an unpaired UTF-16 surrogate (not representable in UTF-8). */
export function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/**
 * A JSON string literal in pure ASCII: quotes, backslashes, every control character and
 * every non-ASCII code unit escaped (and `<`, see below). The Dockerfile stays ASCII, so no Unicode line
 * separator (NEL, U+2028) or BOM can confuse a reader, and Go's JSON decoder restores
 * the exact string.
 */
export function jsonString(s: string): string {
  if (s.includes('\u0000')) unsafe('NUL bytes are not allowed');
  if (hasLoneSurrogate(s)) unsafe('lone UTF-16 surrogates are not allowed');
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    // `<<` would read as a heredoc to some Dockerfile parsers; JSON lets us never write it.
    else if (c === 0x3c) out += '\\u003c';
    else if (c < 0x20 || c >= 0x7f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += s[i];
  }
  return out + '"';
}

/** A JSON array of strings, as exec form and JSON-form COPY want it. */
export function jsonArray(items: string[]): string {
  return '[' + items.map(jsonString).join(', ') + ']';
}

/**
 * A double-quoted ENV/LABEL value. The builder expands `$` and treats `\` as escape
 * inside double quotes, so both are escaped, as is `"`. Line breaks cannot be escaped
 * in this position: they are refused (the emitter reports them with their config path).
 */
export function quoteEnvValue(value: string): string {
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
    unsafe('ENV/LABEL values cannot hold line breaks or control characters');
  }
  if (hasLoneSurrogate(value)) unsafe('lone UTF-16 surrogates are not allowed');
  return '"' + value.replace(/[\\"$]/g, (ch) => '\\' + ch) + '"';
}

function copyPath(p: string): string {
  if (p.length === 0 || COPY_PATH_FORBIDDEN_RE.test(p) || hasLoneSurrogate(p)) {
    unsafe(`COPY path ${JSON.stringify(p)} holds characters the builder would expand`);
  }
  return p;
}

function comment(text: string): string {
  if (!/^[\x20-\x7e\u2014]*$/.test(text)) unsafe('comments hold printable text only');
  if (DIRECTIVE_LIKE_RE.test(text)) unsafe('a comment must not look like a parser directive');
  return text.length === 0 ? '#' : `# ${text}`;
}

function mountFlag(m: Mount): string {
  const parts: string[] = [`type=${m.type}`];
  switch (m.type) {
    case 'secret':
      parts.push(`id=${check(m.id, MOUNT_ID_RE, 'secret id')}`);
      if (m.target !== undefined)
        parts.push(`target=${check(m.target, ABS_PATH_RE, 'mount target')}`);
      if (m.required !== undefined) parts.push(`required=${m.required}`);
      break;
    case 'cache':
      if (m.id !== undefined) parts.push(`id=${check(m.id, MOUNT_ID_RE, 'cache id')}`);
      parts.push(`target=${check(m.target, ABS_PATH_RE, 'mount target')}`);
      if (m.sharing !== undefined) parts.push(`sharing=${m.sharing}`);
      break;
    case 'bind':
      if (m.from !== undefined) parts.push(`from=${check(m.from, STAGE_NAME_RE, 'stage')}`);
      if (m.source !== undefined)
        parts.push(`source=${check(m.source, ABS_PATH_RE, 'mount source')}`);
      parts.push(`target=${check(m.target, ABS_PATH_RE, 'mount target')}`);
      break;
  }
  return `--mount=${parts.join(',')}`;
}

function instruction(ins: Instruction): string {
  switch (ins.kind) {
    case 'WORKDIR':
      return `WORKDIR ${check(ins.path, ABS_PATH_RE, 'WORKDIR path')}`;
    case 'COPY': {
      if (ins.sources.length === 0) unsafe('COPY needs at least one source');
      const flags: string[] = [];
      if (ins.from !== undefined) flags.push(`--from=${check(ins.from, STAGE_NAME_RE, 'stage')}`);
      if (ins.chown !== undefined) flags.push(`--chown=${check(ins.chown, USER_RE, 'user')}`);
      const args = jsonArray([...ins.sources.map(copyPath), copyPath(ins.dest)]);
      return ['COPY', ...flags, args].join(' ');
    }
    case 'RUN': {
      if (ins.argv.length === 0) unsafe('RUN needs a command');
      return ['RUN', ...ins.mounts.map(mountFlag), jsonArray(ins.argv)].join(' ');
    }
    case 'ENV':
      if (ins.vars.length === 0) unsafe('ENV needs a variable');
      return (
        'ENV ' +
        ins.vars
          .map(([k, v]) => `${check(k, ENV_NAME_RE, 'ENV name')}=${quoteEnvValue(v)}`)
          .join(' ')
      );
    case 'ARG':
      check(ins.name, ENV_NAME_RE, 'ARG name');
      return ins.default === undefined
        ? `ARG ${ins.name}`
        : `ARG ${ins.name}=${quoteEnvValue(ins.default)}`;
    case 'USER':
      return `USER ${check(ins.user, USER_RE, 'user')}`;
    case 'CMD':
      if (ins.argv.length === 0) unsafe('CMD needs a command');
      return `CMD ${jsonArray(ins.argv)}`;
    case 'EXPOSE':
      for (const p of ins.ports) {
        if (!Number.isInteger(p) || p < 1 || p > 65535) unsafe(`port ${p} is not in 1-65535`);
      }
      return `EXPOSE ${ins.ports.join(' ')}`;
    case 'LABEL':
      return (
        'LABEL ' +
        ins.labels
          .map(([k, v]) => `${check(k, LABEL_KEY_RE, 'label key')}=${quoteEnvValue(v)}`)
          .join(' ')
      );
    case 'COMMENT':
      return comment(ins.text);
  }
}

function stageLines(stage: Stage): string[] {
  const from = stage.from === 'scratch' ? 'scratch' : check(stage.from, IMAGE_REF_RE, 'image');
  return [
    ...(stage.comments ?? []).map(comment),
    `FROM ${from} AS ${check(stage.name, STAGE_NAME_RE, 'stage name')}`,
    ...stage.instructions.map(instruction),
  ];
}

/** Serialise a Dockerfile model: header comment on line 1, a blank line between stages. */
export function serializeDockerfile(model: DockerfileModel): string {
  const names = new Set<string>();
  for (const s of model.stages) {
    if (names.has(s.name)) unsafe(`duplicate stage ${s.name}`);
    names.add(s.name);
  }
  const blocks = [[comment(model.header)], ...model.stages.map(stageLines)];
  const text = blocks.map((lines) => lines.join('\n')).join('\n\n') + '\n';
  for (const line of text.split('\n')) {
    if (Buffer.byteLength(line, 'utf8') > MAX_LINE_BYTES)
      unsafe('a line exceeds the 64 KiB line limit');
  }
  return text;
}

/** What {@link printDockerfile} produces: the texts of a {@link DockerfileBuild}. */
export interface EmittedDockerfile {
  dockerfile: string;
  dockerignore: string;
  /** Command files for commands too long for a Dockerfile line, keyed by path relative to rootDir. */
  scripts: Record<string, string>;
  /**
   * The verdict stage's judge and what it judges by ({@link VERDICT_JUDGE_FILE},
   * {@link VERDICT_SPEC_FILE}), keyed by path relative to rootDir: part of the build context
   * for a plain `docker build .`.
   */
  judge: Record<string, string>;
  /** The typed model the text was serialised from. */
  model: DockerfileModel;
  /** Where the Dockerfile goes, relative to rootDir (the `path` option). */
  path: string;
}

/** The Dockerfile and `.dockerignore` texts of a build. */
export function printDockerfile(build: DockerfileBuild): EmittedDockerfile {
  return {
    path: build.path,
    dockerfile: serializeDockerfile(build.model),
    dockerignore: build.dockerignore.join('\n') + '\n',
    scripts: build.scripts,
    judge: build.judge,
    model: build.model,
  };
}

/** The files the target writes: the Dockerfile, `.dockerignore`, then generated files by path. */
export function dockerfileFiles(out: EmittedDockerfile): EmittedFile[] {
  const files: EmittedFile[] = [
    { path: out.path, contents: out.dockerfile },
    { path: '.dockerignore', contents: out.dockerignore },
  ];
  const extra = { ...out.scripts, ...out.judge };
  for (const path of Object.keys(extra).sort()) {
    files.push({ path, contents: extra[path] as string, mode: 0o644 });
  }
  return files;
}
