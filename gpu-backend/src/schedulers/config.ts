/**
 * Parsing diffusers' `scheduler_config.json`: the closed enums every scheduler shares, and `parseSchedulerConfig`,
 * which reproduces `ConfigMixin.from_config(config, **overrides)`: unknown keys are ignored, keys the source config
 * recorded in `_use_default_values` fall back to the target class's defaults, overrides win.
 * @module
 */
import { z } from 'zod';

/** What the model predicts (the shared contract). */
export { PredictionType } from '../../../shared/models.js';

/** How inference timesteps are spread over the training timesteps (Table 2 of arXiv:2305.08891). */
export const TimestepSpacing = z.enum(['leading', 'trailing', 'linspace']);
export type TimestepSpacing = z.infer<typeof TimestepSpacing>;

/** The training beta schedule. */
export const BetaSchedule = z.enum(['linear', 'scaled_linear', 'squaredcos_cap_v2']);
export type BetaSchedule = z.infer<typeof BetaSchedule>;

/** A finite or infinite number; JSON has no Infinity, so the strings "-Infinity"/"Infinity" are accepted too. */
export const ExtendedNumber = z.union([
  z.number(),
  z.literal('-Infinity').transform(() => Number.NEGATIVE_INFINITY),
  z.literal('Infinity').transform(() => Number.POSITIVE_INFINITY),
]);

/** Keys every scheduler reads for its training noise schedule (defaults are diffusers' constructor defaults). */
export const betaScheduleShape = {
  num_train_timesteps: z.number().int().min(2).default(1000),
  beta_start: z.number().positive().default(0.0001),
  beta_end: z.number().positive().default(0.02),
  beta_schedule: BetaSchedule.default('linear'),
  trained_betas: z.array(z.number()).nullable().default(null),
};

/** Error for a scheduler config that is malformed or asks for something this implementation does not support. */
export class SchedulerConfigError extends Error {
  override readonly name = 'SchedulerConfigError';
}

/**
 * Parses a diffusers scheduler config object with `schema`, emulating `Cls.from_config(config, **overrides)`.
 * @param schema zod object schema of the target class (unknown keys are stripped)
 * @param configJson parsed JSON of `scheduler_config.json` (any scheduler class)
 * @param overrides values forced over the config (e.g. `{ use_karras_sigmas: true }`)
 * @throws SchedulerConfigError naming every invalid key
 */
export function parseSchedulerConfig<S extends z.ZodType>(
  schema: S,
  className: string,
  configJson: unknown,
  overrides: Record<string, unknown> = {},
): z.infer<S> {
  if (typeof configJson !== 'object' || configJson === null || Array.isArray(configJson)) {
    throw new SchedulerConfigError(`${className}: scheduler config must be a JSON object`);
  }
  const source = configJson as Record<string, unknown>;
  const usedDefaults = Array.isArray(source['_use_default_values']) ? source['_use_default_values'] : [];
  const input: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('_') || usedDefaults.includes(key)) continue;
    input[key] = value;
  }
  Object.assign(input, overrides);
  const result = schema.safeParse(input);
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new SchedulerConfigError(`${className}: unsupported scheduler config: ${detail}`);
  }
  return result.data;
}

/**
 * Parses the text of a `scheduler_config.json` as diffusers writes it: Python's `json.dump` emits bare
 * `Infinity`, `-Infinity` and `NaN` (e.g. `lambda_min_clipped`), which `JSON.parse` rejects. Those tokens
 * (outside strings) become the strings `"Infinity"`, `"-Infinity"`, `"NaN"`, which the schemas accept where a
 * non-finite value is meaningful.
 * @throws SyntaxError for text that is not JSON after that substitution
 */
export function parseSchedulerConfigText(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const rest = text.slice(i, i + 9);
    const token = rest.startsWith('-Infinity')
      ? '-Infinity'
      : rest.startsWith('Infinity')
        ? 'Infinity'
        : rest.startsWith('NaN')
          ? 'NaN'
          : null;
    if (token !== null) {
      out += `"${token}"`;
      i += token.length;
      continue;
    }
    out += ch;
    i += 1;
  }
  return JSON.parse(out);
}
