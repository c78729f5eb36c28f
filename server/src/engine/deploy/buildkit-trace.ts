// BuildKit's build progress as the Engine API streams it: JSON lines `{"id":"moby.buildkit.trace","aux":"<base64>"}`
// whose payload is a protobuf `moby.buildkit.v1.StatusResponse` (buildkit's api/services/control/control.proto).
// Decoded here into what a classic build's `stream` lines gave: the step running, its output line by line, and the
// step that failed with everything it printed.
import { Root } from 'protobufjs/light'; // protobuf decoding from a descriptor; no generated code, no .proto parser

/** The few messages of control.proto the trace uses (fields Kyozo does not read are skipped by number). */
const CONTROL_PROTO = {
  nested: {
    moby: {
      nested: {
        buildkit: {
          nested: {
            v1: {
              nested: {
                Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
                StatusResponse: {
                  fields: {
                    vertexes: { rule: 'repeated', type: 'Vertex', id: 1 },
                    statuses: { rule: 'repeated', type: 'VertexStatus', id: 2 },
                    logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
                    warnings: { rule: 'repeated', type: 'VertexWarning', id: 4 },
                  },
                },
                Vertex: {
                  fields: {
                    digest: { type: 'string', id: 1 },
                    inputs: { rule: 'repeated', type: 'string', id: 2 },
                    name: { type: 'string', id: 3 },
                    cached: { type: 'bool', id: 4 },
                    started: { type: 'Timestamp', id: 5 },
                    completed: { type: 'Timestamp', id: 6 },
                    error: { type: 'string', id: 7 },
                  },
                },
                VertexStatus: {
                  fields: {
                    ID: { type: 'string', id: 1 },
                    vertex: { type: 'string', id: 2 },
                    name: { type: 'string', id: 3 },
                    current: { type: 'int64', id: 4 },
                    total: { type: 'int64', id: 5 },
                  },
                },
                VertexLog: {
                  fields: {
                    vertex: { type: 'string', id: 1 },
                    timestamp: { type: 'Timestamp', id: 2 },
                    stream: { type: 'int64', id: 3 },
                    msg: { type: 'bytes', id: 4 },
                  },
                },
                VertexWarning: {
                  fields: {
                    vertex: { type: 'string', id: 1 },
                    level: { type: 'int64', id: 2 },
                    short: { type: 'bytes', id: 3 },
                    detail: { rule: 'repeated', type: 'bytes', id: 4 },
                    url: { type: 'string', id: 5 },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

const StatusResponse = Root.fromJSON(CONTROL_PROTO).lookupType('moby.buildkit.v1.StatusResponse');

export interface TraceVertex {
  digest: string;
  /** `[build 3/7] RUN npm ci`, `[internal] load metadata for docker.io/library/node:20-slim`, ... */
  name: string;
  cached: boolean;
  started: boolean;
  completed: boolean;
  error?: string;
}

export interface TraceLog {
  vertex: string;
  /** 1 stdout, 2 stderr. */
  stream: number;
  text: string;
}

export interface TraceStatus {
  vertexes: TraceVertex[];
  /** Sub-tasks of a vertex: `exporting layers`, `naming to docker.io/...`, a layer being extracted. */
  statuses: { vertex: string; name: string }[];
  logs: TraceLog[];
  warnings: { vertex: string; text: string }[];
}

/** One `moby.buildkit.trace` payload; a payload that is not a StatusResponse is an error saying so. */
export function decodeTrace(aux: string): TraceStatus {
  let raw: Record<string, unknown>;
  try {
    raw = StatusResponse.toObject(StatusResponse.decode(Buffer.from(aux, 'base64')), {
      longs: Number,
      defaults: false,
    });
  } catch (err) {
    throw new Error(`the engine sent a BuildKit progress record Kyozo cannot decode (${(err as Error).message})`, {
      cause: err,
    });
  }
  const list = (k: string) => (Array.isArray(raw[k]) ? (raw[k] as Record<string, unknown>[]) : []);
  const text = (v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : '');
  return {
    vertexes: list('vertexes').map((v) => ({
      digest: String(v.digest ?? ''),
      name: String(v.name ?? ''),
      cached: v.cached === true,
      started: v.started !== undefined,
      completed: v.completed !== undefined,
      ...(typeof v.error === 'string' && v.error ? { error: v.error } : {}),
    })),
    statuses: list('statuses').map((s) => ({ vertex: String(s.vertex ?? ''), name: String(s.name ?? s.ID ?? '') })),
    logs: list('logs').map((l) => ({
      vertex: String(l.vertex ?? ''),
      stream: Number(l.stream ?? 1),
      text: text(l.msg),
    })),
    warnings: list('warnings').map((w) => ({ vertex: String(w.vertex ?? ''), text: text(w.short) })),
  };
}

/** Whether a build-stream event is a BuildKit trace record. */
export function isTraceEvent<T extends { id?: string; aux?: unknown }>(event: T): event is T & { aux: string } {
  return event.id === 'moby.buildkit.trace' && typeof event.aux === 'string';
}

interface VertexState {
  name: string;
  announced: boolean;
  done: boolean;
  /** Output not yet ended by a newline. */
  partial: string;
  lines: string[];
  error?: string;
}

/**
 * Follows a build's trace records and turns them into lines: each step's name when it starts (`(cached)` when
 * BuildKit reused it), then its output line by line (a line split over records is joined), warnings, and the step
 * that failed. Steps of parallel stages are named again when their output interleaves.
 */
export class BuildkitProgress {
  private readonly vertexes = new Map<string, VertexState>();
  private lastSpeaker: string | undefined;
  /** Every line shown, in order. */
  readonly lines: string[] = [];

  constructor(private readonly onLine: (line: string) => void = () => undefined) {}

  /** Feeds one decoded record. */
  update(status: TraceStatus): void {
    for (const v of status.vertexes) {
      const state = this.vertex(v.digest, v.name);
      // Loading the context and the base image's metadata are named only when they fail.
      if (/^\[internal\] |^copy \/context \/$/.test(state.name)) state.announced ||= v.started;
      else if (v.cached && !state.announced) {
        state.announced = true;
        this.emit(`${state.name} (cached)`);
      } else if (v.started && !state.announced && !v.cached) {
        state.announced = true;
        this.emit(state.name);
        this.lastSpeaker = v.digest;
      }
      if (v.completed && !state.done) {
        state.done = true;
        this.flush(v.digest, state);
      }
      if (v.error && !state.error) {
        state.error = v.error;
        this.flush(v.digest, state);
        this.emit(`ERROR: ${v.error}`);
      }
    }
    for (const log of status.logs) {
      const state = this.vertex(log.vertex);
      const parts = (state.partial + log.text).split('\n');
      state.partial = parts.pop() ?? '';
      for (const line of parts) this.output(log.vertex, state, line);
    }
    for (const w of status.warnings) if (w.text.trim()) this.emit(`WARNING: ${w.text.trim()}`);
  }

  /** The step that failed: the first with an error of its own (steps cancelled because of it say `canceled`). */
  failedStep(): { name: string; error: string; output: string[] } | undefined {
    const failed = [...this.vertexes.values()].filter((v) => v.error);
    const own = failed.find((v) => !/\bcancel(l)?ed\b/i.test(v.error!)) ?? failed[0];
    if (!own) return undefined;
    return { name: own.name, error: own.error!, output: [...own.lines, ...(own.partial ? [own.partial] : [])] };
  }

  /** The step whose output came last, while nothing failed: where an interrupted build was. */
  currentStep(): string | undefined {
    return this.lastSpeaker ? this.vertexes.get(this.lastSpeaker)?.name : undefined;
  }

  private vertex(digest: string, name?: string): VertexState {
    let state = this.vertexes.get(digest);
    if (!state) {
      state = { name: name || digest, announced: false, done: false, partial: '', lines: [] };
      this.vertexes.set(digest, state);
    } else if (name && state.name === digest) state.name = name;
    return state;
  }

  private flush(digest: string, state: VertexState): void {
    if (!state.partial) return;
    const line = state.partial;
    state.partial = '';
    this.output(digest, state, line);
  }

  private output(digest: string, state: VertexState, raw: string): void {
    // A progress bar redraws its line with carriage returns: what stays on screen is the text after the last one.
    const line = raw.replace(/\r$/, '').split('\r').pop()!.trimEnd();
    if (!line) return;
    if (this.lastSpeaker !== digest) {
      this.lastSpeaker = digest;
      if (state.announced) this.emit(state.name);
    }
    state.lines.push(line);
    this.emit(line);
  }

  private emit(line: string): void {
    this.lines.push(line);
    this.onLine(line);
  }
}
