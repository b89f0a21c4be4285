import type { Command } from '../command.js';
import { init } from './init.js';

/** Every command, in the order `gatehouse --help` lists them. */
export const commands: Command[] = [init];
