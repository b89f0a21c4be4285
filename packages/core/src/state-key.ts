/**
 * The secret that authenticates what Gatehouse replays from `.gatehouse/` (the config cache,
 * the gate cache, the last setup, the ledger's head pointer).
 *
 * Anything under `.gatehouse/` can be written by whoever can write the project: a gate, a
 * restored CI cache, a checkout. A plain checksum next to the data proves nothing, since the
 * writer can recompute it. So each such file carries an HMAC-SHA256 under a key that lives
 * outside the project tree: one random 32-byte key per user, in
 * `$XDG_STATE_HOME/gatehouse/state.key` (else `~/.local/state/gatehouse/state.key`), created
 * with mode 0600 in a 0700 directory. Each project gets its own key derived from it and the
 * project's real path, so state copied from another project does not authenticate either.
 *
 * What this does not stop: a process running as the same user can read the key file (a local
 * gate can), and then forge state. The key only keeps out writers who cannot read it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { link, mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** File name of the per-user key inside {@link stateKeyDir}. */
export const STATE_KEY_FILE = 'state.key';

const KEY_TEXT = /^([0-9a-f]{64})\n?$/;

/**
 * Where the per-user key lives: `$XDG_STATE_HOME/gatehouse` when that variable is an absolute
 * path, else `~/.local/state/gatehouse`; null when there is no home directory.
 */
export function stateKeyDir(env: Record<string, string | undefined> = process.env): string | null {
  const xdg = env.XDG_STATE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'gatehouse');
  let home = '';
  try {
    home = homedir();
  } catch {
    return null;
  }
  return home && isAbsolute(home) ? join(home, '.local', 'state', 'gatehouse') : null;
}

/** A project's key: computes and checks the MACs of its local state. */
export class StateKey {
  readonly #key: Buffer;
  /** The per-user key file it was derived from. */
  readonly file: string;

  constructor(key: Buffer, file: string) {
    this.#key = key;
    this.file = file;
  }

  /** HMAC-SHA256 (hex) of `data` for `purpose` (a fixed label, so a MAC made for one file never fits another). */
  mac(purpose: string, data: string | Uint8Array): string {
    return createHmac('sha256', this.#key).update(`${purpose}\0`).update(data).digest('hex');
  }

  /** Whether `mac` is {@link mac} of `data` for `purpose` (constant time). */
  verify(purpose: string, data: string | Uint8Array, mac: unknown): boolean {
    if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return false;
    return timingSafeEqual(Buffer.from(this.mac(purpose, data), 'hex'), Buffer.from(mac, 'hex'));
  }
}

/** A project's key, or why there is none (local state is then not trusted, never replayed). */
export type StateKeyResult = { key: StateKey; problem: null } | { key: null; problem: string };

const userKeys = new Map<string, Promise<Buffer>>();

/** Read the key file, creating it (or replacing a damaged one) without ever exposing half of it. */
async function loadUserKey(dir: string): Promise<Buffer> {
  const file = join(dir, STATE_KEY_FILE);
  for (let attempt = 0; ; attempt++) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    const m = text === null ? null : KEY_TEXT.exec(text);
    if (m) return Buffer.from(m[1]!, 'hex');
    if (attempt > 2) throw new Error(`${file} could not be created`);
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      if (text === null) {
        // Two processes creating the key at once: the first link wins, the other reads it.
        await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
        });
      } else {
        // A damaged key authenticates nothing: replace it (the old state then reruns).
        await rename(tmp, file);
      }
    } finally {
      await rm(tmp, { force: true });
    }
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The key for the project at `rootDir`, derived from the per-user key (created on first use).
 * Never throws: when the key cannot be had (no home directory, an unwritable state directory,
 * or one inside the project itself, where a gate could read and rewrite it) the result says
 * why. `dir` overrides {@link stateKeyDir}.
 */
export async function projectStateKey(
  rootDir: string,
  opts: { dir?: string } = {},
): Promise<StateKeyResult> {
  const dir = opts.dir ?? stateKeyDir();
  if (dir === null) return { key: null, problem: 'no home directory for the state key' };
  try {
    const root = await realpath(rootDir).catch(() => resolve(rootDir));
    const absDir = resolve(dir);
    const refuse = (): StateKeyResult => ({
      key: null,
      problem: `the state key directory ${absDir} is inside the project`,
    });
    if (inside(root, absDir)) return refuse();
    await mkdir(absDir, { recursive: true, mode: 0o700 });
    if (inside(root, await realpath(absDir))) return refuse();
    let user = userKeys.get(absDir);
    if (!user) {
      user = loadUserKey(absDir);
      userKeys.set(absDir, user);
      user.catch(() => userKeys.delete(absDir));
    }
    const bytes = await user;
    const derived = createHmac('sha256', bytes).update(`gatehouse project\0${root}`).digest();
    return { key: new StateKey(derived, join(absDir, STATE_KEY_FILE)), problem: null };
  } catch (err) {
    return {
      key: null,
      problem: `state key unavailable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    };
  }
}
