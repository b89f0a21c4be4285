// @ts-check
/**
 * Finding and stopping the processes of a gate. Shared by the runner (`proc.ts`, `lock.ts`) and
 * by the gate supervisor (`gate-supervisor.mjs`), which Node runs as a plain script: so this is
 * JavaScript (type-checked) and imports only Node's built-ins.
 *
 * A gate's processes are found three ways, because each alone misses some:
 *
 * - the marker: every process of a gate inherits `GATEHOUSE_GATE_TOKEN=<run token>.<nonce>`.
 *   The kernel keeps it in `/proc/<pid>/environ` across `setsid`, double forks and reparenting,
 *   which is how daemons leave a process group;
 * - the gate's process group (a process that cleared its environment but stayed in the group);
 * - descendants, by parent pid, of any process found (one that cleared its environment and left
 *   the group, while its parent lives).
 *
 * A process that clears its environment, leaves the group and outlives its parent escapes all
 * three: only a container (the Docker executor) contains a gate that hides on purpose.
 */
import { Buffer } from 'node:buffer';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout } from 'node:timers';

/** The variable that marks every process of a gate. */
export const MARKER_VAR = 'GATEHOUSE_GATE_TOKEN';

/**
 * @typedef {object} TreeQuery
 * @property {string} [marker] processes whose environment holds exactly `GATEHOUSE_GATE_TOKEN=<marker>`
 * @property {string} [runToken] processes of any gate of that run (`GATEHOUSE_GATE_TOKEN=<runToken>.…`)
 * @property {number} [pgid] members of this process group
 * @property {number[]} [exclude] pids never returned (nor followed to their children)
 */

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} text the contents of `/proc/<pid>/stat` */
function statFields(text) {
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/**
 * Whether `env` (a NUL-separated environment block) holds an entry starting with `entry`;
 * with `whole`, an entry equal to it.
 * @param {Buffer} env
 * @param {Buffer} entry
 * @param {boolean} whole
 */
function hasEntry(env, entry, whole) {
  let at = env.indexOf(entry);
  while (at !== -1) {
    const starts = at === 0 || env[at - 1] === 0;
    const end = at + entry.length;
    if (starts && (!whole || end === env.length || env[end] === 0)) return true;
    at = env.indexOf(entry, at + 1);
  }
  return false;
}

/**
 * Live (not zombie) processes that match the query, plus all their descendants. Never this
 * process. `null` when `/proc` cannot be read (then only the process group can be signalled).
 * @param {TreeQuery} query
 * @returns {number[] | null}
 */
export function findTree(query) {
  const found = scanTree(query);
  return found === null ? null : [...found.keys()];
}

/**
 * {@link findTree}, with each process's start time (so a pid reused later is not taken for it).
 * @param {TreeQuery} query
 * @returns {Map<number, string> | null}
 */
function scanTree(query) {
  let names;
  try {
    names = readdirSync('/proc');
  } catch {
    return null;
  }
  const exclude = new Set(query.exclude ?? []);
  exclude.add(process.pid);
  const entry =
    query.marker !== undefined
      ? Buffer.from(`${MARKER_VAR}=${query.marker}`)
      : query.runToken !== undefined
        ? Buffer.from(`${MARKER_VAR}=${query.runToken}.`)
        : null;
  /** @type {Map<number, { ppid: number, start: string }>} */
  const procs = new Map();
  /** @type {Set<number>} */
  const found = new Set();
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let fields;
    try {
      fields = statFields(readFileSync(`/proc/${name}/stat`, 'utf8'));
    } catch {
      continue;
    }
    if (fields[0] === 'Z' || fields[0] === 'X') continue;
    procs.set(pid, { ppid: Number(fields[1]), start: fields[19] ?? '' });
    if (exclude.has(pid)) continue;
    if (query.pgid !== undefined && Number(fields[2]) === query.pgid) {
      found.add(pid);
      continue;
    }
    if (entry === null) continue;
    let env;
    try {
      env = readFileSync(`/proc/${name}/environ`);
    } catch {
      continue; // gone, or another user's process
    }
    if (hasEntry(env, entry, query.marker !== undefined)) found.add(pid);
  }
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, { ppid }] of procs) {
      if (!found.has(pid) && !exclude.has(pid) && found.has(ppid)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  return new Map([...found].map((pid) => [pid, procs.get(pid)?.start ?? '']));
}

/**
 * The start time of live process `pid` (`/proc/<pid>/stat` field 22), or null when it is gone
 * or a zombie.
 * @param {number} pid
 */
function processStart(pid) {
  try {
    const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return fields[0] === 'Z' || fields[0] === 'X' ? null : (fields[19] ?? '');
  } catch {
    return null;
  }
}

/**
 * @param {number[]} pids
 * @param {NodeJS.Signals} signal
 */
function signalEach(pids, signal) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already, or not ours.
    }
  }
}

/**
 * @param {number} pgid
 * @param {NodeJS.Signals | 0} signal
 * @returns {boolean} whether the group exists
 */
function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return /** @type {NodeJS.ErrnoException} */ (err).code === 'EPERM';
  }
}

/**
 * Stop every process the query finds: `SIGTERM`, up to `graceMs` for them to end, then
 * `SIGKILL` until none is left (new ones a dying process started included). A process found
 * once stays targeted, even after it loses the link it was found by (its parent died first).
 * Resolves when none is left, or after about two seconds of `SIGKILL` rounds. Without `/proc`,
 * only the process group is stopped.
 * @param {TreeQuery} query
 * @param {number} graceMs
 */
export async function terminateTree(query, graceMs) {
  /** @type {Map<number, string>} every process found so far → its start time */
  const known = new Map();
  const scan = () => {
    const found = scanTree(query);
    for (const [pid, start] of found ?? []) known.set(pid, start);
    return found;
  };
  const live = () =>
    [...known].filter(([pid, start]) => processStart(pid) === start).map(([pid]) => pid);
  const first = scan();
  if (first === null) {
    if (query.pgid !== undefined) await terminateGroup(query.pgid, graceMs);
    return;
  }
  if (first.size === 0) return;
  signalEach([...first.keys()], 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    if (live().length > 0) continue;
    // What was signalled is gone; anything it started meanwhile gets its TERM too.
    const again = scan() ?? new Map();
    if (again.size === 0) return;
    signalEach([...again.keys()], 'SIGTERM');
  }
  for (let round = 0; round < 80; round++) {
    scan();
    const left = live();
    if (left.length === 0) return;
    signalEach(left, 'SIGKILL');
    await sleep(25);
  }
}

/**
 * `SIGTERM` the process group, wait up to `graceMs` for it to empty, then `SIGKILL` it.
 * @param {number} pgid
 * @param {number} graceMs
 */
async function terminateGroup(pgid, graceMs) {
  if (!signalGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(25, Math.max(1, deadline - Date.now())));
    if (!signalGroup(pgid, 0)) return;
  }
  signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 40 && signalGroup(pgid, 0); i++) await sleep(25);
}
