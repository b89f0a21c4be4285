import type { Command } from '../command.js';
import { init } from './init.js';
import { validate } from './validate.js';
import { graph } from './graph.js';
import { compile } from './compile.js';
import { check } from './check.js';

/** Every command, in the order `gatehouse --help` lists them. */
export const commands: Command[] = [init, validate, graph, compile, check];
