/**
 * Whether the CLI's output is coloured, from the stream and the environment, and the
 * SGR sequences it uses. The conventions are those of no-color.org and of Node itself
 * (`tty.WriteStream#getColorDepth`): `FORCE_COLOR` decides when it is set, else a
 * non-empty `NO_COLOR` turns colour off, else a terminal that is not `TERM=dumb` gets it.
 */

/** The colours the CLI writes, as SGR parameters. */
const SGR = {
  red: '31',
  green: '32',
  yellow: '33',
  blue: '34',
  cyan: '36',
  gray: '90',
} as const;

/** A colour name of {@link SGR}. */
export type Color = keyof typeof SGR;

/** Paints text in a colour, or returns it unchanged when colour is off. */
export type Paint = (color: Color, text: string) => string;

/**
 * True when output to `stream` should be coloured:
 * - `FORCE_COLOR` set: `0` or `false` turn colour off; any other value, empty included
 *   (`1`, `2`, `3`, `true`), turns it on, even when the output is piped;
 * - else `NO_COLOR` set to anything but the empty string turns it off, even on a terminal;
 * - else colour when `stream` is a terminal and `TERM` is not `dumb`.
 */
export function colorEnabled(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined>,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** A {@link Paint} that colours when `enabled`, and leaves text alone otherwise. */
export function painter(enabled: boolean): Paint {
  return enabled ? (color, text) => `\x1b[${SGR[color]}m${text}\x1b[0m` : (_color, text) => text;
}
