/**
 * The shape of a cli command: it parses its own arguments with zod and returns one JSON-serialisable result.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';

export interface CommandContext {
  /** Progress for long runs goes to stderr, never stdout (stdout carries the result). */
  progress: (line: string) => void;
}

export interface Command {
  /** One line of usage shown by `cli help`. */
  usage: string;
  run(argv: string[], ctx: CommandContext): Promise<{ json: unknown; text: string }>;
}

/** A usage error: the cli prints the message and the command's usage, exit code 2. */
export class UsageError extends Error {}

/**
 * Parses argv with node's parseArgs, then validates the values with a zod schema.
 * @throws UsageError naming every invalid option
 */
export function parseOptions<S extends z.ZodType>(
  argv: string[],
  options: ParseArgsConfig['options'],
  schema: S,
): { values: z.infer<S>; positionals: string[] } {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { json: _json, ...values } = parsed.values as Record<string, unknown>;
  const result = schema.safeParse(values);
  if (!result.success) {
    throw new UsageError(result.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
  }
  return { values: result.data, positionals: parsed.positionals };
}

/** A string option holding a number. */
export const numeric = (schema: z.ZodNumber) => z.string().transform(Number).pipe(schema);
