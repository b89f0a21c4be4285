/**
 * Reads the Engine API build stream: JSON lines, where BuildKit's progress arrives as
 * `moby.buildkit.trace` aux messages (base64 protobuf `StatusResponse`, the proto file
 * ships with dockerode). Vertex names carry the stage, e.g. `[gate-lint 2/3] RUN …`,
 * which is how progress is attributed to gates.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type protobuf from 'protobufjs';

const require = createRequire(import.meta.url);
let statusType: protobuf.Type | null = null;

function StatusResponse(): protobuf.Type {
  if (!statusType) {
    const proto = join(
      dirname(require.resolve('dockerode/package.json')),
      'lib',
      'proto',
      'buildkit_status.proto',
    );
    // Loaded on first use: the CLI imports this plugin for every command.
    const pb = require('protobufjs') as typeof protobuf;
    statusType = pb.loadSync(proto).lookupType('moby.buildkit.v1.StatusResponse');
  }
  return statusType;
}

interface Timestamp {
  seconds?: number | string;
  nanos?: number;
}
/** A decoded BuildKit vertex (one build step). */
export interface Vertex {
  digest: string;
  name: string;
  cached: boolean;
  started: Date | null;
  completed: Date | null;
  error: string;
}
interface DecodedStatus {
  vertexes?: Array<{
    digest?: string;
    name?: string;
    cached?: boolean;
    started?: Timestamp;
    completed?: Timestamp;
    error?: string;
  }>;
  logs?: Array<{ vertex?: string; stream?: number | string; msg?: Uint8Array }>;
}

function toDate(ts: Timestamp | undefined): Date | null {
  if (!ts || ts.seconds === undefined) return null;
  return new Date(Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

/** Decodes one `moby.buildkit.trace` aux payload. */
export function decodeTrace(aux: string): DecodedStatus {
  const type = StatusResponse();
  return type.toObject(type.decode(Buffer.from(aux, 'base64')), {
    longs: String,
    bytes: Buffer,
    defaults: false,
  }) as DecodedStatus;
}

/** `[gate-lint 2/3] RUN …` → `{ stage: 'gate-lint', instruction: 'RUN …' }`. */
export function parseVertexName(name: string): { stage: string | null; instruction: string } {
  const m = /^\[\s*([^\s\]]+)?\s*\d+\/\d+\]\s+(.*)$/s.exec(name);
  if (!m) return { stage: null, instruction: name };
  return { stage: m[1] ?? null, instruction: m[2] ?? '' };
}

/** What a build stream told us, accumulated. */
export interface BuildOutcome {
  /** The `error` line a failed build ends with (the stream itself ends normally). */
  error: string | null;
  imageId: string | null;
  vertexes: Map<string, Vertex>;
}

/** Callbacks for the interesting moments of a build. */
export interface ProgressHandlers {
  /** First non-cached step of a stage started. */
  stageStart?(stage: string, at: Date): void;
  /** A step of a stage printed something (BuildKit's own log of the step). */
  stageLog?(stage: string, stream: 'stdout' | 'stderr', text: string): void;
  /** A step failed. */
  stepError?(stage: string | null, name: string, error: string): void;
}

/** Folds build-stream lines into a {@link BuildOutcome}, calling handlers as things happen. */
export class BuildProgress {
  readonly outcome: BuildOutcome = { error: null, imageId: null, vertexes: new Map() };
  private readonly startedStages = new Set<string>();
  /** Last bytes each step printed, by vertex digest: a failed step's reason. */
  private readonly logTails = new Map<string, string>();
  private buffer = '';

  constructor(private readonly handlers: ProgressHandlers = {}) {}

  /** Feed raw bytes from the stream (lines may be split across chunks). */
  write(chunk: Buffer | string): void {
    this.buffer += chunk.toString();
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.line(line);
    }
  }

  /** Flush what is left when the stream ends. */
  end(): BuildOutcome {
    const rest = this.buffer.trim();
    this.buffer = '';
    if (rest) this.line(rest);
    return this.outcome;
  }

  private line(line: string): void {
    let msg: { id?: string; aux?: unknown; error?: string; errorDetail?: { message?: string } };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.error !== undefined || msg.errorDetail !== undefined) {
      this.outcome.error = msg.errorDetail?.message ?? msg.error ?? 'build failed';
      return;
    }
    if (msg.id === 'moby.image.id' && msg.aux && typeof msg.aux === 'object') {
      this.outcome.imageId = (msg.aux as { ID?: string }).ID ?? null;
      return;
    }
    if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string')
      this.trace(decodeTrace(msg.aux));
  }

  private trace(status: DecodedStatus): void {
    for (const v of status.vertexes ?? []) {
      if (!v.digest) continue;
      const prev = this.outcome.vertexes.get(v.digest);
      const vertex: Vertex = {
        digest: v.digest,
        name: v.name || prev?.name || '',
        cached: Boolean(v.cached) || Boolean(prev?.cached),
        started: toDate(v.started) ?? prev?.started ?? null,
        completed: toDate(v.completed) ?? prev?.completed ?? null,
        error: v.error || prev?.error || '',
      };
      this.outcome.vertexes.set(v.digest, vertex);
      const { stage } = parseVertexName(vertex.name);
      if (stage && vertex.started && !vertex.cached && !this.startedStages.has(stage)) {
        this.startedStages.add(stage);
        this.handlers.stageStart?.(stage, vertex.started);
      }
      if (vertex.error && !prev?.error) this.handlers.stepError?.(stage, vertex.name, vertex.error);
    }
    for (const log of status.logs ?? []) {
      const vertex = log.vertex ? this.outcome.vertexes.get(log.vertex) : undefined;
      const stage = vertex ? parseVertexName(vertex.name).stage : null;
      if (log.vertex && log.msg) {
        const tail = (this.logTails.get(log.vertex) ?? '') + Buffer.from(log.msg).toString('utf8');
        this.logTails.set(log.vertex, tail.slice(-2048));
      }
      if (stage && log.msg)
        this.handlers.stageLog?.(
          stage,
          Number(log.stream) === 2 ? 'stderr' : 'stdout',
          Buffer.from(log.msg).toString('utf8'),
        );
    }
  }

  /**
   * The first failed step, summarised for people: its stage, BuildKit's short error
   * (e.g. `exit code: 7`, without the step's whole command line) and the end of its output.
   */
  failure(): { stage: string | null; error: string; output: string } | null {
    for (const v of this.outcome.vertexes.values()) {
      if (!v.error) continue;
      const m = /^executor failed running \[[\s\S]*\]: ([^\]]+)$/.exec(v.error);
      const output = (this.logTails.get(v.digest) ?? '').trim().split('\n').slice(-5).join('\n');
      return { stage: parseVertexName(v.name).stage, error: m?.[1] ?? v.error, output };
    }
    return null;
  }

  /** Milliseconds from the first step of a stage starting to its last step completing (0 if unknown). */
  stageDurationMs(stage: string): number {
    const span = this.stageSpan(stage);
    return span ? span.completed.getTime() - span.started.getTime() : 0;
  }

  /** When the first step of a stage started and its last step completed; null if unknown. */
  stageSpan(stage: string): { started: Date; completed: Date } | null {
    let first = Infinity;
    let last = -Infinity;
    for (const v of this.outcome.vertexes.values()) {
      if (parseVertexName(v.name).stage !== stage || !v.started || !v.completed) continue;
      first = Math.min(first, v.started.getTime());
      last = Math.max(last, v.completed.getTime());
    }
    return last >= first ? { started: new Date(first), completed: new Date(last) } : null;
  }

  /**
   * How a stage's `RUN` steps went: `ran` when at least one executed now, `cached` when
   * every one came from the build cache, `absent` when the stream never mentioned one.
   */
  stageRuns(
    stage: string,
    steps: 'run' | 'all' = 'run',
  ): { state: 'ran' | 'cached' | 'absent'; digest: string | null } {
    let seen = false;
    let ran = false;
    let digest: string | null = null;
    for (const v of this.outcome.vertexes.values()) {
      const p = parseVertexName(v.name);
      if (p.stage !== stage || (steps === 'run' && !p.instruction.startsWith('RUN'))) continue;
      seen = true;
      digest = v.digest;
      if (!v.cached) ran = true;
    }
    return { state: !seen ? 'absent' : ran ? 'ran' : 'cached', digest };
  }
}
