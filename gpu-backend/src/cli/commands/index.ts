/** The cli's commands by name. @module */
import type { Command } from '../command.js';
import { generate } from './generate.js';
import { macs } from './macs.js';
import { makeModel } from './make-model.js';
import { pull } from './pull.js';
import { split } from './split.js';
import { tokenize } from './tokenize.js';

export const commands = {
  tokenize,
  macs,
  split,
  'make-model': makeModel,
  pull,
  generate,
} satisfies Record<string, Command>;
