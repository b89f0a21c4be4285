/**
 * Progress renderers for `gatehouse run`: a live table on a terminal, timestamped lines
 * elsewhere (CI, pipes), JSON lines with `--json`.
 */
import type { GateResult, RunEvent } from '@gatehouse-ci/core';
import { colorEnabled, painter, type Color, type Paint } from '../color.js';
import { clock, describeEnd, formatElapsed, SYMBOL } from './format.js';

/** Receives run events; `close()` stops timers and leaves the output tidy. */
export interface ProgressRenderer {
  readonly kind: 'json' | 'lines' | 'table';
  onEvent(e: RunEvent): void;
  /** Print a line that is not an event (e.g. explain output), without breaking the display. */
  note(line: string): void;
  close(): void;
}

type Out = NodeJS.WritableStream & { columns?: number };

/** `--json`: one JSON object per line, events as they come. */
export function jsonRenderer(out: Out): ProgressRenderer {
  return {
    kind: 'json',
    onEvent: (e) => out.write(`${JSON.stringify(e)}\n`),
    note: (line) =>
      out.write(`${JSON.stringify({ type: 'note', at: new Date().toISOString(), text: line })}\n`),
    close: () => undefined,
  };
}

/** How often plain lines say what is still running, when nothing else was printed meanwhile. */
export const HEARTBEAT_MS = 60_000;

/**
 * Non-TTY or CI: plain timestamped lines, the status symbols coloured when `paint` colours.
 * While setup or a gate runs and `heartbeatMs` passed without a line, one line says what is
 * still running and for how long, so a long or hung step is never silent in a CI log.
 */
export function lineRenderer(
  out: Out,
  paint: Paint = painter(false),
  heartbeatMs = HEARTBEAT_MS,
): ProgressRenderer {
  let lastLine = Date.now();
  const w = (at: string, text: string) => {
    lastLine = Date.now();
    out.write(`${clock(at)} ${text}\n`);
  };
  const symbol = (status: string, text: string) => {
    const color = STATUS_COLOR[status];
    return color ? paint(color, text) : text;
  };
  // What runs, and since when (ms): setup under its own name, gates by id.
  const running = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  const stop = () => {
    if (timer) clearInterval(timer);
    timer = null;
  };
  const beat = () => {
    const now = Date.now();
    if (running.size === 0 || now - lastLine < heartbeatMs) return;
    const what = [...running].map(([name, since]) => `${name} ${formatElapsed(now - since)}`);
    w(new Date(now).toISOString(), `… still running: ${what.join(', ')}`);
  };
  const started = (name: string, at: string) => {
    running.set(name, Number.isNaN(Date.parse(at)) ? Date.now() : Date.parse(at));
    if (!timer && heartbeatMs > 0) {
      // A fraction of the interval, so a quiet stretch is reported close to when it reaches it.
      timer = setInterval(beat, Math.max(10, Math.floor(heartbeatMs / 4)));
      timer.unref();
    }
  };
  return {
    kind: 'lines',
    onEvent(e) {
      switch (e.type) {
        case 'run-start':
          w(
            e.at,
            `▶ run of ${e.gates.length} gate${e.gates.length === 1 ? '' : 's'}: ${e.gates.join(', ')}`,
          );
          break;
        case 'setup-start':
          started('setup', e.at);
          w(e.at, '▶ setup started');
          break;
        case 'setup-end':
          running.delete('setup');
          w(
            e.at,
            e.cached
              ? '↺ setup unchanged, skipped'
              : `${e.ok ? symbol('passed', SYMBOL.passed!) : symbol('failed', SYMBOL.failed!)} setup ${e.ok ? 'done' : 'failed'} ${formatElapsed(e.durationMs)}`,
          );
          break;
        case 'gate-start':
          // Gates start after setup: the Docker executor says setup ended only with the build.
          running.delete('setup');
          started(e.id, e.at);
          w(e.at, `${paint('blue', '▶')} ${e.id} started`);
          break;
        case 'gate-end': {
          running.delete(e.id);
          const [first, ...rest] = describeEnd(e.result).split(' ');
          w(e.at, [symbol(e.result.status, first!), ...rest].join(' '));
          break;
        }
        case 'message':
          w(e.at, `${e.level === 'info' ? 'ℹ' : '⚠'} ${e.text}`);
          break;
        case 'run-end':
          running.clear();
          stop();
          break;
        default:
          break;
      }
    },
    note: (line) => {
      lastLine = Date.now();
      out.write(`${line}\n`);
    },
    close: stop,
  };
}

interface Row {
  id: string;
  state: 'waiting' | 'running' | 'done';
  startedMs: number | null;
  result: GateResult | null;
}

const ESC = '\x1b[';
/** The colour of each final status. */
export const STATUS_COLOR: Record<string, Color> = {
  passed: 'green',
  cached: 'cyan',
  failed: 'red',
  error: 'red',
  timeout: 'yellow',
  interrupted: 'yellow',
  skipped: 'gray',
};

/**
 * A terminal: a table redrawn in place at most 10 times a second. Cursor movement is not
 * colour: with `paint` off (`NO_COLOR`), the table still redraws, in plain text.
 */
export function ttyRenderer(
  out: Out,
  intervalMs = 100,
  paint: Paint = painter(true),
): ProgressRenderer {
  const rows = new Map<string, Row>();
  let setup: string | null = null;
  let setupSince: number | null = null;
  let drawn = 0;
  let dirty = false;
  let timer: NodeJS.Timeout | null = null;

  const line = (r: Row): string => {
    const width = Math.max(...[...rows.keys()].map((k) => k.length), 4);
    const id = r.id.padEnd(width);
    if (r.state === 'waiting') return `  ${paint('gray', `· ${id}  waiting`)}`;
    if (r.state === 'running')
      return `  ${paint('blue', '▶')} ${id}  running  ${formatElapsed(Date.now() - (r.startedMs ?? Date.now()))}`;
    const res = r.result!;
    const how = res.status === 'cached' ? `cached (${res.cached?.status ?? '?'})` : res.status;
    const time =
      res.status === 'cached' || res.status === 'skipped'
        ? ''
        : `  ${formatElapsed(res.durationMs)}`;
    const symbol = SYMBOL[res.status] ?? '?';
    const color = STATUS_COLOR[res.status];
    return `  ${color ? paint(color, symbol) : symbol} ${id}  ${how}${time}${res.status === 'skipped' && res.reason ? `  ${paint('gray', res.reason)}` : ''}`;
  };
  const clear = () => {
    if (drawn > 0) out.write(`${ESC}${drawn}A${ESC}0J`);
    drawn = 0;
  };
  const draw = () => {
    const cols = out.columns || 120;
    const setupLine =
      setup && setupSince !== null ? `${setup}  ${formatElapsed(Date.now() - setupSince)}` : setup;
    const lines = [...(setupLine ? [`  ${setupLine}`] : []), ...[...rows.values()].map(line)].map(
      (l) => truncate(l, cols),
    );
    clear();
    if (lines.length) out.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
    dirty = false;
  };
  const tick = () => {
    if (dirty || [...rows.values()].some((r) => r.state === 'running') || setup?.startsWith('▶'))
      draw();
  };
  return {
    kind: 'table',
    onEvent(e) {
      switch (e.type) {
        case 'run-start':
          for (const id of e.gates)
            rows.set(id, { id, state: 'waiting', startedMs: null, result: null });
          out.write(`${ESC}?25l`);
          timer = setInterval(tick, intervalMs);
          break;
        case 'setup-start':
          setup = '▶ setup running';
          setupSince = Number.isNaN(Date.parse(e.at)) ? Date.now() : Date.parse(e.at);
          break;
        case 'setup-end':
          setupSince = null;
          setup = e.cached
            ? '↺ setup unchanged'
            : `${e.ok ? SYMBOL.passed : SYMBOL.failed} setup ${e.ok ? 'done' : 'failed'} ${formatElapsed(e.durationMs)}`;
          break;
        case 'gate-start': {
          const r = rows.get(e.id);
          if (r) Object.assign(r, { state: 'running', startedMs: Date.parse(e.at) });
          break;
        }
        case 'gate-end': {
          const r = rows.get(e.id) ?? { id: e.id, state: 'done', startedMs: null, result: null };
          Object.assign(r, { state: 'done', result: e.result });
          rows.set(e.id, r);
          break;
        }
        case 'message':
          clear();
          out.write(`${e.level === 'info' ? 'ℹ' : '⚠'} ${e.text}\n`);
          break;
        case 'run-end':
          draw();
          return;
        default:
          return;
      }
      dirty = true;
    },
    note(l) {
      clear();
      out.write(`${l}\n`);
      dirty = true;
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      if (dirty) draw();
      out.write(`${ESC}?25h`);
    },
  };
}

function truncate(s: string, cols: number): string {
  // Escape sequences take no columns; count only visible characters.
  let visible = 0;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\x1b') {
      const m = /^\x1b\[[0-9;?]*[A-Za-z]/.exec(s.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length - 1;
        continue;
      }
    }
    if (visible >= cols - 1) break;
    out += s[i];
    visible++;
  }
  return out;
}

/**
 * Pick the renderer: JSON when asked, a live table on a terminal outside CI, lines otherwise;
 * coloured as {@link colorEnabled} decides (`NO_COLOR`, `FORCE_COLOR`).
 */
export function chooseRenderer(
  out: Out & { isTTY?: boolean },
  opts: { json: boolean; env: Record<string, string | undefined> },
): ProgressRenderer {
  if (opts.json) return jsonRenderer(out);
  const paint = painter(colorEnabled(out, opts.env));
  const ci = opts.env.CI !== undefined && opts.env.CI !== '' && opts.env.CI !== 'false';
  if (out.isTTY && !ci && opts.env.TERM !== 'dumb') return ttyRenderer(out, 100, paint);
  return lineRenderer(out, paint);
}
