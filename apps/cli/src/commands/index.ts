import type { Command } from '../command.js';

/** Every command, in the order `gatehouse --help` lists them. */
export const commands: Command[] = [];
