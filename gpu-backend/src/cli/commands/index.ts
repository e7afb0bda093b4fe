/** The cli's commands by name. @module */
import type { Command } from '../command.js';
import { pull } from './pull.js';
import { tokenize } from './tokenize.js';

export const commands = {
  tokenize,
  pull,
} satisfies Record<string, Command>;
